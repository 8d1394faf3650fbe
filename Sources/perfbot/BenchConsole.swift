import ArgumentParser
import BotCore
import BotStore
import ConsolePlugin
import Foundation
import Logging
import PerfbotApp

/// `perfbot bench-console`: `/perf hotspots`, `/perf benchmark` and the admins' daily digest over the fleet
/// `perfbot bench-cycle --prepare` makes, each against a plain read of the rows it aggregates, in one run.
struct BenchConsole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-console",
        abstract: "Benchmark the admin console's analytics over a prepared bench-cycle fleet.")

    @Option(help: "The database `perfbot bench-cycle --prepare` made.") var database = "bench-cycle.sqlite"
    @Option(help: "Runs of each, the median printed.") var runs = 3

    func run() async throws {
        let store = try SQLiteStore(path: database, metrics: Wiring.metricCatalogue)
        let now = BenchCycle.fixed
        let clock = ManualClock(now)
        var configuration = try PerfbotConfiguration(values: ["PERFBOT_SLACK_USERS": "U0BENCH01:viewer"])
        configuration.playbooksPath = "Playbooks"
        let wiring = try Wiring(configuration: configuration, store: store, clock: clock)
        let router = try wiring.commandRouter()
        let user = SlackUserID("U0BENCH01")!
        let load = { (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
            .joined(separator: " ") ?? "?" }
        func median(_ work: () async throws -> Void) async rethrows -> Double {
            var times: [Double] = []
            for _ in 0..<max(1, runs) {
                let start = ContinuousClock.now
                try await work()
                times.append((ContinuousClock.now - start).timeInterval)
            }
            return times.sorted()[times.count / 2]
        }
        func line(_ name: String, _ seconds: Double, floor: Double, rows: Int) -> String {
            "\(name): \(String(format: "%.3f", seconds)) s, \(String(format: "%.2f", seconds / max(floor, 0.0001)))× a plain read of "
                + "its \(rows) rows (\(String(format: "%.3f", floor)) s) · load \(load())"
        }
        let stores = try await store.allCustomers().count
        print("admin console over \(stores) stores, median of \(runs)")

        // Hotspots: an hour of CPU, memory and connection samples.
        let hour = now.addingTimeInterval(-3600)
        var hotRows = 0
        let hotFloor = try await median { hotRows = try await store.countRows(of: [.cpuPercent, .memoryPercent, .activeConnections], from: hour, to: now) }
        var hotspots = ""
        let hotTime = await median { hotspots = await router.route("hotspots", user: user, channel: nil, logger: Logger(label: "bench")).plainText }
        print(line("  /perf hotspots", hotTime, floor: hotFloor, rows: hotRows)
            + " · \(hotspots.components(separatedBy: "🔥").count - 1) shown")

        // A benchmark: a day of the four measures' samples, the whole fleet (the cohort's figures).
        let day = now.addingTimeInterval(-86400)
        var dayRows = 0
        let dayFloor = try await median {
            dayRows = try await store.countRows(of: BenchmarkMeasure.standard.map(\.metric), from: day, to: now)
        }
        let benchTime = await median { _ = await router.route("benchmark store-00001", user: user, channel: nil, logger: Logger(label: "bench")) }
        print(line("  /perf benchmark store-00001", benchTime, floor: dayFloor, rows: dayRows))

        // The digest: four days of the measures' hourly rollups, the hour of hotspot samples and yesterday's snapshots.
        let digest = AdminDigest(analytics: store, clock: clock)
        let today = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86400).rounded(.down) * 86400)
        var digestRows = 0
        let digestFloor = try await median {
            digestRows = try await store.countRows(of: BenchmarkMeasure.standard.map(\.metric), from: today.addingTimeInterval(-4 * 86400),
                                                   to: today, rollups: true)
                + store.countRows(of: [.cpuPercent, .memoryPercent, .activeConnections], from: hour, to: now)
        }
        var composed = ""
        let digestTime = try await median { composed = try await digest.compose().plainText }
        print(line("  daily digest", digestTime, floor: digestFloor, rows: digestRows)
            + " · \(composed.split(separator: "\n").count) lines")
    }
}
