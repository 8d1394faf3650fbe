import Foundation

/// The digest as a report for people: one block per class, worst total time first.
public enum SlowLogText {
    /// - Parameter totalTime: the query time of every class, shown or not (each class's share is of it).
    public static func render(_ digest: SlowLogDigest, totalClasses: Int, totalTime: Double, source: String) -> String {
        var lines = ["# \(source): \(digest.entries) entries in \(totalClasses) classes"
            + (digest.classes.count < totalClasses ? "; the \(digest.classes.count) worst by total time" : ", by total time")]
        for (rank, query) in digest.classes.enumerated() {
            let share = totalTime > 0 ? " (\(percent(query.queryTime.sum / totalTime)) of all the time)" : ""
            lines.append("")
            lines.append("## \(rank + 1). \(query.queryID)  ×\(query.count)  \(seconds(query.queryTime.sum)) in total\(share)")
            lines.append("   \(clip(query.fingerprint, 400))")
            lines.append("   time    avg \(seconds(query.queryTime.avg))  p95 \(seconds(query.queryTime.p95 ?? query.queryTime.max))"
                + "  max \(seconds(query.queryTime.max))")
            lines.append("   lock    total \(seconds(query.lockTime.sum))  max \(seconds(query.lockTime.max))")
            lines.append("   rows    sent \(count(query.rowsSent.sum)) (max \(count(query.rowsSent.max)))"
                + "  examined \(count(query.rowsExamined.sum)) (max \(count(query.rowsExamined.max)))")
            if let first = query.firstSeen, let last = query.lastSeen {
                lines.append("   seen    \(stamp(first)) → \(stamp(last))")
            }
            if !query.databases.isEmpty || !query.users.isEmpty {
                lines.append("   from    databases \(query.databases.isEmpty ? "-" : query.databases.joined(separator: ", "))"
                    + "; users \(query.users.isEmpty ? "-" : query.users.joined(separator: ", "))")
            }
            lines.append("   example \(query.exampleAt.map(stamp) ?? "(no time)"), \(seconds(query.queryTime.max)):")
            lines.append("     \(clip(query.example.split(whereSeparator: \.isNewline).joined(separator: " "), 600))")
        }
        return lines.joined(separator: "\n")
    }

    public static func seconds(_ value: Double) -> String {
        if value >= 100 { return String(format: "%.0f s", value) }
        if value >= 1 { return String(format: "%.2f s", value) }
        if value >= 0.001 { return String(format: "%.1f ms", value * 1000) }
        return String(format: "%.0f µs", value * 1_000_000)
    }

    public static func count(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        formatter.locale = Locale(identifier: "en_US")
        return formatter.string(from: NSNumber(value: value)) ?? "\(Int(value))"
    }

    static func percent(_ ratio: Double) -> String { String(format: "%.1f %%", ratio * 100) }

    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    static func clip(_ text: some StringProtocol, _ limit: Int) -> String {
        text.count <= limit ? String(text) : String(text.prefix(limit)) + "…"
    }
}
