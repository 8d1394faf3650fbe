import BotCore
import Foundation

extension ConsolePlugin {
    /// One row of the fleet table.
    struct FleetRow {
        var customer: Customer
        var score: Int?
        var cpu: Double?
        var memory: Double?
        var issues: Int
        var lastSample: Date?
    }

    func fleet(sort: FleetSort, platform: Platform?) async throws -> BotReply {
        let now = clock.now
        let readings = try await reader.fleetReadings(asOf: now)
        let customers = readings.customers.filter { platform == nil || $0.platform == platform }
        let shown = Set(customers.map(\.id))
        let issues = readings.openIssues.filter { shown.contains($0.store) }
        let issueCounts = Dictionary(grouping: issues, by: \.store).mapValues(\.count)

        let rows = customers.map { customer in
            let latest = readings.latest[customer.id] ?? MetricSnapshot()
            let current = latest.fresh(asOf: now)
            return FleetRow(customer: customer,
                            score: report(latest, uptime24h: readings.uptime24h[customer.id], asOf: now)?.score,
                            cpu: current[.cpuPercent], memory: current[.memoryPercent],
                            issues: issueCounts[customer.id] ?? 0, lastSample: latest.lastSampleAt)
        }
        let title = platform.map { "Fleet overview · \($0.displayName)" } ?? "Fleet overview"
        guard !rows.isEmpty else {
            return BotReply([.header(title), .text("No stores yet. Import customers with `perfbot customers import FILE`.")])
        }

        let scored = rows.compactMap(\.score)
        let bands = Dictionary(grouping: scored, by: HealthBand.init(score:)).mapValues(\.count)
        let critical = issues.filter { $0.severity == .critical }.count
        var blocks: [ReplyBlock] = [
            .header(title),
            .fields([
                ("Customers", "\(rows.count)"),
                ("Active", "\(rows.filter(\.customer.active).count)"),
                ("Open issues", "\(issues.count)"),
                ("Critical", "\(critical)"),
            ]),
            .bars([
                ReplyBar(label: "Healthy (≥80)", count: bands[.healthy] ?? 0, total: scored.count, marker: "🟢"),
                ReplyBar(label: "Warning (50–79)", count: bands[.warning] ?? 0, total: scored.count, marker: "🟡"),
                ReplyBar(label: "Critical (<50)", count: bands[.critical] ?? 0, total: scored.count, marker: "🔴"),
            ]),
        ]
        let sorted = rows.sorted(by: order(sort))
        let visible = sorted.prefix(tableLimit)
        blocks.append(.table(ReplyTable(
            columns: ["Store", "Platform", "Health", "CPU", "Mem", "Issues", "Last check"],
            rows: visible.map { row in
                [row.customer.id.rawValue, row.customer.platform.displayName,
                 row.score.map { "\(HealthBand(score: $0).emoji) \($0)" } ?? "⚪ –",
                 row.cpu.map { "\(Int($0.rounded()))%" } ?? "–",
                 row.memory.map { "\(Int($0.rounded()))%" } ?? "–",
                 "\(row.issues)",
                 row.lastSample.map { Wording.ago($0, now: now) } ?? "never"]
            },
            rightAligned: [3, 4, 5])))
        var notes = ["Sorted by \(sort.rawValue)."]
        if sorted.count > visible.count {
            notes.append("Showing \(visible.count) of \(sorted.count); narrow with `--platform` or change `--sort`.")
        }
        let unscored = rows.count - scored.count
        if unscored > 0 { notes.append("\(unscored) without recent data (not in the distribution).") }
        notes.append("`/perf store <store>` for details.")
        blocks.append(.context(notes.joined(separator: " ")))
        return BotReply(blocks)
    }

    /// Worst first for health; highest first for the rest; missing values last; name breaks ties.
    private func order(_ sort: FleetSort) -> (FleetRow, FleetRow) -> Bool {
        func compare(_ a: Double?, _ b: Double?, _ lhs: FleetRow, _ rhs: FleetRow, ascending: Bool) -> Bool {
            switch (a, b) {
            case let (x?, y?) where x != y: return ascending ? x < y : x > y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return lhs.customer.id < rhs.customer.id
            }
        }
        return { lhs, rhs in
            switch sort {
            case .health: compare(lhs.score.map(Double.init), rhs.score.map(Double.init), lhs, rhs, ascending: true)
            case .cpu: compare(lhs.cpu, rhs.cpu, lhs, rhs, ascending: false)
            case .memory: compare(lhs.memory, rhs.memory, lhs, rhs, ascending: false)
            case .issues: compare(Double(lhs.issues), Double(rhs.issues), lhs, rhs, ascending: false)
            }
        }
    }
}
