import BotCore
import Foundation

/// Hotspots and cohort benchmarks (ORIGINAL-DESIGN §3.2, §3.3).
extension ConsolePlugin {
    static let hotspotsSpec = CommandSpec(
        "hotspots",
        flags: [FlagSpec("host", values: [], help: "only the stores on this host"),
                FlagSpec("period", values: [], help: "the period judged: 15m to 24h (default 1h)")],
        readOnly: true,
        summary: "Stores taking more than their share (CPU, memory, disk I/O, network, connections), with evidence.",
        examples: ["hotspots", "hotspots --host web-3 --period 6h"])

    static let benchmarkSpec = CommandSpec(
        "benchmark", arguments: [ArgumentSpec("store", .store)], readOnly: true,
        summary: "A store against similar stores: TTFB, memory, cache hit rate, slow queries; its percentile.",
        examples: ["benchmark acme-store"])

    /// The readings of one period the hotspot criteria judge, the whole fleet in one query per metric.
    func hotspotInputs(period: TimeInterval, now: Date) async throws -> (HotspotInputs, String?) {
        guard let analytics else { throw BotError.invalid("Hotspots need perfbot's database readers; none is wired.") }
        let from = now.addingTimeInterval(-period)
        var inputs = HotspotInputs()
        inputs.cpu = try await analytics.fleetAggregates(.cpuPercent, from: from, to: now, threshold: HotspotAnalysis.cpuShare)
        inputs.memory = try await analytics.fleetAggregates(.memoryPercent, from: from, to: now, threshold: HotspotAnalysis.memoryLevel)
        inputs.connectionsNearLimit = try await analytics.connectionsNearLimit(from: from, to: now, share: 0.9)
        var note: String?
        if let resources {
            do {
                inputs.traffic = try await resources.containerTraffic(period: period)
            } catch {
                note = "Disk I/O and network were left out: Prometheus did not answer (\(String(describing: error).prefix(120)))."
            }
        } else {
            note = "Disk I/O and network need PERFBOT_PROMETHEUS_URL (cAdvisor's counters); they were left out."
        }
        return (inputs, note)
    }

    /// `/perf hotspots [--host H] [--period 1h]`.
    func hotspots(host: String?, periodText: String?) async throws -> BotReply {
        let period = try Self.period(periodText)
        let now = clock.now
        guard let analytics else { throw BotError.invalid("Hotspots need perfbot's database readers; none is wired.") }
        let customers = try await analytics.allCustomers().filter { host == nil || $0.host == host }
        let (inputs, note) = try await hotspotInputs(period: period, now: now)
        let found = HotspotAnalysis.find(customers, inputs: inputs, period: period)
        let scope = host.map { "host \($0)" } ?? "the fleet"
        var blocks: [ReplyBlock] = [.header("Hotspots · \(scope) · last \(Wording.span(period))")]
        if found.isEmpty {
            blocks.append(.text("✅ No store of \(scope) takes more than its share over the last \(Wording.span(period)) "
                + "(\(customers.count) checked)."))
        } else {
            for hotspot in found.prefix(15) {
                blocks.append(.text("🔥 *\(hotspot.store)*" + (hotspot.host.map { " on \($0)" } ?? "") + "\n"
                    + hotspot.evidence.map { "• \($0)" }.joined(separator: "\n") + "\n"
                    + "_Suggestion:_ " + hotspot.suggestions.joined(separator: "; ") + "."))
            }
            if found.count > 15 { blocks.append(.text("… and \(found.count - 15) more.")) }
        }
        blocks.append(.context("Criteria: CPU over 2× the plan's allocation; memory over 90 % of its limit for most of the period; "
            + "disk I/O or network far above the fleet (robust z ≥ 3.5); connections at 90 % of the limit 3 times or more."
            + (note.map { " " + $0 } ?? "")))
        return BotReply(blocks)
    }

    /// `--period`: `15m` … `24h`.
    static func period(_ text: String?) throws -> TimeInterval {
        guard let text else { return 3600 }
        let number = Double(text.dropLast()) ?? -1
        let seconds: Double = switch text.last {
        case "m": number * 60
        case "h": number * 3600
        default: -1
        }
        guard seconds >= 900, seconds <= 86400 else {
            throw BotError.invalid("`--period \(text.prefix(20))` is not a period from 15m to 24h (such as `30m`, `6h`).")
        }
        return seconds
    }

    /// Each store's figure on `measure` over `from..<to`: the mean of its samples, or their sum per hour.
    func figures(_ measure: BenchmarkMeasure, from: Date, to: Date) async throws -> [StoreID: Double] {
        guard let analytics else { return [:] }
        let aggregates = try await analytics.fleetAggregates(measure.metric, from: from, to: to, threshold: .infinity)
        let hours = to.timeIntervalSince(from) / 3600
        return aggregates.compactMapValues { $0.count == 0 ? nil : measure.perHour ? $0.sum / hours : $0.mean }
    }

    /// `/perf benchmark <store>`: the store against its cohort over the last 24 hours.
    func benchmark(_ id: StoreID) async throws -> BotReply {
        guard let analytics else { throw BotError.invalid("Benchmarks need perfbot's database readers; none is wired.") }
        let fleet = try await analytics.allCustomers()
        guard let customer = fleet.first(where: { $0.id == id }) else {
            throw BotError.unknownStore(id.rawValue, among: fleet.map(\.id.rawValue))
        }
        let cohort = Cohort.of(customer, in: fleet)
        let now = clock.now
        let from = now.addingTimeInterval(-86400)
        var rows: [[String]] = []
        var lagging: [String] = []
        for measure in BenchmarkMeasure.standard {
            let values = try await figures(measure, from: from, to: now)
            let line = BenchmarkLine(measure, value: values[id], peers: cohort.peers.compactMap { values[$0.id] })
            func shown(_ value: Double?) -> String {
                guard let value else { return "—" }
                return measure.metric.isPercent ? Wording.number(value) + "%" : Wording.measure(value, unit: measure.metric.unit)
            }
            rows.append([measure.label, shown(line.value), shown(line.cohortAverage), shown(line.cohortBest),
                         line.percentile.map { "\(Int($0.rounded()))th" } ?? "—", "\(line.cohortSize)"])
            if line.isLagging { lagging.append(measure.label.lowercased()) }
        }
        let described = "\(customer.platform.displayName) · \(customer.plan.rawValue)"
            + (customer.catalogSize.map { " · catalogue \(Wording.grouped(Double($0)))" } ?? "")
            + (customer.ordersPerDay.map { " · \(Wording.grouped(Double($0))) orders/day" } ?? "")
        var blocks: [ReplyBlock] = [
            .header("Benchmark · \(id)"),
            .text("Against \(cohort.peers.count) similar store\(cohort.peers.count == 1 ? "" : "s") (\(described)), last 24 h."
                + (cohort.widening.map { " Fewer than 5 matched the exact cohort, so it was widened to \($0)." } ?? "")),
            .table(ReplyTable(columns: ["Measure", "This store", "Cohort avg", "Cohort best", "Percentile", "Peers"], rows: rows,
                              rightAligned: [1, 2, 3, 4, 5])),
        ]
        if !lagging.isEmpty {
            blocks.append(.text("⚠️ Below the cohort's 10th percentile on " + lagging.joined(separator: ", ")
                + ": flagged in the daily digest if it stays there 3 days running."))
        }
        blocks.append(.context("Percentile: the share of peers this store does better than (100th is best). "
            + "Cohort: same platform and plan, catalogue within ±20 %, orders a day within ±30 %."))
        return BotReply(blocks)
    }
}
