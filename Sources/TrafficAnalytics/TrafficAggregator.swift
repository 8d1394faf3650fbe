import BotCore
/// Reads access-log lines into a store's traffic, one pass, keeping aggregates only: per UTC hour (requests, bots,
/// status classes, bandwidth by content kind), status codes, unique visitors (GoAccess's: the same address, date
/// and user agent, 4xx answers left out), clients' behaviour, top paths, crawlers and countries. No line and no
/// address is kept; a client is a hash of its address and user agent.
public struct TrafficAggregator {
    /// Per UTC hour.
    public struct Hour: Equatable, Sendable {
        public var hour: Int
        public var requests = 0
        /// Requests of crawlers (by user agent, and by behaviour once the pass ends).
        public var bots = 0
        public var bytes = 0
        /// 1xx … 5xx, by class.
        public var statusClasses = [Int](repeating: 0, count: 6)
        /// Bytes per `ContentKind`.
        public var bytesByKind = [Int](repeating: 0, count: ContentKind.allCases.count)
        /// Total request time in milliseconds and how many requests had one.
        public var requestMilliseconds = 0
        public var timedRequests = 0

        public init(hour: Int) { self.hour = hour }
    }

    struct Agent {
        var text: String
        var bot: Int32  // index into `bots`, -1 for a browser
        var hash: UInt64
    }

    struct Client {
        /// Its address and user agent, hashed.
        var key: UInt64
        var agent: Int32
        var country: UInt16
        var requests: Int32 = 0
        var assets: Int32 = 0
        var errors: Int32 = 0
        var pages: Int32 = 0
        var robotsFirst = false
        /// The crawler its behaviour showed (index into `bots`), or -1.
        var verdict: Int32 = -1
        var firstSeen: Int
        var lastSeen: Int
        /// (UTC hour, requests) runs, in the order seen.
        var hours: ContiguousArray<(Int32, Int32)> = []
    }

    public internal(set) var lines = 0
    public internal(set) var failed = 0
    public internal(set) var bandwidth = 0
    public internal(set) var statusCodes = [Int](repeating: 0, count: 600)
    var visitors = HashIndex()
    var agentIndex = HashIndex()
    var agents: [Agent] = []
    var botIndex: [BotIdentity: Int32] = [:]
    var bots: [BotIdentity] = []
    var clientIndex = HashIndex()
    var clients: [Client] = []
    var hourIndex: [Int: Int] = [:]
    public internal(set) var hours: [Hour] = []
    var lastHour = Int.min, lastHourSlot = 0
    var pathIndex = HashIndex()
    var paths: [(path: String, requests: Int, hash: UInt64)] = []
    var otherPaths = 0
    var firstSeen = Int.max, lastSeen = Int.min
    /// The log's format, from its first request.
    enum Format { case unknown, combined, common }
    var format = Format.unknown
    /// How each crawler found by behaviour gave itself away.
    var evidence: [Int32: String] = [:]
    var judged = false
    let list: BotList
    let geo: GeoIP?
    /// Paths kept by name at most (the rest are counted, not named): memory stays bounded on any log.
    let pathLimit: Int

    public init(bots: BotList = .shipped, geo: GeoIP? = nil, pathLimit: Int = 50_000) {
        self.init(bots: bots, geo: geo, pathLimit: pathLimit, format: .unknown)
    }

    init(bots: BotList, geo: GeoIP?, pathLimit: Int, format: Format) {
        self.format = format
        list = bots
        self.geo = geo
        self.pathLimit = pathLimit
        hours.reserveCapacity(24 * 8)
    }

    /// Reads every complete line of `buffer`; returns how many bytes it used (the rest is an unfinished line).
    public mutating func consume(_ buffer: UnsafeBufferPointer<UInt8>, final: Bool = false) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var start = 0
        let count = buffer.count
        while start < count {
            guard let found = memchrIndex(base + start, count - start) else {
                if final {
                    add(UnsafeBufferPointer(start: base + start, count: count - start))
                    return count
                }
                return start
            }
            var end = start + found
            if end > start, base[end - 1] == 0x0D { end -= 1 }
            if end > start { add(UnsafeBufferPointer(start: base + start, count: end - start)) }
            start += found + 1
        }
        return count
    }

    @inline(__always)
    func memchrIndex(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        guard let found = memchr(pointer, 0x0A, count) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(pointer)
    }

    /// One line, without its newline.
    public mutating func add(_ line: UnsafeBufferPointer<UInt8>) {
        lines += 1
        guard let entry = AccessLogLine.parse(line), let time = LogTime.parse(line, entry.time) else {
            failed += 1
            return
        }
        // A log has one format, told by its first request: in a combined log, a line that ends after its bytes
        // was cut short (and GoAccess refuses it too).
        if entry.isCommon {
            if format == .combined {
                failed += 1
                return
            }
            format = .common
        } else if format == .unknown {
            format = .combined
        }
        let status = entry.status < 600 ? entry.status : 599
        statusCodes[status] += 1
        bandwidth += entry.bytes
        if time.utcSeconds < firstSeen { firstSeen = time.utcSeconds }
        if time.utcSeconds > lastSeen { lastSeen = time.utcSeconds }
        let kind = ContentKind.of(line, path: entry.path, query: entry.query)
        // The user agent, classified once per distinct one.
        let agentHash = FastHash.hash(line, entry.userAgent)
        let agent: Int32
        if let known = agentIndex.value(agentHash) {
            agent = known
        } else {
            let text = String(decoding: UnsafeBufferPointer(rebasing: line[entry.userAgent.start..<min(entry.userAgent.end, entry.userAgent.start + 300)]),
                              as: UTF8.self)
            var bot: Int32 = -1
            if let identity = list.identify(text) { bot = botSlot(identity) }
            agent = Int32(agents.count)
            agents.append(Agent(text: text, bot: bot, hash: agentHash))
            agentIndex.insert(agentHash, agent)
        }
        let isBot = agents[Int(agent)].bot >= 0
        // GoAccess's unique visitor: address, date as written, user agent; its 4xx answers are left out.
        let clientHash = FastHash.hash(line, entry.client)
        if status / 100 != 4 {
            visitors.add(FastHash.combine(FastHash.combine(clientHash, UInt64(bitPattern: Int64(time.localDay))), agentHash))
        }
        // The hour.
        let slot: Int
        if time.utcHour == lastHour {
            slot = lastHourSlot
        } else if let known = hourIndex[time.utcHour] {
            slot = known
        } else {
            slot = hours.count
            hours.append(Hour(hour: time.utcHour))
            hourIndex[time.utcHour] = slot
        }
        lastHour = time.utcHour
        lastHourSlot = slot
        hours.withUnsafeMutableBufferPointer { all in
            all[slot].requests += 1
            if isBot { all[slot].bots += 1 }
            all[slot].bytes += entry.bytes
            all[slot].statusClasses[status / 100] += 1
            all[slot].bytesByKind[kind.rawValue] += entry.bytes
            if let milliseconds = entry.requestMilliseconds {
                all[slot].requestMilliseconds += milliseconds
                all[slot].timedRequests += 1
            }
        }
        // The client: address and user agent, for behaviour and countries.
        let clientKey = FastHash.combine(clientHash, agentHash)
        let clientSlot: Int
        if let known = clientIndex.value(clientKey) {
            clientSlot = Int(known)
        } else {
            clientSlot = clients.count
            var country: UInt16 = 0
            if let geo {
                let address = String(decoding: UnsafeBufferPointer(rebasing: line[entry.client.start..<entry.client.end]), as: UTF8.self)
                country = geo.country(of: address)
            }
            let isRobots = entry.path.end - entry.path.start == 11 && FastHash.hash(line, entry.path) == Self.robotsHash
            var client = Client(key: clientKey, agent: agent, country: country, firstSeen: time.utcSeconds, lastSeen: time.utcSeconds)
            client.robotsFirst = isRobots
            clients.append(client)
            clientIndex.insert(clientKey, Int32(clientSlot))
        }
        clients.withUnsafeMutableBufferPointer { all in
            all[clientSlot].requests += 1
            if kind.isAsset { all[clientSlot].assets += 1 }
            if kind == .html { all[clientSlot].pages += 1 }
            if status >= 400 { all[clientSlot].errors += 1 }
            if time.utcSeconds > all[clientSlot].lastSeen { all[clientSlot].lastSeen = time.utcSeconds }
            if time.utcSeconds < all[clientSlot].firstSeen { all[clientSlot].firstSeen = time.utcSeconds }
            let hour = Int32(truncatingIfNeeded: time.utcHour)
            if let last = all[clientSlot].hours.last, last.0 == hour {
                all[clientSlot].hours[all[clientSlot].hours.count - 1].1 += 1
            } else {
                all[clientSlot].hours.append((hour, 1))
            }
        }
        // The path, by name while there is room.
        if kind == .html || kind == .api || kind == .other {
            let pathHash = FastHash.hash(line, entry.path)
            if let known = pathIndex.value(pathHash) {
                paths[Int(known)].requests += 1
            } else if paths.count < pathLimit {
                let text = String(decoding: UnsafeBufferPointer(rebasing: line[entry.path.start..<min(entry.path.end, entry.path.start + 200)]),
                                  as: UTF8.self)
                pathIndex.insert(pathHash, Int32(paths.count))
                paths.append((text, 1, pathHash))
            } else {
                otherPaths += 1
            }
        }
    }

    static let robotsHash: UInt64 = {
        let text: [UInt8] = Array("/robots.txt".utf8)
        return text.withUnsafeBufferPointer { FastHash.hash($0, AccessLogLine.Field(0, $0.count)) }
    }()

    mutating func botSlot(_ identity: BotIdentity) -> Int32 {
        if let known = botIndex[identity] { return known }
        let slot = Int32(bots.count)
        bots.append(identity)
        botIndex[identity] = slot
        return slot
    }

    /// GoAccess's unique visitors.
    public var uniqueVisitors: Int { visitors.count }
    public var validRequests: Int { lines - failed }
}

/// A fast, non-cryptographic 64-bit hash of byte ranges, eight bytes at a time: for counting distinct values in one
/// pass, never for anything an attacker could gain from colliding (a collision merges two counts).
public enum FastHash {
    @inline(__always)
    public static func hash(_ line: UnsafeBufferPointer<UInt8>, _ field: AccessLogLine.Field) -> UInt64 {
        guard let base = line.baseAddress, field.end > field.start else { return 0x9E37_79B9_7F4A_7C15 }
        var pointer = UnsafeRawPointer(base + field.start)
        var left = field.end - field.start
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(left)
        while left >= 8 {
            hash = (hash ^ pointer.loadUnaligned(as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 32
            pointer += 8
            left -= 8
        }
        if left > 0 {
            var tail: UInt64 = 0
            for offset in 0..<left { tail |= UInt64(pointer.load(fromByteOffset: offset, as: UInt8.self)) << (8 * UInt64(offset)) }
            hash = (hash ^ tail) &* 0x9E37_79B9_7F4A_7C15
        }
        return mix(hash)
    }

    @inline(__always)
    public static func combine(_ a: UInt64, _ b: UInt64) -> UInt64 { mix(a ^ (b &* 0x9E37_79B9_7F4A_7C15)) }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        x = x &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TrafficAggregator {
    /// Reads every line of the open file `descriptor` (a file or a pipe) to its end, in 4 MiB chunks.
    /// - Parameter limit: stop after this many bytes (a collector's bound per cycle); the rest waits.
    /// - Returns: the bytes read up to the end of the last whole line.
    @discardableResult
    public mutating func read(descriptor: Int32, limit: Int = .max) throws -> Int {
        let size = 4 << 20
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size)
        defer { buffer.deallocate() }
        var filled = 0, used = 0
        while used < limit {
            let want = min(size - filled, limit - used - filled)
            guard want > 0 else { break }
            let count = Glibc.read(descriptor, buffer.baseAddress! + filled, want)
            if count < 0 {
                if errno == EINTR { continue }
                throw AccessLogError.read(String(cString: strerror(errno)))
            }
            let end = count == 0
            filled += count
            let consumed = consume(UnsafeBufferPointer(rebasing: buffer[0..<filled]), final: end && limit == .max)
            used += consumed
            if end { break }
            if consumed == 0, filled == size {
                // A "line" of 4 MiB: not a log line; counted as one that failed, and skipped.
                lines += 1
                failed += 1
                used += filled
                filled = 0
                continue
            }
            // Keep the unfinished line at the front.
            let rest = filled - consumed
            if rest > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + consumed, rest) }
            filled = rest
        }
        return used
    }

    /// Reads the file at `path` (`-`: standard input).
    public mutating func read(path: String) throws {
        if path == "-" {
            try read(descriptor: 0)
            return
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AccessLogError.read("\(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        try read(descriptor: descriptor)
    }
}

public enum AccessLogError: Error, CustomStringConvertible {
    case read(String)
    public var description: String {
        switch self {
        case let .read(reason): "cannot read the log: \(reason)"
        }
    }
}
