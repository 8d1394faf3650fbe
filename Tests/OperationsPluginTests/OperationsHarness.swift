import BotCore
import BotPlaybooks
import BotStore
import Foundation
import Logging
import PerfbotApp

/// A path inside the repository.
func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Waits no time at all.
struct InstantSleeper: Sleeper {
    func sleep(seconds: TimeInterval) async throws {}
}

/// A stand-in for `docker` or `ssh`: records each argv it is started with, one line per run, and exits 0.
struct StandIn {
    let path: String
    let log: String

    init(name: String, in directory: URL, exitCode: Int = 0, delay: Double = 0) throws {
        path = directory.appendingPathComponent(name).path
        log = directory.appendingPathComponent("\(name).log").path
        let script = """
            #!/bin/sh
            sleep \(delay)
            for argument in "$@"; do printf '%s\\037' "$argument"; done >> '\(log)'
            printf '\\n' >> '\(log)'
            exit \(exitCode)
            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// Every recorded argv (without the program name), in order.
    func runs() -> [[String]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { line in
            line.split(separator: "\u{1F}", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
    }
}

let now = Date(timeIntervalSince1970: 1_800_000_000)
let admin = SlackUserID("U0ADMIN01")!
let operatorUser = SlackUserID("U0OPS0001")!
let viewer = SlackUserID("U0VIEW001")!

/// perfbot wired as in production over a temporary database, with `docker` and `ssh` stand-ins.
struct OperationsBot {
    let store: SQLiteStore
    let router: CommandRouter
    let docker: StandIn
    let ssh: StandIn
    let wiring: Wiring

    init(customers: [Customer], metrics: [MetricName: Double] = [.memoryPercent: 61], dockerDelay: Double = 0) async throws {
        let directory = try temporaryDirectory()
        store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path)
        docker = try StandIn(name: "docker", in: directory, delay: dockerDelay)
        ssh = try StandIn(name: "ssh", in: directory)
        try await store.upsert(customers, at: now)
        for customer in customers {
            try await store.insert(metrics.map { MetricSample(store: customer.id, metric: $0.key, at: now.addingTimeInterval(-30), value: $0.value) })
        }
        var configuration = try PerfbotConfiguration(values: ["PERFBOT_SLACK_USERS": "U0ADMIN01:admin,U0OPS0001:operator,U0VIEW001:viewer"])
        configuration.playbooksPath = repositoryPath("Playbooks")
        wiring = try Wiring(configuration: configuration, store: store, clock: ManualClock(now),
                            executors: ExecutorFactory(docker: docker.path, ssh: ssh.path), sleeper: InstantSleeper())
        router = try wiring.commandRouter()
    }

    func ask(_ text: String, as user: SlackUserID = operatorUser) async -> String {
        await router.route(text, user: user, channel: "C0OPS0001", logger: Logger(label: "test")).plainText
    }
}

func woo(_ name: String = "acme-store", container: String = "acme-store-app", plan: Plan = .premium,
         level: AutomationLevel = .safeAutoFix, exceptions: [String] = []) -> Customer {
    Customer(id: StoreID(name)!, platform: .woocommerce, plan: plan, contactEmail: "o@\(name).example",
             container: container, automationLevel: level, automationExceptions: exceptions)
}

func magento(_ name: String = "widgets-inc", container: String = "widgets-inc-app", plan: Plan = .basic) -> Customer {
    Customer(id: StoreID(name)!, platform: .magento, plan: plan, contactEmail: "o@\(name).example", container: container)
}
