import Crypto
import Foundation

/// One query class of a digest: every statement with the same fingerprint.
public struct QueryClass: Sendable, Codable, Equatable {
    /// pt-query-digest's checksum: the uppercase hex MD5 of the fingerprint.
    public var queryID: String
    public var fingerprint: String
    public var count: Int
    public var queryTime: Spread
    public var lockTime: Spread
    public var rowsSent: Spread
    public var rowsExamined: Spread
    public var firstSeen: Date?
    public var lastSeen: Date?
    public var databases: [String]
    public var users: [String]
    /// The slowest statement of the class, as the log wrote it, and when it ran.
    public var example: String
    public var exampleAt: Date?

    /// Sum, average, 95th percentile and maximum of one attribute (percentile only for times).
    public struct Spread: Sendable, Codable, Equatable {
        public var sum: Double
        public var avg: Double
        public var p95: Double?
        public var max: Double

        public init(sum: Double, avg: Double, p95: Double? = nil, max: Double) {
            self.sum = sum
            self.avg = avg
            self.p95 = p95
            self.max = max
        }
    }

    enum CodingKeys: String, CodingKey {
        case queryID = "query_id", fingerprint, count, queryTime = "query_time", lockTime = "lock_time"
        case rowsSent = "rows_sent", rowsExamined = "rows_examined", firstSeen = "first_seen", lastSeen = "last_seen"
        case databases, users, example, exampleAt = "example_at"
    }

    /// The uppercase hex MD5 of `fingerprint`.
    public static func queryID(of fingerprint: some Sequence<UInt8>) -> String {
        Insecure.MD5.hash(data: Array(fingerprint)).map { String(format: "%02X", $0) }.joined()
    }
}

/// What a digest found: how many entries it read, and its classes by total time, worst first.
public struct SlowLogDigest: Sendable, Codable, Equatable {
    public var entries: Int
    public var classes: [QueryClass]

    public init(entries: Int, classes: [QueryClass]) {
        self.entries = entries
        self.classes = classes
    }
}

/// Groups slow-log entries into classes by fingerprint and keeps each class's figures in fixed memory:
/// sums and maxima, a histogram for the 95th percentile (pt-query-digest's 1.05-base buckets), up to eight
/// databases and users, and the slowest statement as the example.
public struct SlowLogDigester {
    public var since: Int64?
    public var until: Int64?
    public private(set) var entries = 0
    private var fingerprinter = QueryFingerprinter()
    private var table = FingerprintTable()
    private var classes: [Accumulator] = []

    static let bucketBase = 1.05
    static let bucketCount = 1000
    static let bucketMinimum = 0.000001
    static let logBase = log(bucketBase)
    static let exampleLimit = 8192

    struct Accumulator {
        var fingerprint: [UInt8]
        var hash: UInt64
        var count = 0
        var queryTimeSum = 0.0, queryTimeMax = 0.0, lockSum = 0.0, lockMax = 0.0
        var sentSum = 0.0, sentMax = 0.0, examinedSum = 0.0, examinedMax = 0.0
        var first: Int64?
        var last: Int64?
        var buckets = [UInt32](repeating: 0, count: SlowLogDigester.bucketCount)
        var databases: [[UInt8]] = []
        var users: [[UInt8]] = []
        var example: [UInt8] = []
        var exampleTime = -1.0
        var exampleAt: Int64?
    }

    public init(since: Int64? = nil, until: Int64? = nil) {
        self.since = since
        self.until = until
    }

    /// Counts one entry (skipped when outside `since`…`until`).
    public mutating func add(_ event: borrowing SlowLogEvent) {
        if let timestamp = event.timestamp {
            if let since, timestamp < since { return }
            if let until, timestamp > until { return }
        }
        entries += 1
        let fingerprint = fingerprinter.fingerprint(event.query)
        let hash = FingerprintTable.hash(fingerprint)
        let slot: Int
        if let known = table.find(fingerprint, hash: hash, in: classes) {
            slot = known
        } else {
            slot = classes.count
            classes.append(Accumulator(fingerprint: Array(fingerprint), hash: hash))
            table.insert(slot, hash: hash, in: classes)
        }
        classes[slot].add(event)
    }

    /// The classes by total query time, worst first (at most `limit`).
    public func digest(limit: Int? = nil) -> SlowLogDigest {
        let ranked = classes.sorted {
            $0.queryTimeSum != $1.queryTimeSum ? $0.queryTimeSum > $1.queryTimeSum : $0.count > $1.count
        }
        let kept = limit.map { Array(ranked.prefix($0)) } ?? ranked
        return SlowLogDigest(entries: entries, classes: kept.map { $0.queryClass })
    }

    /// Adds another digester's classes (of another part of the same log).
    public mutating func merge(_ other: SlowLogDigester) {
        entries += other.entries
        for theirs in other.classes {
            let found = theirs.fingerprint.withUnsafeBufferPointer { table.find($0, hash: theirs.hash, in: classes) }
            if let slot = found {
                classes[slot].merge(theirs)
            } else {
                classes.append(theirs)
                table.insert(classes.count - 1, hash: theirs.hash, in: classes)
            }
        }
    }

    /// Digests a file with one reader per part on `parts` threads (standard input: one).
    public static func digest(path: String, parts: Int, since: Int64?, until: Int64?,
                              progress: (@Sendable (Int64) -> Void)? = nil) throws -> (digester: SlowLogDigester, oversized: Int) {
        let pieces = path == "-" ? nil : SlowLogReader.parts(of: path, count: parts)
        guard let pieces, pieces.count > 1 else {
            var digester = SlowLogDigester(since: since, until: until)
            var reader = SlowLogReader()
            defer { reader.close() }
            try reader.read(path: path, progress: progress) { digester.add($0) }
            return (digester, reader.oversized)
        }
        let results = UnsafeMutableBufferPointer<Result<(SlowLogDigester, Int), any Error>?>.allocate(capacity: pieces.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: pieces.count) { k in
            slots[k] = Result {
                var digester = SlowLogDigester(since: since, until: until)
                var reader = SlowLogReader()
                defer { reader.close() }
                // Progress comes from the first part, scaled to the whole.
                let scaled: ((Int64) -> Void)? = k == 0 ? progress.map { report in { report($0 * Int64(pieces.count)) } } : nil
                try reader.read(path: path, range: pieces[k].range, inheritedDatabase: pieces[k].database, progress: scaled) {
                    digester.add($0)
                }
                return (digester, reader.oversized)
            }
        }
        var merged = SlowLogDigester(since: since, until: until)
        var oversized = 0
        for k in 0..<pieces.count {
            let (part, skipped) = try results[k]!.get()
            merged.merge(part)
            oversized += skipped
        }
        return (merged, oversized)
    }

    /// Every class so far, unranked, for merging into storage.
    public var allClasses: [QueryClass] { classes.map(\.queryClass) }
}

extension SlowLogDigester.Accumulator {
    mutating func add(_ event: borrowing SlowLogEvent) {
        count += 1
        let time = event.queryTime
        queryTimeSum += time
        if time > queryTimeMax { queryTimeMax = time }
        lockSum += event.lockTime
        if event.lockTime > lockMax { lockMax = event.lockTime }
        sentSum += event.rowsSent
        if event.rowsSent > sentMax { sentMax = event.rowsSent }
        examinedSum += event.rowsExamined
        if event.rowsExamined > examinedMax { examinedMax = event.rowsExamined }
        buckets[Self.bucket(time)] &+= 1
        if let at = event.timestamp {
            if first == nil || at < first! { first = at }
            if last == nil || at > last! { last = at }
        }
        if let database = event.database { Self.remember(database, in: &databases) }
        if let user = event.user { Self.remember(user, in: &users) }
        if time > exampleTime {
            exampleTime = time
            exampleAt = event.timestamp
            example.removeAll(keepingCapacity: true)
            example.append(contentsOf: event.query.prefix(SlowLogDigester.exampleLimit))
        }
    }

    mutating func merge(_ other: Self) {
        count += other.count
        queryTimeSum += other.queryTimeSum
        queryTimeMax = max(queryTimeMax, other.queryTimeMax)
        lockSum += other.lockSum
        lockMax = max(lockMax, other.lockMax)
        sentSum += other.sentSum
        sentMax = max(sentMax, other.sentMax)
        examinedSum += other.examinedSum
        examinedMax = max(examinedMax, other.examinedMax)
        for index in buckets.indices { buckets[index] &+= other.buckets[index] }
        if let theirs = other.first { first = min(first ?? theirs, theirs) }
        if let theirs = other.last { last = max(last ?? theirs, theirs) }
        for database in other.databases where !databases.contains(database) && databases.count < 8 { databases.append(database) }
        for user in other.users where !users.contains(user) && users.count < 8 { users.append(user) }
        if other.exampleTime > exampleTime {
            exampleTime = other.exampleTime
            exampleAt = other.exampleAt
            example = other.example
        }
    }

    static func bucket(_ value: Double) -> Int {
        guard value > SlowLogDigester.bucketMinimum else { return 0 }
        let index = Int(log(value / SlowLogDigester.bucketMinimum) / SlowLogDigester.logBase) + 1
        return min(index, SlowLogDigester.bucketCount - 1)
    }

    static func bucketValue(_ index: Int) -> Double {
        index == 0 ? 0 : SlowLogDigester.bucketMinimum * pow(SlowLogDigester.bucketBase, Double(index - 1))
    }

    static func remember(_ value: UnsafeBufferPointer<UInt8>, in list: inout [[UInt8]]) {
        for known in list where SlowLogReader.equal(value, known) { return }
        if list.count < 8 { list.append(Array(value)) }
    }

    /// The value below which 95 % of the times fall (a bucket's lower bound, as pt-query-digest reports it).
    var p95: Double {
        let target = Int((Double(count) * 0.95).rounded(.up))
        var seen = 0
        for (index, n) in buckets.enumerated() {
            seen += Int(n)
            if seen >= target { return min(Self.bucketValue(index), queryTimeMax) }
        }
        return queryTimeMax
    }

    var queryClass: QueryClass {
        let n = Double(max(count, 1))
        func date(_ seconds: Int64?) -> Date? { seconds.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        return QueryClass(
            queryID: QueryClass.queryID(of: fingerprint), fingerprint: text(fingerprint), count: count,
            queryTime: .init(sum: queryTimeSum, avg: queryTimeSum / n, p95: p95, max: queryTimeMax),
            lockTime: .init(sum: lockSum, avg: lockSum / n, max: lockMax),
            rowsSent: .init(sum: sentSum, avg: sentSum / n, max: sentMax),
            rowsExamined: .init(sum: examinedSum, avg: examinedSum / n, max: examinedMax),
            firstSeen: date(first), lastSeen: date(last), databases: databases.map(text), users: users.map(text),
            example: text(example), exampleAt: date(exampleAt))
    }
}

/// An open-addressing table from fingerprint bytes to class index: looked up with a view of the
/// fingerprinter's buffer, so a known class costs no allocation; hashed eight bytes at a time.
struct FingerprintTable {
    private var slots = [Int32](repeating: -1, count: 1024)
    private var used = 0

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        while i < bytes.count {
            tail = tail << 8 | UInt64(bytes[i])
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
    }

    func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, in classes: [SlowLogDigester.Accumulator]) -> Int? {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = Int(slots[i])
            if slot < 0 { return nil }
            let candidate = classes[slot]
            if candidate.hash == hash, SlowLogReader.equal(bytes, candidate.fingerprint) { return slot }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ slot: Int, hash: UInt64, in classes: [SlowLogDigester.Accumulator]) {
        if (used + 1) * 2 > slots.count {
            slots = [Int32](repeating: -1, count: slots.count * 2)
            used = 0
            for (index, known) in classes.enumerated() where index != slot { place(index, hash: known.hash) }
        }
        place(slot, hash: hash)
    }

    private mutating func place(_ slot: Int, hash: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(slot)
        used += 1
    }
}
