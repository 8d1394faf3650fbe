import BotCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One access-log line in the combined or common format (nginx and Apache), with `$request_time` where a log
/// adds it after the user agent, read straight from its bytes: every field is a range of the line, nothing is
/// copied. A line that does not have the format's shape is refused whole (counted as failed, like GoAccess does).
///
/// `203.0.113.5 - - [07/Dec/2026:10:00:01 +0000] "GET /cart?x=1 HTTP/1.1" 200 5120 "https://ref/" "Mozilla/5.0 …" 0.042`
public struct AccessLogLine {
    /// Byte offsets within the line, `start..<end`.
    public struct Field: Equatable {
        public var start: Int
        public var end: Int
        public var isEmpty: Bool { start >= end }
        @inlinable public init(_ start: Int, _ end: Int) {
            self.start = start
            self.end = end
        }
    }

    public var client: Field
    /// `07/Dec/2026:10:00:01 +0000`, as written.
    public var time: Field
    public var method: Field
    /// The path without its query string.
    public var path: Field
    /// The query string after `?`, without it (empty when none).
    public var query: Field
    /// 0 when the line ends with its request (GoAccess counts such a line, under no status).
    public var status: Int
    /// The response's size; 0 for `-`.
    public var bytes: Int
    public var referrer: Field
    public var userAgent: Field
    /// `$request_time` in milliseconds, when the log has it.
    public var requestMilliseconds: Int?
    /// It ends after its bytes, as the common format's lines do (a combined log's would be cut short).
    public var isCommon = false

    /// Reads `line` (without its newline); nil when it is not a combined or common log line.
    @inlinable
    public static func parse(_ line: UnsafeBufferPointer<UInt8>) -> AccessLogLine? {
        let count = line.count
        guard let base = line.baseAddress, count > 0 else { return nil }
        var index = 0
        @inline(__always) func at(_ position: Int) -> UInt8 { line[position] }
        // %h: an IPv4 or IPv6 address (GoAccess refuses a line whose client is not an address).
        let clientStart = index
        var colons = 0, dots = 0
        while index < count, at(index) != 0x20 {
            let byte = at(index)
            switch byte {
            case 0x30...0x39, 0x61...0x66, 0x41...0x46: break
            case 0x2E: dots += 1
            case 0x3A: colons += 1
            default: return nil
            }
            index += 1
        }
        let clientEnd = index
        guard clientEnd > clientStart, clientEnd - clientStart <= 45, (dots == 3 && colons == 0) || colons >= 2 else { return nil }
        // %l and %u: any words up to the `[` of the time.
        guard index < count else { return nil }
        while index < count, at(index) != 0x5B { index += 1 }
        guard index < count else { return nil }
        index += 1
        let timeStart = index
        while index < count, at(index) != 0x5D { index += 1 }
        guard index < count, index - timeStart >= 20 else { return nil }
        let timeEnd = index
        index += 1
        // ` "METHOD URI PROTOCOL"`
        guard index + 1 < count, at(index) == 0x20, at(index + 1) == 0x22 else { return nil }
        index += 2
        let methodStart = index
        while index < count, at(index) != 0x20, at(index) != 0x22 { index += 1 }
        guard index < count, at(index) == 0x20, index > methodStart else { return nil }
        let methodEnd = index
        index += 1
        let pathStart = index
        var pathEnd = -1
        // The path ends at a space, a `?` or the request's end.
        while index < count {
            let byte = at(index)
            if byte == 0x20 || byte == 0x3F || byte == 0x22 { break }
            index += 1
        }
        if index < count, at(index) != 0x22 { pathEnd = index }
        // The request ends at the quote followed by ` <status>` (or the line's end): a quote inside it is escaped
        // by the server. Quotes are found with memchr.
        var requestEnd = -1
        while index < count {
            guard let found = memchr(base + index, 0x22, count - index) else { break }
            index = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            if index + 1 == count || (at(index + 1) == 0x20
                && (index + 2 == count || (at(index + 2) >= 0x30 && at(index + 2) <= 0x39))) {
                requestEnd = index
                break
            }
            index += 1
        }
        guard requestEnd > pathStart else { return nil }
        if pathEnd < 0 || pathEnd > requestEnd { pathEnd = requestEnd }
        var queryStart = pathEnd, queryEnd = pathEnd
        if pathEnd < requestEnd, at(pathEnd) == 0x3F {
            queryStart = pathEnd + 1
            queryEnd = queryStart
            while queryEnd < requestEnd, at(queryEnd) != 0x20 { queryEnd += 1 }
        }
        guard pathEnd > pathStart else { return nil }
        index = requestEnd + 2
        if index >= count {
            // The line ends with the request: GoAccess counts it, with no status and no bytes; so does perfbot.
            return AccessLogLine(client: Field(clientStart, clientEnd), time: Field(timeStart, timeEnd),
                                 method: Field(methodStart, methodEnd), path: Field(pathStart, pathEnd),
                                 query: Field(queryStart, queryEnd), status: 0, bytes: 0,
                                 referrer: Field(count, count), userAgent: Field(count, count))
        }
        // %>s: three digits.
        guard index + 3 <= count else { return nil }
        var status = 0
        for _ in 0..<3 {
            let digit = Int(at(index)) &- 0x30
            guard digit >= 0, digit <= 9 else { return nil }
            status = status * 10 + digit
            index += 1
        }
        // A status is followed by its bytes (a line that ends after the status is cut short).
        guard status >= 100, index < count, at(index) == 0x20 else { return nil }
        // %b: digits or `-`.
        var bytes = 0
        index += 1
        guard index < count else { return nil }
        if at(index) == 0x2D {
            index += 1
        } else {
            let start = index
            while index < count, at(index) >= 0x30, at(index) <= 0x39, index - start < 18 {
                bytes = bytes * 10 + Int(at(index) - 0x30)
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index == count || at(index) == 0x20 else { return nil }
        var referrer = Field(count, count), agent = Field(count, count)
        var requestMilliseconds: Int?
        // The common format ends here; the combined one goes on with ` "referrer" "user agent"`, and perhaps
        // ` <request time>`. A line cut short inside them still counts (as GoAccess counts it), with what it has.
        let common = index == count
        if index + 1 < count, at(index + 1) == 0x22 {
            index += 2
            let referrerStart = index
            while index < count {
                guard let found = memchr(base + index, 0x22, count - index) else {
                    index = count
                    break
                }
                index = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                if index + 1 == count || at(index + 1) == 0x20 { break }
                index += 1
            }
            referrer = Field(referrerStart, index)
            index += 2
            if index < count, at(index) == 0x22 {
                index += 1
                let agentStart = index
                // The user agent ends at the last quote of the line (or the line, cut short inside it).
                var last = count - 1
                while last >= agentStart, at(last) != 0x22 { last -= 1 }
                agent = Field(agentStart, last >= agentStart ? last : count)
                index = last >= agentStart ? last + 1 : count
                if index + 1 < count, at(index) == 0x20 {
                    requestMilliseconds = Self.milliseconds(line, from: index + 1)
                }
            }
        }
        var parsed = AccessLogLine(client: Field(clientStart, clientEnd), time: Field(timeStart, timeEnd),
                                   method: Field(methodStart, methodEnd), path: Field(pathStart, pathEnd),
                                   query: Field(queryStart, queryEnd), status: status, bytes: bytes,
                                   referrer: referrer, userAgent: agent)
        parsed.requestMilliseconds = requestMilliseconds
        parsed.isCommon = common
        return parsed
    }

    @inlinable
    init(client: Field, time: Field, method: Field, path: Field, query: Field, status: Int, bytes: Int, referrer: Field,
         userAgent: Field) {
        self.client = client
        self.time = time
        self.method = method
        self.path = path
        self.query = query
        self.status = status
        self.bytes = bytes
        self.referrer = referrer
        self.userAgent = userAgent
    }

    /// `0.042` (seconds, as nginx's `$request_time` writes it) in milliseconds; nil when it is not a number.
    @inlinable
    static func milliseconds(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start, whole = 0, fraction = 0, digits = 0
        while index < line.count, line[index] >= 0x30, line[index] <= 0x39, index - start < 7 {
            whole = whole * 10 + Int(line[index] - 0x30)
            index += 1
        }
        guard index > start else { return nil }
        if index < line.count, line[index] == 0x2E {
            index += 1
            while index < line.count, line[index] >= 0x30, line[index] <= 0x39, digits < 3 {
                fraction = fraction * 10 + Int(line[index] - 0x30)
                digits += 1
                index += 1
            }
        }
        while digits < 3 {
            fraction *= 10
            digits += 1
        }
        return whole * 1000 + fraction
    }
}

/// A log's time (`07/Dec/2026:10:00:01 +0000`) as the day it was written on and the UTC hour it fell in.
public struct LogTime: Equatable {
    /// Days since 1970-01-01 of the date as written (GoAccess's day, whatever the offset).
    public var localDay: Int
    /// Hours since 1970-01-01 00:00 UTC.
    public var utcHour: Int
    /// Seconds since 1970-01-01 00:00 UTC.
    public var utcSeconds: Int

    /// Reads `dd/Mon/yyyy:HH:MM:SS ±hhmm`; nil when it is not such a time.
    @inlinable
    public static func parse(_ line: UnsafeBufferPointer<UInt8>, _ field: AccessLogLine.Field) -> LogTime? {
        let s = field.start
        guard field.end - s >= 26 else { return nil }
        @inline(__always) func digit(_ offset: Int) -> Int? {
            let value = Int(line[s + offset]) &- 0x30
            return value >= 0 && value <= 9 ? value : nil
        }
        @inline(__always) func number(_ offset: Int, _ length: Int) -> Int? {
            var total = 0
            for position in offset..<(offset + length) {
                guard let value = digit(position) else { return nil }
                total = total * 10 + value
            }
            return total
        }
        guard let day = number(0, 2), line[s + 2] == 0x2F, line[s + 6] == 0x2F, let year = number(7, 4), line[s + 11] == 0x3A,
              let hour = number(12, 2), let minute = number(15, 2), let second = number(18, 2), line[s + 20] == 0x20,
              let zoneHours = number(22, 2), let zoneMinutes = number(24, 2) else { return nil }
        // Month: Jan … Dec, by its three letters.
        let m0 = line[s + 3] | 0x20, m1 = line[s + 4] | 0x20, m2 = line[s + 5] | 0x20
        let month: Int
        switch (m0, m1, m2) {
        case (0x6A, 0x61, 0x6E): month = 1
        case (0x66, 0x65, 0x62): month = 2
        case (0x6D, 0x61, 0x72): month = 3
        case (0x61, 0x70, 0x72): month = 4
        case (0x6D, 0x61, 0x79): month = 5
        case (0x6A, 0x75, 0x6E): month = 6
        case (0x6A, 0x75, 0x6C): month = 7
        case (0x61, 0x75, 0x67): month = 8
        case (0x73, 0x65, 0x70): month = 9
        case (0x6F, 0x63, 0x74): month = 10
        case (0x6E, 0x6F, 0x76): month = 11
        case (0x64, 0x65, 0x63): month = 12
        default: return nil
        }
        guard (1...31).contains(day), hour < 24, minute < 60, second < 61, zoneHours < 15, zoneMinutes < 60 else { return nil }
        let sign: Int
        switch line[s + 21] {
        case 0x2B: sign = 1
        case 0x2D: sign = -1
        default: return nil
        }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        let local = days * 86400 + hour * 3600 + minute * 60 + second
        let utc = local - sign * (zoneHours * 3600 + zoneMinutes * 60)
        return LogTime(localDay: days, utcHour: utc >= 0 ? utc / 3600 : (utc - 3599) / 3600, utcSeconds: utc)
    }

    @inlinable
    public init(localDay: Int, utcHour: Int, utcSeconds: Int) {
        self.localDay = localDay
        self.utcHour = utcHour
        self.utcSeconds = utcSeconds
    }
}
