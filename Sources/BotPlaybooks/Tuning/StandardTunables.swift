import BotCore
import Foundation

/// The settings of the services both platforms run, for the packs to declare with their own ranges: each applied
/// with the service's own command (`CONFIG SET` then `CONFIG REWRITE` for Redis, `SET GLOBAL` for MySQL/MariaDB),
/// the value placed in after validation, and read back.
public enum StandardTunables {
    /// The second line of `redis-cli CONFIG GET <key>`'s answer.
    static func redisValue(_ output: String) -> String? {
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.count >= 2 ? lines[1].lowercased() : nil
    }

    /// The one value of `mysql --batch --skip-column-names`'s answer.
    static func mysqlValue(_ output: String) -> String? {
        output.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    public static func redisMaxMemory(_ range: ClosedRange<Int64>) -> Tunable {
        Tunable(id: "redis.maxmemory", service: .redis, key: "maxmemory", help: "the most memory Redis uses before it evicts keys",
                domain: .bytes(range), read: ["redis-cli", "CONFIG", "GET", "maxmemory"],
                apply: [["redis-cli", "CONFIG", "SET", "maxmemory", "{value}"], ["redis-cli", "CONFIG", "REWRITE"]],
                parse: redisValue)
    }

    public static func redisPolicy(_ choices: [String]) -> Tunable {
        Tunable(id: "redis.maxmemory-policy", service: .redis, key: "maxmemory-policy",
                help: "which keys Redis evicts when it is full", domain: .choice(choices),
                read: ["redis-cli", "CONFIG", "GET", "maxmemory-policy"],
                apply: [["redis-cli", "CONFIG", "SET", "maxmemory-policy", "{value}"], ["redis-cli", "CONFIG", "REWRITE"]],
                parse: redisValue)
    }

    public static let redisAppendOnly = Tunable(
        id: "redis.appendonly", service: .redis, key: "appendonly", help: "whether Redis logs every write to disk (persistence)",
        domain: .choice(["yes", "no"]), read: ["redis-cli", "CONFIG", "GET", "appendonly"],
        apply: [["redis-cli", "CONFIG", "SET", "appendonly", "{value}"], ["redis-cli", "CONFIG", "REWRITE"]], parse: redisValue)

    public static func mysqlMaxConnections(_ range: ClosedRange<Int64>) -> Tunable {
        Tunable(id: "mysql.max_connections", service: .mysql, key: "max_connections",
                help: "how many clients the database serves at once", domain: .integer(range),
                read: ["mysql", "--batch", "--skip-column-names", "--execute=SELECT @@GLOBAL.max_connections"],
                apply: [["mysql", "--binary-mode", "--batch", "--execute=SET GLOBAL max_connections = {value}"]], parse: mysqlValue)
    }

    public static func mysqlLongQueryTime(_ range: ClosedRange<Double>) -> Tunable {
        Tunable(id: "mysql.long_query_time", service: .mysql, key: "long_query_time",
                help: "how long a query runs before the slow log records it", domain: .seconds(range),
                read: ["mysql", "--batch", "--skip-column-names", "--execute=SELECT @@GLOBAL.long_query_time"],
                apply: [["mysql", "--binary-mode", "--batch", "--execute=SET GLOBAL long_query_time = {value}"]],
                parse: { output in mysqlValue(output).flatMap(Double.init).map { String(format: "%.6f", $0) } })
    }

    /// `Value is: 3600.000 [seconds]` in `varnishadm param.show`'s answer, in whole seconds.
    static func varnishSeconds(_ output: String) -> String? {
        guard let line = output.split(whereSeparator: \.isNewline).first(where: { $0.contains("Value is:") }),
              let number = line.split(separator: ":", maxSplits: 1).last?.split(separator: " ").first.flatMap({ Double($0) }),
              number.isFinite, number >= 0 else { return nil }
        return "\(Int64(number.rounded()))"
    }

    public static func varnishSeconds(_ key: String, help: String, _ range: ClosedRange<Int64>) -> Tunable {
        Tunable(id: "varnish.\(key)", service: .varnish, key: key, help: help, domain: .integer(range),
                read: ["varnishadm", "-t", "3", "param.show", key], apply: [["varnishadm", "-t", "3", "param.set", key, "{value}"]],
                parse: varnishSeconds)
    }

    /// The object cache must evict: a full `noeviction` Redis refuses the store's writes.
    public static let cacheMustEvict = TuningGuardrail(name: "cache must evict") { setting, value, _ in
        guard setting == "redis.maxmemory-policy", value == "noeviction" else { return nil }
        return "noeviction makes a full Redis refuse writes, and this Redis is the store's cache, which must evict: "
            + "allkeys-lru keeps the keys in use"
    }

    /// Redis's memory must fit in what the container leaves after PHP (`memory_limit` × `pm.max_children` where
    /// known). Without the container's limit perfbot cannot tell, and refuses.
    public static let redisFitsTheContainer = TuningGuardrail(name: "redis fits the container") { setting, value, context in
        guard setting == "redis.maxmemory", let bytes = Int64(value), bytes > 0 else { return nil }
        guard let memoryMB = context.customer.limits.memoryMB else {
            return "the store's memory limit is not known (limits.memory_mb in the customers file), so perfbot cannot check that "
                + "\(Tunable.bytesText(bytes)) of Redis fits; set it first"
        }
        let container = Int64(memoryMB) << 20
        var php: Int64 = 0
        if let limit = context.current["php.memory_limit"].flatMap(Int64.init),
           let children = context.current["php.max_children"].flatMap(Int64.init) { php = limit * children }
        let left = (container - php) * 9 / 10
        guard bytes > left else { return nil }
        return "\(Tunable.bytesText(bytes)) of Redis does not fit: the container has \(memoryMB) MB"
            + (php > 0 ? " and PHP may take \(php >> 20) MB of it" : "") + ", which leaves at most \(max(0, left) >> 20) MB"
    }

    /// Each connection may hold its own buffers (about 4 MB with the defaults): all of them must fit in memory.
    public static let connectionsFitMemory = TuningGuardrail(name: "connections fit memory") { setting, value, context in
        guard setting == "mysql.max_connections", let connections = Int64(value) else { return nil }
        guard let memoryMB = context.customer.limits.memoryMB else {
            return "the store's memory limit is not known (limits.memory_mb in the customers file), so perfbot cannot check that "
                + "\(connections) connections fit; set it first"
        }
        let needed = connections * 4
        guard needed > Int64(memoryMB) * 8 / 10 else { return nil }
        return "\(connections) connections may need about \(needed) MB (4 MB each), more than the \(memoryMB) MB container "
            + "can spare; at most \(Int64(memoryMB) * 8 / 10 / 4) fit"
    }

    /// The settings and rules both platforms share, with the ranges given.
    public static func catalogue(maxMemory: ClosedRange<Int64>, connections: ClosedRange<Int64>) -> TuningCatalogue {
        TuningCatalogue(
            settings: [redisMaxMemory(maxMemory),
                       redisPolicy(["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "allkeys-random", "volatile-ttl",
                                    "noeviction"]),
                       redisAppendOnly, mysqlMaxConnections(connections), mysqlLongQueryTime(0.1...10),
                       varnishSeconds("default_ttl", help: "how long Varnish keeps a page that says nothing of its own (seconds)", 60...86_400),
                       varnishSeconds("default_grace", help: "how long Varnish may serve a stale page while it fetches a fresh one (seconds)",
                                      0...86_400)],
            guardrails: [cacheMustEvict, redisFitsTheContainer, connectionsFitMemory])
    }
}
