import BotCore
import BotPlaybooks
import Foundation

extension MetricName {
    /// WordPress's autoloaded options, bytes (Site Health warns at 800,000).
    public static let autoloadBytes = MetricName("autoload_bytes", unit: "bytes", freshness: slowReadingFreshness,
                                                 plainName: "the options WordPress loads on every page")
    /// WP-Cron events overdue by more than 10 minutes.
    public static let cronBacklog = MetricName("cron_backlog", plainName: "WordPress scheduled tasks that are overdue")
}

/// WooCommerce's own readings, through WP-CLI in the store's app path.
enum WooCommerceCollectors {
    static let all = [autoload, cron]

    /// `wp option list --autoload=on --format=total_bytes` prints one number: the autoloaded options' bytes.
    static let autoload = PackCollector(name: "wp_autoload",
                                        argv: ["wp", "option", "list", "--autoload=on", "--format=total_bytes", "--path={app_path}"],
                                        gives: [.autoloadBytes]) { output, _ in
        guard let bytes = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)), bytes >= 0 else {
            throw PackCollectorError("wp option list: expected a number of bytes, got '\(output.prefix(80))'")
        }
        return [(.autoloadBytes, bytes)]
    }

    /// `wp cron event list --fields=hook,next_run_gmt --format=csv`: events due more than 10 minutes ago are
    /// the backlog (WP-Cron runs on visits, or a system cron that stopped).
    static let cron = PackCollector(name: "wp_cron",
                                    argv: ["wp", "cron", "event", "list", "--fields=hook,next_run_gmt", "--format=csv", "--path={app_path}"],
                                    gives: [.cronBacklog]) { output, now in
        let lines = output.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first, header.trimmingCharacters(in: .whitespaces) == "hook,next_run_gmt" else {
            throw PackCollectorError("wp cron event list: expected a hook,next_run_gmt header, got '\(lines.first?.prefix(80) ?? "")'")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let overdue = lines.dropFirst().filter { line in
            guard let due = line.split(separator: ",").last.flatMap({ formatter.date(from: String($0)) }) else { return false }
            return now.timeIntervalSince(due) > 600
        }.count
        return [(.cronBacklog, Double(overdue))]
    }
}
