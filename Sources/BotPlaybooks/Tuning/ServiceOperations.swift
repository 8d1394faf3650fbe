import BotCore
import Foundation

/// The playbooks of the things done once to a store's services (`ServiceOperation`): argv only, every value
/// validated by its type before it is placed in, each ending with a step whose output shows that it took.
public enum ServiceOperations {
    /// Adds a `User-agent` group that disallows everything to `$0/robots.txt`, once. Without such a file the platform
    /// serves its own (WordPress's and Magento's are made by the application, with their sitemap): a file would replace
    /// it, so the step fails and says so. Fixed text; the directory and the crawler's name are positional parameters.
    /// (No braces: argv templates read them as placeholders.)
    public static let robotsScript = #"f="$0/robots.txt"; if [ ! -f "$f" ]; then "#
        + #"echo "there is no robots.txt file in $0: the store's application makes its own, which a file would replace"; exit 1; fi; "#
        + #"if grep -qixF "User-agent: $1" "$f"; then exit 0; fi; printf '\nUser-agent: %s\nDisallow: /\n' "$1" >> "$f""#

    /// Adds a deny of user agents containing `$1` to the web server's include file `$0` (nginx: an `if` that answers
    /// 403), once; checks the configuration with `nginx -t` and takes the line out again when it fails. Fixed text; the
    /// braces are printf's octal escapes.
    public static let denyScript = #"line=$(printf 'if ($http_user_agent ~* "%s") \173 return 403; \175' "$1"); "#
        + #"if [ -f "$0" ] && grep -qxF "$line" "$0"; then exit 0; fi; cp -p "$0" "$0.perfbot-before" 2>/dev/null || : > "$0.perfbot-before"; "#
        + #"printf '%s\n' "$line" >> "$0"; if nginx -t; then rm -f "$0.perfbot-before"; exit 0; fi; "#
        + #"mv -f "$0.perfbot-before" "$0"; echo "nginx refused the configuration; the deny was taken out again"; exit 1"#

    /// The job's playbook for `operation` on `platform`; nil where the platform has no such thing.
    /// - Parameter cron: how the platform's pack runs and switches its cron (nil: it declares none).
    public static func playbook(for operation: ServiceOperation, platform: Platform, cron: CronSupport?) -> Playbook? {
        let actions: [PlaybookAction]
        let title: String
        switch operation {
        case let .purge(pattern):
            title = "Purge \(pattern.path) from Varnish"
            actions = [
                PlaybookAction(name: "Ban cached pages whose URL matches \(pattern.expression)",
                               // varnishadm quotes each argument for Varnish's CLI, where a backslash is written twice.
                               run: ["varnishadm", "-t", "3", "ban", "req.url", "~",
                                     pattern.expression.replacingOccurrences(of: "\\", with: "\\\\")],
                               target: .app, timeout: 30, tags: [.purge], reversible: true, safe: true),
                PlaybookAction(name: "Check that Varnish holds the ban", run: ["varnishadm", "-t", "3", "ban.list"],
                               target: .app, timeout: 30, tags: [.readOnly], reversible: true, safe: true),
            ]
        case let .runCron(target):
            guard let cron, let argv = cron.run(target) else { return nil }
            title = "Run cron \(target.name) now"
            actions = [PlaybookAction(name: "Run the cron \(cron.unit) \(target.name)", run: argv,
                                      target: .app, timeout: 600, tags: [], reversible: true, safe: true)]
        case let .toggleCron(target, enabled):
            guard let cron, let argv = enabled ? cron.enable(target) : cron.disable(target) else { return nil }
            title = "\(enabled ? "Switch on" : "Switch off") cron \(target.name)"
            actions = [PlaybookAction(name: "\(enabled ? "Switch on" : "Switch off") the cron \(cron.unit) \(target.name)", run: argv,
                                      target: .app, timeout: 60, tags: [.rewrite], reversible: true, safe: enabled)]
        case let .blockCrawler(block):
            switch block.how {
            case .robots:
                title = "Ask \(block.crawler) to stay away (robots.txt)"
                actions = [
                    PlaybookAction(name: "Add \"User-agent: \(block.crawler)\" and \"Disallow: /\" to robots.txt",
                                   run: ["sh", "-c", robotsScript, "{web_root}", block.crawler],
                                   target: .app, timeout: 30, tags: [.rewrite], reversible: true, safe: true),
                    PlaybookAction(name: "Read robots.txt back", run: ["cat", "{web_root}/robots.txt"],
                                   target: .app, timeout: 30, tags: [.readOnly], reversible: true, safe: true),
                ]
            case .deny:
                title = "Refuse \(block.crawler) in the web server"
                actions = [
                    PlaybookAction(name: "Deny user agents containing \(block.crawler) (checked with nginx -t)",
                                   run: ["sh", "-c", denyScript, "{nginx_deny_file}", block.crawler],
                                   target: .app, timeout: 30, tags: [.rewrite], reversible: true, safe: false),
                    PlaybookAction(name: "Reload nginx", run: ["nginx", "-s", "reload"],
                                   target: .app, timeout: 30, tags: [.restart], reversible: true, safe: true),
                ]
            }
        }
        var playbook = Playbook(name: operation.name, title: title, platform: platform, trigger: .manual, actions: actions,
                                notifications: PlaybookNotifications(dashboard: title, slack: true), premiumOnly: true,
                                file: "(built by perfbot)")
        playbook.serviceOperation = operation
        return playbook
    }

    /// Why a finished job of `operation` did not take, from its last step's output; nil when it did.
    public static func mismatch(_ operation: ServiceOperation, lastOutput: String) -> String? {
        switch operation {
        case let .purge(pattern):
            return lastOutput.contains("req.url ~ \(pattern.expression)") ? nil
                : "Varnish does not list the ban of \(pattern.expression): the purge did not take"
        case let .blockCrawler(block) where block.how == .robots:
            return lastOutput.range(of: "User-agent: \(block.crawler)", options: .caseInsensitive) != nil ? nil
                : "robots.txt does not name \(block.crawler): the rule did not take"
        default:
            return nil
        }
    }
}

/// A store's cron as its platform's pack declares it (ORIGINAL-DESIGN §1.4): how to list the schedule, and the argv
/// that runs, switches off and switches on an event or group (nil where the platform cannot).
public struct CronSupport: Sendable {
    /// What one entry is called: `event` (WordPress) or `group` (Magento).
    public var unit: String
    /// The schedule's argv for a store with these settings.
    public var list: @Sendable (_ settings: [String: String]) -> [String]
    /// The schedule from the list's output, soonest or newest first; nil when the output is not a schedule.
    public var parse: @Sendable (String) -> [CronEntry]?
    public var run: @Sendable (CronTarget) -> [String]?
    public var disable: @Sendable (CronTarget) -> [String]?
    public var enable: @Sendable (CronTarget) -> [String]?

    public init(unit: String, list: @escaping @Sendable ([String: String]) -> [String], parse: @escaping @Sendable (String) -> [CronEntry]?,
                run: @escaping @Sendable (CronTarget) -> [String]?, disable: @escaping @Sendable (CronTarget) -> [String]?,
                enable: @escaping @Sendable (CronTarget) -> [String]?) {
        self.unit = unit
        self.list = list
        self.parse = parse
        self.run = run
        self.disable = disable
        self.enable = enable
    }
}

extension CronTarget {
    /// Magento's cron as a whole (`cron:run` without a group; its crontab removed or installed).
    public static let allMagento = "all"
}

/// One line of a store's cron schedule.
public struct CronEntry: Sendable, Equatable {
    /// The event (hook) or job code.
    public var name: String
    /// How often it recurs (`hourly`), or its Magento group.
    public var schedule: String
    /// When it runs next, or how it last went (`success at 10:05`).
    public var when: String

    public init(name: String, schedule: String, when: String) {
        self.name = name
        self.schedule = schedule
        self.when = when
    }
}
