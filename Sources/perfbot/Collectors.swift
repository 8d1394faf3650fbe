import ArgumentParser
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import PerfbotApp

/// `perfbot collectors [<store>]`: which readings of a store come from where, when each last worked, its last error.
struct Collectors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Which readings of a store come from where, when each last succeeded, and the last error.")

    @OptionGroup var options: ConfigOptions
    @Argument(help: "One store (default: every store).") var store: String?

    /// The metrics each reading gives.
    static let gives: [String: String] = packGives.merging([
        "prometheus": "memory_percent, cpu_percent, oom_kills, disk_percent",
        "http": "ttfb_ms, uptime_percent, http_status_code and the request's phases",
        "lighthouse": "lcp_ms, fcp_ms and the report, every 6 hours",
        "docker": "memory_percent, cpu_percent (docker stats)",
        "cgroup": "memory_percent, cpu_percent, oom_kills (cgroup v2), disk_percent (df)",
        "redis": "redis_hit_rate, redis_memory_*, redis_evictions",
        "varnish": "varnish_hit_rate",
        "php_fpm": "php_fpm_busy_percent",
        "mysql": "active_connections, max_connections, slow_query_count",
        "slow_log": "slow_queries, slow_query_count, slow_query_3s_count",
    ], uniquingKeysWith: { pack, _ in pack })

    /// Each pack's own readings, as the pack describes them.
    static var packGives: [String: String] {
        Dictionary(Wiring.platforms.flatMap { pack in pack.collectors.map { ($0.name, "\($0.gives.map(\.rawValue).joined(separator: ", ")) (\(pack.platform.displayName))") } },
                   uniquingKeysWith: { first, _ in first })
    }

    func run() async throws {
        let configuration = try options.load()
        let database = try Runner.openStore(configuration)
        var id: StoreID?
        if let store {
            guard let valid = StoreID(store), try await database.customer(valid) != nil else { throw fail("no store named \(store)") }
            id = valid
        }
        let statuses = try await database.collectorStatuses(store: id)
        let customers = try await database.allCustomers().filter { id == nil || $0.id == id }
        let now = Date()
        func ago(_ date: Date?) -> String { date.map { Wording.ago($0, now: now) } ?? "never" }
        for customer in customers {
            print("\(customer.id) (\(customer.platform.displayName), \(customer.plan))")
            var readings = Set(customer.probes.filter { $0 != .platform }.map(\.rawValue))
            if customer.probes.contains(.platform) {
                readings.formUnion(Wiring.platforms.first { $0.platform == customer.platform }?.collectors.map(\.name) ?? [])
            }
            if configuration.prometheusURL != nil, customer.container != nil { readings.insert("prometheus") }
            let known = statuses.filter { $0.store == customer.id }
            readings.formUnion(known.map(\.reading))
            guard !readings.isEmpty else {
                print("  no readings: give it probes in the customers file, or set PERFBOT_PROMETHEUS_URL\n")
                continue
            }
            for reading in readings.sorted() {
                let status = known.first { $0.reading == reading }
                let failing = (status?.lastErrorAt ?? .distantPast) > (status?.lastSuccess ?? .distantPast)
                print("  \(failing ? "✗" : status == nil ? "·" : "✓") \(reading): \(Self.gives[reading] ?? reading)")
                print("      from \(status?.source ?? "(not read yet)"); last success \(ago(status?.lastSuccess))")
                if let error = status?.lastError, let at = status?.lastErrorAt {
                    print("      last error \(ago(at)): \(error.prefix(300))")
                }
            }
            print("")
        }
    }
}
