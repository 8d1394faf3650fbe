import BotCore
import BotPlaybooks
import Foundation

/// WooCommerce knowledge: detection rules, the one-click battery and playbooks under `Playbooks/woocommerce`.
public struct WooCommercePlugin: PlatformPlugin {
    public let name = "woocommerce"
    public let platform = Platform.woocommerce

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

    public func templateDefaults(for customer: Customer) -> [TemplateVariable: String] {
        [.appPath: "/var/www/html", .dbName: "wordpress", .dbUser: "wordpress", .phpFpmService: "php8.2-fpm"]
    }
}
