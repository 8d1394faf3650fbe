import BotCore
import BotPlaybooks
import Foundation

/// WooCommerce knowledge: detection rules, the one-click battery and playbooks under `Playbooks/woocommerce`.
public struct WooCommercePlugin: PlatformPlugin {
    public let name = "woocommerce"
    public let platform = Platform("woocommerce", displayName: "WooCommerce")

    public init() {}

    /// `Playbooks/<platform>/*.yaml`, shipped inside the pack.
    public var playbookRoot: String? { Bundle.module.path(forResource: "Playbooks", ofType: nil) }

    /// The eleven standard rules plus autoloaded options past WordPress Site Health's 800 kB warning and a
    /// WP-Cron backlog.
    public var rules: [DetectionRule] {
        StandardRules.all + [
            DetectionRule(name: "autoload_bloat", metric: .autoloadBytes, .above, 800_000, severity: .warning,
                          title: "Autoloaded options too large"),
            DetectionRule(name: "cron_backlog", metric: .cronBacklog, .above, 20, for: 900, severity: .warning,
                          title: "WP-Cron events overdue"),
        ]
    }

    /// Autoloaded options' bytes and the WP-Cron backlog, through WP-CLI.
    public var collectors: [PackCollector] { WooCommerceCollectors.all }
    /// A WooCommerce object cache needs little: 16 MB to 2 GB of Redis; 20 to 500 database connections.
    /// WP-Cron through WP-CLI: events listed, run, unscheduled, and scheduled again with the recurrence they had.
    public var tuning: TuningCatalogue {
        StandardTunables.catalogue(maxMemory: (16 << 20)...(2 << 30), connections: 20...500, cron: Self.cron)
    }

    static let cron = CronSupport(
        unit: "event",
        list: { _ in ["wp", "cron", "event", "list", "--fields=hook,next_run_relative,recurrence", "--format=json", "--path={app_path}"] },
        parse: { output in
            // WP-CLI's JSON is its last line; PHP notices may come before it.
            guard let line = output.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("[") }),
                  let rows = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]] else { return nil }
            return rows.compactMap { row in
                guard let hook = row["hook"] as? String else { return nil }
                return CronEntry(name: hook, schedule: row["recurrence"] as? String ?? "once",
                                 when: row["next_run_relative"] as? String ?? "")
            }
        },
        run: { ["wp", "cron", "event", "run", $0.name, "--path={app_path}"] },
        disable: { ["wp", "cron", "event", "unschedule", $0.name, "--path={app_path}"] },
        enable: { target in
            target.recurrence.map { ["wp", "cron", "event", "schedule", target.name, "now", $0, "--path={app_path}"] }
        })

    public func templateDefaults(for customer: Customer) -> [TemplateVariable: String] {
        [.appPath: "/var/www/html", .dbName: "wordpress", .dbUser: "wordpress", .phpFpmService: "php8.2-fpm",
         .phpIniDir: "/usr/local/etc/php/conf.d", .phpFpmListen: "127.0.0.1:9000", .webRoot: "/var/www/html"]
    }

    /// WordPress's own: a persistent object cache where none is measured, and autoloaded options past 800 kB.
    public func recommendations(_ latest: MetricSnapshot) -> [Recommendation] {
        var found: [Recommendation] = []
        if latest[.redisHitRate] == nil {
            found.append(Recommendation(key: "object_cache", title: "Turn on a persistent object cache (Redis)",
                                        evidence: "No object cache hit rate is measured, so WordPress rebuilds its objects on every request."))
        }
        if let autoload = latest[.autoloadBytes], autoload > 800_000 {
            found.append(Recommendation(key: "autoload", title: "Clean up autoloaded options",
                                        evidence: "About \(Int((autoload / 100_000).rounded()) * 100) kB of options load on every page (keep it under 800 kB)."))
        }
        return found
    }
}
