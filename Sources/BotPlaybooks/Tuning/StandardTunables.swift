import BotCore
import Foundation

/// The settings of the services both platforms run, for the packs to declare with their own ranges: each applied
/// with the service's own command (`CONFIG SET` then `CONFIG REWRITE` for Redis, `SET PERSIST` on MySQL 8 and `SET GLOBAL` on MariaDB, a conf.d
/// file and a graceful reload for PHP-FPM, `param.set` for Varnish),
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

    /// Redis's snapshots (`save`), as the three schedules a store needs: none, Redis's own default, or hourly.
    static let redisSaveSchedules = ["off": "", "default": "3600 1 300 100 60 10000", "hourly": "3600 1"]

    public static let redisSave = Tunable(
        id: "redis.save", service: .redis, key: "save",
        help: "when Redis writes a snapshot to disk: off, hourly, or default (every 1 h to 1 min, by how much changed)",
        domain: .choice(["off", "hourly", "default"]), read: ["redis-cli", "CONFIG", "GET", "save"],
        apply: [["redis-cli", "CONFIG", "SET", "save", "{value}"], ["redis-cli", "CONFIG", "REWRITE"]],
        parse: { output in
            // An empty schedule is an empty second line.
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard lines.count >= 2, lines[0] == "save" else { return nil }
            return redisSaveSchedules.first { $0.value == lines[1] }?.key ?? lines[1]
        },
        written: { redisSaveSchedules[$0] ?? $0 })

    public static func mysqlMaxConnections(_ range: ClosedRange<Int64>) -> Tunable {
        Tunable(id: "mysql.max_connections", service: .mysql, key: "max_connections",
                help: "how many clients the database serves at once", domain: .integer(range),
                read: ["mysql", "--batch", "--skip-column-names", "--execute=SELECT @@GLOBAL.max_connections"],
                apply: [["mysql", "--binary-mode", "--batch", "--execute=SET {db_set_scope} max_connections = {value}"]], parse: mysqlValue)
    }

    public static func mysqlLongQueryTime(_ range: ClosedRange<Double>) -> Tunable {
        Tunable(id: "mysql.long_query_time", service: .mysql, key: "long_query_time",
                help: "how long a query runs before the slow log records it", domain: .seconds(range),
                read: ["mysql", "--batch", "--skip-column-names", "--execute=SELECT @@GLOBAL.long_query_time"],
                apply: [["mysql", "--binary-mode", "--batch", "--execute=SET {db_set_scope} long_query_time = {value}"]],
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

    /// Writes one line (`$1`) to a file (`$0`) whole: a fresh temporary file beside it, renamed over it. Fixed text;
    /// the path and the line reach it as positional parameters, never as script. (No braces: argv templates read
    /// them as placeholders.)
    public static let writeLineScript = #"t=$(mktemp "$0.XXXXXX") || exit 1; "#
        + #"if printf '%s\n' "$1" > "$t" && chmod 644 "$t" && mv -f "$t" "$0"; then exit 0; fi; rm -f "$t"; exit 1"#

    /// The PHP settings perfbot reads, each as `key=value` (`(none)` when PHP does not know it).
    static let phpKeys = ["memory_limit", "max_execution_time", "opcache.memory_consumption", "opcache.max_accelerated_files",
                          "opcache.validate_timestamps"]

    /// Asks the live PHP-FPM pool (FastCGI at `$0`, with `cgi-fcgi`) for the values its workers run with: a fixed
    /// script written to a fresh file that the pool reads, then removed. Fixed text; the address is a positional parameter.
    public static let phpReadScript = #"f=$(mktemp -p /tmp --suffix=.php perfbot-settings.XXXXXX) || exit 1; "#
        + #"if printf '%s\n' '<?php foreach (["# + phpKeys.map { "\"\($0)\"" }.joined(separator: ", ")
        + #"] as $k): $v = ini_get($k); echo $k, "=", $v === false ? "(none)" : $v, "\n"; endforeach;' > "$f" && chmod 644 "$f"; "#
        + #"then SCRIPT_FILENAME="$f" SCRIPT_NAME=/perfbot-settings.php REQUEST_METHOD=GET QUERY_STRING= cgi-fcgi -bind -connect "$0"; "#
        + #"s=$?; else s=1; fi; rm -f "$f"; exit "$s""#

    /// Reloads PHP-FPM gracefully and returns once the workers that ran the old settings are gone (10 s at most): a
    /// signal is taken later than it is sent, and a read in between would be answered by an old worker with the old
    /// value. Fixed text, no parameters; a change that did not take is still caught by the read-back.
    public static let phpReloadScript = #"m=$(pgrep -o php-fpm) || exit 1; old=$(pgrep -P "$m"); kill -USR2 "$m" || exit 1; "#
        + #"i=0; while [ "$i" -lt 100 ]; do left=0; for p in $old; do kill -0 "$p" 2>/dev/null && left=1; done; "#
        + #"[ "$left" = 0 ] && exit 0; sleep 0.1; i=$((i + 1)); done; exit 0"#

    /// `key`'s value in the pool's answer (after its headers).
    static func phpValue(_ key: String, _ output: String) -> String? {
        let prefix = key + "="
        guard let line = output.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(prefix) }) else { return nil }
        let value = line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        return value == "(none)" ? nil : value
    }

    /// A PHP setting: written to its own file in the pool's conf.d (`99-perfbot-<key>.ini`), PHP-FPM reloaded
    /// gracefully (its workers finish their requests), then read back from the pool.
    static func php(_ key: String, help: String, domain: Tunable.Domain, written: @escaping @Sendable (String) -> String = { $0 },
                    parse: @escaping @Sendable (String) -> String?) -> Tunable {
        var tunable = Tunable(id: "php.\(key)", service: .php, key: key, help: help, domain: domain,
                              read: ["sh", "-c", phpReadScript, "{php_fpm_listen}"],
                              apply: [["sh", "-c", writeLineScript, "{php_ini_dir}/99-perfbot-\(key).ini", "\(key) = {value}"],
                                      ["sh", "-c", phpReloadScript]],
                              parse: { output in phpValue(key, output).flatMap(parse) }, written: written)
        tunable.stepNames = ["Write \(key) = {value} to PHP's conf.d", "Reload PHP-FPM gracefully"]
        return tunable
    }

    /// `memory_limit`: `256M` in the file, bytes inside perfbot; `-1` (no limit) is read as it is.
    public static func phpMemoryLimit(_ range: ClosedRange<Int64>) -> Tunable {
        php("memory_limit", help: "the most memory one PHP request may use", domain: .bytes(range),
            written: { value in Int64(value).map { $0 % (1 << 20) == 0 ? "\($0 >> 20)M" : "\($0)" } ?? value },
            parse: { value in value == "-1" ? "-1" : Tunable.bytes(value.lowercased()).map { "\($0)" } })
    }

    public static func phpInteger(_ key: String, help: String, _ range: ClosedRange<Int64>) -> Tunable {
        php(key, help: help, domain: .integer(range), parse: { Int64($0).map { "\($0)" } })
    }

    /// `opcache.validate_timestamps`: `on` or `off` (PHP answers `1` or nothing).
    public static let phpValidateTimestamps = php(
        "opcache.validate_timestamps", help: "whether PHP checks each file for changes (off is faster, but a deploy must reset OPcache)",
        domain: .choice(["on", "off"]), written: { $0 == "on" ? "1" : "0" },
        parse: { ["1", "on", "yes", "true"].contains($0.lowercased()) ? "on" : "off" })

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
        if let limit = context.current["php.memory_limit"].flatMap(Int64.init), limit > 0, let children = context.phpMaxChildren {
            php = limit * children
        }
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

    /// Every PHP worker may take `memory_limit`: all of them (`pm.max_children`) must fit in the container.
    public static let phpWorkersFitMemory = TuningGuardrail(name: "php workers fit memory") { setting, value, context in
        guard setting == "php.memory_limit", let bytes = Int64(value) else { return nil }
        guard let memoryMB = context.customer.limits.memoryMB, let children = context.phpMaxChildren else {
            return "perfbot must know the container's memory (limits.memory_mb) and the pool's pm.max_children "
                + "(settings.php_max_children) in the customers file to check that \(Tunable.bytesText(bytes)) per PHP worker fits; set them first"
        }
        let total = bytes * children
        guard total > Int64(memoryMB) << 20 else { return nil }
        let each = ((Int64(memoryMB) << 20) / children) >> 20
        return "\(Tunable.bytesText(bytes)) × \(children) PHP workers (pm.max_children) is \(total >> 20) MB, more than the "
            + "container's \(memoryMB) MB: at most \(each)mb each, or fewer workers"
    }

    /// With `validate_timestamps` off PHP never looks at its files again: only a deploy that resets OPcache brings new code.
    public static let opcacheNeedsDeployReset = TuningGuardrail(name: "opcache needs a deploy reset") { setting, value, context in
        guard setting == "php.opcache.validate_timestamps", value == "off",
              context.customer.settings[TemplateVariable.deployResetsOpcache.rawValue] != "yes" else { return nil }
        return "with validate_timestamps off, PHP keeps running the old code after a deploy until OPcache is reset, and this store's "
            + "deploys are not known to reset it (settings.deploy_resets_opcache: yes in the customers file, once the deploy hook "
            + "runs opcache_reset or reloads PHP-FPM)"
    }

    /// The settings and rules both platforms share, with the ranges given, and the platform's cron.
    public static func catalogue(maxMemory: ClosedRange<Int64>, connections: ClosedRange<Int64>,
                                 phpMemory: ClosedRange<Int64> = (128 << 20)...(1 << 30), cron: CronSupport? = nil) -> TuningCatalogue {
        TuningCatalogue(
            settings: [phpMemoryLimit(phpMemory),
                       phpInteger("max_execution_time", help: "how long one PHP request may run (seconds)", 10...300),
                       phpInteger("opcache.memory_consumption", help: "the memory OPcache keeps compiled code in (MB)", 64...1024),
                       phpInteger("opcache.max_accelerated_files", help: "how many PHP files OPcache may hold", 2_000...1_000_000),
                       phpValidateTimestamps,
                       redisMaxMemory(maxMemory),
                       redisPolicy(["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "allkeys-random", "volatile-ttl",
                                    "noeviction"]),
                       redisAppendOnly, redisSave, mysqlMaxConnections(connections), mysqlLongQueryTime(0.1...10),
                       varnishSeconds("default_ttl", help: "how long Varnish keeps a page that says nothing of its own (seconds)", 60...86_400),
                       varnishSeconds("default_grace", help: "how long Varnish may serve a stale page while it fetches a fresh one (seconds)",
                                      0...86_400)],
            guardrails: [cacheMustEvict, redisFitsTheContainer, connectionsFitMemory, phpWorkersFitMemory, opcacheNeedsDeployReset],
            cron: cron)
    }
}
