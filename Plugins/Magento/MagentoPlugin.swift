import BotCore
import BotPlaybooks
import Foundation

/// Magento knowledge: detection rules, the one-click battery and playbooks under `Playbooks/magento`.
public struct MagentoPlugin: PlatformPlugin {
    public let name = "magento"
    public let platform = Platform("magento", displayName: "Magento")

    public init() {}

    /// `Playbooks/<platform>/*.yaml`, shipped inside the pack.
    public var playbookRoot: String? { Bundle.module.path(forResource: "Playbooks", ofType: nil) }

    /// The eleven standard rules plus a low Varnish hit rate (which hurts Magento most), indexers left invalid
    /// and cache types switched off.
    public var rules: [DetectionRule] {
        Self.tuned(StandardRules.all) + [
            DetectionRule(name: "varnish_hit_rate_low", metric: .varnishHitRate, .below, 80, for: 900,
                          severity: .warning, title: "Varnish hit rate low"),
            DetectionRule(name: "indexers_invalid", metric: .invalidIndexers, .above, 0, for: 1800, severity: .warning,
                          title: "Indexers need a reindex"),
            DetectionRule(name: "cache_disabled", metric: .cacheTypesDisabled, .above, 0, for: 600, severity: .warning,
                          title: "Cache types switched off"),
        ]
    }

    /// The standard rules as Magento needs them: a reindex or a cache warm-up keeps PHP busy for several minutes
    /// by design, so high CPU must last 15 minutes rather than 10 before it is an issue.
    static func tuned(_ rules: [DetectionRule]) -> [DetectionRule] {
        rules.map { rule in
            guard rule.name == "high_cpu" else { return rule }
            var tuned = rule
            tuned.window = 900
            return tuned
        }
    }

    /// Invalid indexers and disabled cache types, through `bin/magento`.
    public var collectors: [PackCollector] { MagentoCollectors.all }
    /// Magento keeps its cache and sessions in Redis: 64 MB to 4 GB; 50 to 1,000 database connections.
    /// Magento's cron: the newest `cron_schedule` rows, a group run with `cron:run --group`, a group switched off and on
    /// with `--exclude-group` in its crontab, and the whole cron with `cron:remove` and `cron:install`: Magento has no
    /// switch for one job.
    public var tuning: TuningCatalogue {
        StandardTunables.catalogue(maxMemory: (64 << 20)...(4 << 30), connections: 50...1000, cron: Self.cron)
    }

    static let cron = CronSupport(
        unit: "group",
        list: { settings in
            DatabaseClient.argv("SELECT job_code, status, DATE_FORMAT(COALESCE(executed_at, scheduled_at), '%Y-%m-%d %H:%i') "
                + "FROM cron_schedule ORDER BY schedule_id DESC LIMIT 25",
                user: settings[TemplateVariable.dbReadonlyUser.rawValue], database: "{db_name}", settings: settings,
                extra: ["--skip-column-names"])
        },
        parse: { output in
            output.split(whereSeparator: \.isNewline).compactMap { line in
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard fields.count == 3 else { return nil }
                return CronEntry(name: fields[0], schedule: fields[1], when: fields[2])
            }
        },
        run: { target in ["bin/magento", "cron:run"] + (target.name == CronTarget.allMagento ? [] : ["--group=\(target.name)"]) },
        disable: { target in
            target.name == CronTarget.allMagento ? ["bin/magento", "cron:remove"]
                : isGroup(target.name) ? ["sh", "-c", excludeGroupScript, "off", target.name] : nil
        },
        enable: { target in
            target.name == CronTarget.allMagento ? ["bin/magento", "cron:install", "--force"]
                : isGroup(target.name) ? ["sh", "-c", excludeGroupScript, "on", target.name] : nil
        })

    /// A cron group's name as Magento's `crontab.xml` writes them: lowercase letters, digits and `_`.
    static func isGroup(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Switches one cron group (`$1`) off or on (`$0`) in the crontab `cron:install` wrote: Magento's own
    /// `cron:run --exclude-group=<group>` (2.4.4 and later) added to, or taken from, its `cron:run` lines, then the
    /// crontab read back. Fixed text; the group (lowercase letters, digits, `_`) is a positional parameter. No braces:
    /// argv templates read them as placeholders.
    static let excludeGroupScript = #"c=$(crontab -l) || exit 1; "#
        + #"case "$c" in *"bin/magento cron:run"*) ;; *) echo "this crontab has no Magento cron:run line (bin/magento cron:install writes it)"; exit 1;; esac; "#
        + #"if [ "$0" = off ]; then "#
        + #"if printf '%s\n' "$c" | grep -qE -- "--exclude-group=$1( |$)"; then crontab -l; exit 0; fi; "#
        + #"printf '%s\n' "$c" | sed "/bin\/magento cron:run/ s#cron:run#cron:run --exclude-group=$1#" | crontab - || exit 1; "#
        + #"else printf '%s\n' "$c" | sed -E "s# --exclude-group=$1( |\$)#\1#g" | crontab - || exit 1; fi; crontab -l"#

    public func templateDefaults(for customer: Customer) -> [TemplateVariable: String] {
        [.appPath: "/var/www/html", .dbName: "magento", .dbUser: "magento", .phpFpmService: "php8.2-fpm", .varnishURL: "http://varnish:6081/",
         .phpIniDir: "/usr/local/etc/php/conf.d", .phpFpmListen: "127.0.0.1:9000", .webRoot: "/var/www/html/pub"]
    }
}
