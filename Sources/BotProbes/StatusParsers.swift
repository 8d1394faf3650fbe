import BotCore
import Foundation

/// `redis-cli INFO`: CRLF lines, `# Section` headers, `key:value`.
public struct RedisInfo: Sendable, Equatable {
    public var fields: [String: String]

    public init(_ text: String) {
        var fields: [String: String] = [:]
        // Lines are cut in the bytes: output of any size is read in one pass.
        for line in StatusLines.lines(text) where line.first != UInt8(ascii: "#") {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            fields[String(decoding: line[..<colon], as: UTF8.self)] = StatusLines.trimmed(line[(colon + 1)...])
        }
        self.fields = fields
    }

    func number(_ key: String) -> Double? { fields[key].flatMap(Double.init) }

    public var hits: Double? { number("keyspace_hits") }
    public var misses: Double? { number("keyspace_misses") }
    public var usedMemory: Double? { number("used_memory") }
    /// 0 means unlimited.
    public var maxMemory: Double? { number("maxmemory") }
    public var evictedKeys: Double? { number("evicted_keys") }

    /// The hit rate (percent) between two samples: the counters are cumulative since start, so only
    /// their difference describes the interval. Nil without traffic, or after a restart or reset.
    public static func hitRate(from earlier: RedisInfo, to later: RedisInfo) -> Double? {
        guard let h0 = earlier.hits, let m0 = earlier.misses, let h1 = later.hits, let m1 = later.misses,
              h1 >= h0, m1 >= m0 else { return nil }
        let total = (h1 - h0) + (m1 - m0)
        return total > 0 ? (h1 - h0) / total * 100 : nil
    }

    /// Memory used against `maxmemory`, percent; nil when unlimited.
    public var memoryPercent: Double? {
        guard let used = usedMemory, let max = maxMemory, max > 0 else { return nil }
        return used / max * 100
    }
}

/// `varnishstat -j`, in the layout before 6.5 (counters at the top level) and after (under `counters`).
public struct VarnishStats: Sendable, Equatable {
    public var counters: [String: Double]

    public init(json: [UInt8]) throws(ProbeParseError) {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw .invalid("varnishstat output is not JSON")
        }
        let source = (root["counters"] as? [String: Any]) ?? root
        var counters: [String: Double] = [:]
        for (name, value) in source {
            if let value = (value as? [String: Any])?["value"] as? NSNumber { counters[name] = value.doubleValue }
        }
        guard !counters.isEmpty else { throw .invalid("varnishstat output has no counters") }
        self.counters = counters
    }

    /// `cache_hit / (cache_hit + cache_miss)`, percent.
    public var hitRate: Double? {
        guard let hit = counters["MAIN.cache_hit"], let miss = counters["MAIN.cache_miss"], hit + miss > 0 else { return nil }
        return hit / (hit + miss) * 100
    }
}

/// PHP-FPM's status page in JSON (`?json`), whose keys contain spaces.
public struct PHPFPMStatus: Sendable, Equatable {
    public var pool: String
    public var activeProcesses: Int
    public var totalProcesses: Int
    public var listenQueue: Int
    /// More than 0: `pm.max_children` was reached since start.
    public var maxChildrenReached: Int
    public var slowRequests: Int

    public init(json: [UInt8]) throws(ProbeParseError) {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw .invalid("PHP-FPM status is not JSON")
        }
        func int(_ key: String) -> Int? { (root[key] as? NSNumber)?.intValue }
        guard let active = int("active processes"), let total = int("total processes") else {
            throw .invalid("PHP-FPM status lacks 'active processes' or 'total processes'")
        }
        pool = root["pool"] as? String ?? ""
        activeProcesses = active
        totalProcesses = total
        listenQueue = int("listen queue") ?? 0
        maxChildrenReached = int("max children reached") ?? 0
        slowRequests = int("slow requests") ?? 0
    }
}

/// `mysql --batch -e "SHOW GLOBAL STATUS"` (or `SHOW GLOBAL VARIABLES`): tab-separated name and value.
public struct MySQLStatus: Sendable, Equatable {
    public var values: [String: String]

    public init(_ text: String) {
        var values: [String: String] = [:]
        for line in StatusLines.lines(text) {
            guard let tab = line.firstIndex(of: 9) else { continue }
            let name = String(decoding: line[..<tab], as: UTF8.self)
            guard name != "Variable_name" else { continue }
            values[name.lowercased()] = String(decoding: line[(tab + 1)...], as: UTF8.self)
        }
        self.values = values
    }

    public func number(_ name: String) -> Double? { values[name.lowercased()].flatMap(Double.init) }
}

/// Output a collector could not read.
public enum ProbeParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case let .invalid(reason): reason
        }
    }
}

/// Lines of a service's text output, cut in its bytes.
enum StatusLines {
    static func lines(_ text: String) -> [ArraySlice<UInt8>] {
        Array(text.utf8).split(omittingEmptySubsequences: true) { $0 == 10 || $0 == 13 }
    }

    /// The bytes as text without surrounding spaces and tabs.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        var low = bytes.startIndex, high = bytes.endIndex
        while low < high, bytes[low] == 32 || bytes[low] == 9 { low += 1 }
        while high > low, bytes[high - 1] == 32 || bytes[high - 1] == 9 { high -= 1 }
        return String(decoding: bytes[low..<high], as: UTF8.self)
    }
}
