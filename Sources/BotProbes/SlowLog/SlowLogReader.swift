import BotCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One entry of a slow log, as views into the reader's buffer (valid only inside the callback).
public struct SlowLogEvent {
    /// The statement without its final `;`, or `administrator command: …`.
    public var query: UnsafeBufferPointer<UInt8>
    public var isAdmin: Bool
    public var queryTime: Double
    public var lockTime: Double
    public var rowsSent: Double
    public var rowsExamined: Double
    /// Seconds since 1970: the entry's `SET timestamp=`, else the last `# Time:` (MySQL's ISO form is UTC;
    /// MariaDB's `YYMMDD H:MM:SS` is read as UTC too).
    public var timestamp: Int64?
    /// The default database: `use db;`, `Schema:`, or the one before (as pt-query-digest inherits it).
    public var database: UnsafeBufferPointer<UInt8>?
    public var user: UnsafeBufferPointer<UInt8>?
}

/// Reads MySQL 5.7/8.0 and MariaDB 10.x/11 slow logs as a stream, the way pt-query-digest's
/// `SlowLogParser` splits and reads them: an entry starts at a `#` line after a line ending in `;`; its
/// header lines (`# Time:`, `# User@Host:`, `# Query_time: …`, MariaDB's `# Thread_id: … Schema:`),
/// `use db;` and `SET timestamp=…;` come first, then the statement, possibly over several lines.
/// Restart banners are skipped. Memory stays bounded by the buffer, whatever the size of the log.
public struct SlowLogReader {
    /// The longest entry kept whole; longer ones are counted in `oversized` and skipped.
    public var maxEntryBytes: Int
    public private(set) var oversized = 0
    /// Bytes handed to `feed` so far, and those that ended in complete entries.
    public private(set) var consumed: Int64 = 0

    private var buffer: UnsafeMutableBufferPointer<UInt8>
    private var filled = 0
    private var inherited = Inherited()

    /// The database in effect after the entries read so far (MySQL writes `use db;` only when it changes, so a
    /// reader that resumes mid-file carries it over).
    public var databaseInEffect: [UInt8] {
        get { inherited.database }
        set { inherited.database = newValue }
    }
    private var skippingOversized = false

    private struct Inherited {
        var database: [UInt8] = []
        var timestamp: Int64?
    }

    public init(bufferBytes: Int = 4 << 20, maxEntryBytes: Int = 16 << 20) {
        self.maxEntryBytes = maxEntryBytes
        buffer = .allocate(capacity: max(bufferBytes, 64 << 10))
    }

    /// Frees the buffer; the reader must not be used after.
    public mutating func close() {
        buffer.deallocate()
        buffer = .allocate(capacity: 0)
    }

    /// Reads a whole file (or standard input for `-`), calling `body` for every entry.
    /// - Parameter progress: called now and then with the bytes read so far.
    /// - Parameters:
    ///   - range: the bytes to read (a part of the file that starts at an entry); nil for all of it.
    ///   - inheritedDatabase: the database in effect where `range` starts.
    public mutating func read(path: String, range: Range<Int64>? = nil, inheritedDatabase: [UInt8] = [],
                              progress: ((Int64) -> Void)? = nil, _ body: (borrowing SlowLogEvent) -> Void) throws {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard fd >= 0 else { throw SlowLogError.unreadable(path, String(cString: strerror(errno))) }
        defer { if fd != STDIN_FILENO { Glibc.close(fd) } }
        inherited.database = inheritedDatabase
        var total: Int64 = 0
        var offset = range?.lowerBound ?? 0
        while true {
            let got = try fill { space in
                var n: Int
                let wanted = range.map { min(space.count, Int($0.upperBound - offset)) } ?? space.count
                guard wanted > 0 else { return 0 }
                repeat {
                    n = range == nil ? Glibc.read(fd, space.baseAddress, wanted) : pread(fd, space.baseAddress, wanted, off_t(offset))
                } while n < 0 && errno == EINTR
                guard n >= 0 else { throw SlowLogError.unreadable(path, String(cString: strerror(errno))) }
                offset += Int64(n)
                return n
            }
            if got == 0 { break }
            total += Int64(got)
            progress?(total)
            process(final: false, body)
        }
        process(final: true, body)
    }

    /// Adds `bytes` and reports every entry they complete. Call `finish` at the end of the input.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (borrowing SlowLogEvent) -> Void) {
        var offset = 0
        while offset < bytes.count {
            let taken = try! fill { space in
                let n = min(space.count, bytes.count - offset)
                UnsafeMutableBufferPointer(rebasing: space[..<n]).update(fromContentsOf: bytes[offset..<(offset + n)])
                return n
            }
            offset += taken
            process(final: false, body)
        }
    }

    /// Ends the input: the last entry counts when it ended its statement with `;`.
    public mutating func finish(_ body: (borrowing SlowLogEvent) -> Void) {
        process(final: true, body)
    }

    /// Calls `read` with the free part of the buffer, growing it (up to `maxEntryBytes`) when an entry fills it.
    private mutating func fill(_ read: (UnsafeMutableBufferPointer<UInt8>) throws -> Int) throws -> Int {
        if filled == buffer.count {
            if buffer.count < maxEntryBytes {
                let bigger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: min(buffer.count * 2, maxEntryBytes))
                _ = bigger.update(fromContentsOf: buffer)
                buffer.deallocate()
                buffer = bigger
            } else {
                // One entry larger than the limit: drop what is buffered and skip to the next entry.
                oversized += 1
                consumed += Int64(filled)
                filled = 0
                skippingOversized = true
            }
        }
        let n = try read(UnsafeMutableBufferPointer(rebasing: buffer[filled...]))
        filled += n
        return n
    }

    // MARK: Entries

    private struct Entry {
        var start = 0
        var queryStart = -1
        var queryEnd = -1
        var admin: Range<Int>?
        var queryTime = 0.0, lockTime = 0.0, rowsSent = 0.0, rowsExamined = 0.0
        var timestamp: Int64?
        var time: Int64?
        var database: Range<Int>?
        var user: Range<Int>?
        var gotTime = false, gotUser = false, gotDatabase = false, gotSet = false
    }

    /// Walks the complete lines of the buffer, reporting each entry when the next begins (or at the end),
    /// then keeps the unfinished entry at the front of the buffer.
    private mutating func process(final: Bool, _ body: (borrowing SlowLogEvent) -> Void) {
        let base = UnsafeBufferPointer(buffer)
        var end = filled
        var position = 0
        var entry: Entry?
        var previousEndsStatement = true
        while position < end {
            let newline = memchr(base.baseAddress! + position, 10, end - position)
                .map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base.baseAddress! }
            if newline == nil && !final { break }
            let lineEnd = newline ?? end
            let next = newline.map { $0 + 1 } ?? end
            var resume = next
            defer { position = resume }
            guard lineEnd > position else {
                previousEndsStatement = false
                if entry?.queryStart ?? -1 >= 0 { entry?.queryEnd = next }
                continue
            }
            let first = base[position]
            if Self.isBanner(base, position, lineEnd) {
                // Cut the line out (pt-query-digest deletes it from the text), so a statement it interrupts stays whole.
                let removed = next - position
                memmove(buffer.baseAddress! + position, buffer.baseAddress! + next, end - next)
                end -= removed
                filled -= removed
                consumed += Int64(removed)
                resume = position
                continue
            }
            if skippingOversized {
                // Resynchronise on the next entry's first header line.
                guard first == UInt8(ascii: "#"), previousEndsStatement else {
                    previousEndsStatement = base[lineEnd - 1] == UInt8(ascii: ";")
                    continue
                }
                skippingOversized = false
            }
            if first == UInt8(ascii: "#"), previousEndsStatement || entry == nil {
                if let open = entry, open.queryStart < 0, open.admin == nil, base[lineEnd - 1] == UInt8(ascii: ";"),
                   !Self.isAttributeLine(base, position + 1, lineEnd) {
                    // Headers with no statement, then `# administrator command: Quit;` after `SET timestamp=…;`:
                    // pt-query-digest reads that line as the entry's (admin) statement.
                    var start = position + 1
                    while start < lineEnd, QueryFingerprinter.isSpace(base[start]) { start += 1 }
                    entry!.admin = start..<lineEnd
                    previousEndsStatement = true
                    continue
                }
                if let finished = entry { report(finished, base, body) }
                entry = Entry(start: position)
            }
            previousEndsStatement = base[lineEnd - 1] == UInt8(ascii: ";")
            guard entry != nil else {
                // Text before the first entry (a banner's tail): nothing to read.
                continue
            }
            if entry!.queryStart >= 0 {
                entry!.queryEnd = lineEnd
                continue
            }
            if !readHeader(&entry!, base, position, lineEnd) {
                entry!.queryStart = position
                entry!.queryEnd = lineEnd
            }
        }
        // Keep the unfinished entry (or, at the end, report it).
        var keepFrom = position
        if let open = entry {
            if final {
                report(open, base, body)
            } else {
                keepFrom = open.start
            }
        }
        consumed += Int64(keepFrom)
        let keep = filled - keepFrom
        if keep > 0, keepFrom > 0 {
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: buffer.baseAddress! + keepFrom, byteCount: keep)
        }
        filled = final ? 0 : keep
        if final { consumed += Int64(keep) }
    }

    /// Reads a header line into the entry; false when the line is the statement's first.
    private mutating func readHeader(_ entry: inout Entry, _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let first = b[start]
        if first == UInt8(ascii: "#") {
            if !entry.gotTime, Self.has(b, start, end, "# Time: ") {
                entry.gotTime = true
                entry.time = Self.parseTime(b, start + 8, end)
                if let time = entry.time { inherited.timestamp = time }
            } else if !entry.gotUser, Self.has(b, start, end, "# User@Host: ") {
                entry.gotUser = true
                var i = start + 13
                while i < end, b[i] != UInt8(ascii: "["), b[i] != 32 { i += 1 }
                entry.user = (start + 13)..<i
            } else if entry.admin == nil, Self.has(b, start, end, "# administrator command:") {
                entry.admin = (start + 2)..<end
            } else {
                readAttributes(&entry, b, start, end)
            }
            return true
        }
        if first == UInt8(ascii: "u"), Self.has(b, start, end, "use ") {
            if !entry.gotDatabase {
                entry.gotDatabase = true
                var i = start + 4
                while i < end, b[i] != UInt8(ascii: ";") { i += 1 }
                if i > start + 4 { entry.database = (start + 4)..<i }
            }
            return true
        }
        if first == UInt8(ascii: "S"), Self.has(b, start, end, "SET ") {
            let rest = start + 4
            guard Self.has(b, rest, end, "timestamp") || Self.has(b, rest, end, "insert_id")
                || Self.has(b, rest, end, "last_insert_id") else { return false }
            if !entry.gotSet {
                entry.gotSet = true
                var i = rest
                while i < end {
                    if Self.has(b, i, end, "timestamp=") {
                        entry.timestamp = Self.parseInteger(b, i + 10, end)
                        break
                    }
                    i += 1
                }
            }
            return true
        }
        return false
    }

    /// `# Name: value  Name: value …` (only the fields the digest uses).
    private func readAttributes(_ entry: inout Entry, _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
        var i = start + 1
        while i < end {
            guard b[i] == UInt8(ascii: ":"), i + 1 < end, b[i + 1] == 32 || b[i + 1] == 9 else {
                i += 1
                continue
            }
            var keyStart = i
            while keyStart > start, QueryFingerprinter.isWord(b[keyStart - 1]) { keyStart -= 1 }
            var valueStart = i + 1
            while valueStart < end, b[valueStart] == 32 || b[valueStart] == 9 { valueStart += 1 }
            var valueEnd = valueStart
            while valueEnd < end, b[valueEnd] != 32, b[valueEnd] != 9 { valueEnd += 1 }
            // `Schema:  QC_hit: No`: an empty value, and the next word is a name.
            if valueEnd > valueStart, b[valueEnd - 1] == UInt8(ascii: ":") {
                i = valueStart
                continue
            }
            let key = UnsafeBufferPointer(rebasing: b[keyStart..<i])
            switch key.count {
            case 10 where Self.equal(key, "Query_time"): entry.queryTime = Self.parseDecimal(b, valueStart, valueEnd)
            case 9 where Self.equal(key, "Lock_time"): entry.lockTime = Self.parseDecimal(b, valueStart, valueEnd)
            case 9 where Self.equal(key, "Rows_sent"): entry.rowsSent = Self.parseDecimal(b, valueStart, valueEnd)
            case 13 where Self.equal(key, "Rows_examined"): entry.rowsExamined = Self.parseDecimal(b, valueStart, valueEnd)
            case 6 where Self.equal(key, "Schema"):
                if valueEnd > valueStart, !entry.gotDatabase {
                    entry.gotDatabase = true
                    entry.database = valueStart..<valueEnd
                }
            default: break
            }
            i = valueEnd
        }
    }

    private mutating func report(_ entry: Entry, _ b: UnsafeBufferPointer<UInt8>, _ body: (borrowing SlowLogEvent) -> Void) {
        var query: Range<Int>
        var isAdmin = false
        if entry.queryStart >= 0 {
            var queryEnd = entry.queryEnd
            // The entry's final `;` (pt-query-digest strips `;\n` at the end of each entry).
            while queryEnd > entry.queryStart, b[queryEnd - 1] == 10 { queryEnd -= 1 }
            if queryEnd > entry.queryStart, b[queryEnd - 1] == UInt8(ascii: ";") { queryEnd -= 1 }
            query = entry.queryStart..<queryEnd
        } else if let admin = entry.admin {
            var adminEnd = admin.upperBound
            if adminEnd > admin.lowerBound, b[adminEnd - 1] == UInt8(ascii: ";") { adminEnd -= 1 }
            query = admin.lowerBound..<adminEnd
            isAdmin = true
        } else {
            return
        }
        guard !query.isEmpty else { return }
        if Self.has(b, query.lowerBound, query.upperBound, "administrator command: ") { isAdmin = true }
        if let database = entry.database {
            if !Self.equal(UnsafeBufferPointer(rebasing: b[database]), inherited.database) {
                inherited.database = Array(b[database])
            }
        }
        let timestamp = entry.timestamp ?? entry.time ?? inherited.timestamp
        if let timestamp { inherited.timestamp = timestamp }
        inherited.database.withUnsafeBufferPointer { database in
            let event = SlowLogEvent(
                query: UnsafeBufferPointer(rebasing: b[query]), isAdmin: isAdmin,
                queryTime: entry.queryTime, lockTime: entry.lockTime,
                rowsSent: isAdmin ? 0 : entry.rowsSent, rowsExamined: isAdmin ? 0 : entry.rowsExamined,
                timestamp: timestamp, database: database.isEmpty ? nil : database,
                user: entry.user.map { UnsafeBufferPointer(rebasing: b[$0]) })
            body(event)
        }
    }

    // MARK: Lines

    /// pt-query-digest's `$slow_log_hd_line`: `Tcp port: N`, `/usr/sbin/mysqld, Version: … started with:`,
    /// `Time  Id Command  Argument`.
    private static func isBanner(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let first = b[start]
        if first == UInt8(ascii: "T") {
            if end - start > 9, QueryFingerprinter.hasPrefix(b, at: start, "tcp port:", caseInsensitive: true) { return true }
            if has(b, start, end, "Time"), start + 4 < end, QueryFingerprinter.isSpace(b[start + 4]) {
                var i = start + 4
                while i < end, QueryFingerprinter.isSpace(b[i]) { i += 1 }
                guard has(b, i, end, "Id") else { return false }
                i += 2
                let spaces = i
                while i < end, QueryFingerprinter.isSpace(b[i]) { i += 1 }
                return i > spaces && has(b, i, end, "Command")
            }
            return false
        }
        // `[/A-Z].*mysqld,\sVersion`: a path, `/usr/sbin/mysqld` or `C:\…\mysqld.exe` (statements such as
        // `SELECT` start with a capital too: the second byte tells them apart before any search).
        guard first == UInt8(ascii: "/") || (first >= 65 && first <= 90 && end - start > 1 && b[start + 1] == UInt8(ascii: ":"))
        else { return false }
        // The banner line ends with `started with:` (or names the embedded library): test the end first.
        var last = end
        while last > start, QueryFingerprinter.isSpace(b[last - 1]) { last -= 1 }
        guard has(b, last - 13, last, "started with:") || contains(b, start, end, "embedded library") else { return false }
        return contains(b, start, end, "mysqld, Version")
    }

    static func contains(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ needle: StaticString) -> Bool {
        let count = needle.utf8CodeUnitCount
        var i = start
        while i + count <= end {
            if b[i] == needle.utf8Start[0], memcmp(b.baseAddress! + i, needle.utf8Start, count) == 0 { return true }
            i += 1
        }
        return false
    }

    /// `^\s*[A-Z][a-z_]+: `: a header such as ` Time: …`, not a statement.
    private static func isAttributeLine(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end, QueryFingerprinter.isSpace(b[i]) { i += 1 }
        guard i < end, b[i] >= 65, b[i] <= 90 else { return false }
        i += 1
        let name = i
        while i < end, (b[i] >= 97 && b[i] <= 122) || b[i] == UInt8(ascii: "_") { i += 1 }
        return i > name && i + 1 < end && b[i] == UInt8(ascii: ":") && b[i + 1] == 32
    }

    @inline(__always)
    static func has(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard start >= 0, end - start >= count else { return false }
        return memcmp(b.baseAddress! + start, prefix.utf8Start, count) == 0
    }

    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        a.count == s.utf8CodeUnitCount && memcmp(a.baseAddress!, s.utf8Start, a.count) == 0
    }

    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && b.withUnsafeBufferPointer { a.count == 0 || memcmp(a.baseAddress!, $0.baseAddress!, a.count) == 0 }
    }

    /// `2.418307`, `10`, `1e-05` (rare): digits with a fraction read without allocating.
    static func parseDecimal(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double {
        var whole: UInt64 = 0
        var i = start
        while i < end, QueryFingerprinter.isDigit(b[i]) {
            whole = whole &* 10 &+ UInt64(b[i] &- 48)
            i += 1
        }
        var value = Double(whole)
        if i < end, b[i] == UInt8(ascii: ".") {
            i += 1
            var fraction: UInt64 = 0
            var scale = 1.0
            while i < end, QueryFingerprinter.isDigit(b[i]), scale < 1e18 {
                fraction = fraction &* 10 &+ UInt64(b[i] &- 48)
                scale *= 10
                i += 1
            }
            value += Double(fraction) / scale
        }
        if i < end, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            return Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)) ?? value
        }
        return value
    }

    static func parseInteger(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        var i = start
        var value: Int64 = 0
        while i < end, QueryFingerprinter.isDigit(b[i]), value < Int64.max / 10 - 10 {
            value = value * 10 + Int64(b[i] - 48)
            i += 1
        }
        return i > start ? value : nil
    }

    /// `2026-01-06T09:14:03.512345Z` (MySQL 5.7+) or `260106  9:14:03` (MariaDB, MySQL 5.6).
    static func parseTime(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        func number(_ from: Int, _ count: Int) -> Int? {
            // A field of a time has a few digits; a longer run is no time (and would overflow).
            guard count <= 9, from + count <= end else { return nil }
            var value = 0
            for i in from..<(from + count) {
                let byte = b[i]
                if byte == 32, value == 0 { continue }
                guard QueryFingerprinter.isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        let year, month, day, hour, minute, second: Int
        if end - start >= 19, b[start + 4] == UInt8(ascii: "-") {
            guard let y = number(start, 4), let mo = number(start + 5, 2), let d = number(start + 8, 2),
                  let h = number(start + 11, 2), let mi = number(start + 14, 2), let s = number(start + 17, 2) else { return nil }
            (year, month, day, hour, minute, second) = (y, mo, d, h, mi, s)
        } else {
            guard let ymd = number(start, 6) else { return nil }
            var i = start + 6
            while i < end, b[i] == 32 { i += 1 }
            let hourStart = i
            while i < end, b[i] != UInt8(ascii: ":") { i += 1 }
            guard let h = number(hourStart, i - hourStart), let mi = number(i + 1, 2), let s = number(i + 4, 2) else { return nil }
            (year, month, day, hour, minute, second) = (2000 + ymd / 10000, ymd / 100 % 100, ymd % 100, h, mi, s)
        }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        return Int64(Timestamp.daysFromCivil(year: year, month: month, day: day)) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }
}

public enum SlowLogError: Error, CustomStringConvertible {
    case unreadable(String, String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        }
    }
}

extension SlowLogReader {
    /// Where to cut a file into `parts` pieces that each start at an entry, with the database in effect at each
    /// cut (MySQL writes `use db;` only when it changes).
    public static func parts(of path: String, count: Int) -> [(range: Range<Int64>, database: [UInt8])]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int64(info.st_size)
        guard count > 1, size > 8 << 20 else { return [(0..<size, [])] }
        var cuts: [Int64] = [0]
        var probe = [UInt8](repeating: 0, count: 1 << 20)
        for k in 1..<count {
            let guess = size * Int64(k) / Int64(count)
            let got = probe.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(guess)) }
            guard got > 0, let start = SlowLogIngest.firstEntry(in: Array(probe[..<got])) else { continue }
            let cut = guess + Int64(start)
            if cut > cuts.last! { cuts.append(cut) }
        }
        cuts.append(size)
        var result: [(Range<Int64>, [UInt8])] = []
        for k in 0..<(cuts.count - 1) {
            result.append((cuts[k]..<cuts[k + 1], k == 0 ? [] : lastDatabase(fd: fd, before: cuts[k])))
        }
        return result
    }

    /// The last `use db;` line before `offset`, looking back up to 16 MiB.
    static func lastDatabase(fd: Int32, before offset: Int64) -> [UInt8] {
        var end = offset
        let window: Int64 = 256 << 10
        while end > 0, offset - end < 16 << 20 {
            let start = max(0, end - window)
            var bytes = [UInt8](repeating: 0, count: Int(end - start) + 4)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard got > 0 else { return [] }
            bytes.removeLast(bytes.count - got)
            var i = min(bytes.count, Int(end - start)) - 5
            while i >= 0 {
                if bytes[i] == UInt8(ascii: "u"), i == 0 || bytes[i - 1] == 10, bytes[i + 1] == UInt8(ascii: "s"),
                   bytes[i + 2] == UInt8(ascii: "e"), bytes[i + 3] == 32 {
                    var j = i + 4
                    while j < bytes.count, bytes[j] != UInt8(ascii: ";"), bytes[j] != 10 { j += 1 }
                    return Array(bytes[(i + 4)..<j])
                }
                i -= 1
            }
            end = start
        }
        return []
    }
}
