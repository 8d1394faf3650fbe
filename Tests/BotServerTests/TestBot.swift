import BotChannels
import BotPlaybooks
import BotCore
import BotServer
import BotStore
import Foundation
import TestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PerfbotApp
import ServiceLifecycle
import Testing

/// Runs a `BotService` under the test application's service group.
struct ServiceAdapter: Service {
    let inner: any BotService
    func run() async throws {
        try await cancelWhenGracefulShutdown { try? await inner.run() }
    }
}

let signingSecret = "test-signing-secret-0001"
let webhookToken = "test-webhook-token-0001"
let t0 = Date(timeIntervalSince1970: 1_800_000_000)

/// A perfbot wired as in production on a temporary SQLite file, with a clock that stands still.
struct TestBot {
    let store: SQLiteStore
    let clock: ManualClock
    let wiring: Wiring
    let server: PerfbotServer

    init(bodyLimit: Int = 1 << 20, slack: Bool = true, webhooks: Bool = true, extra: [String: String] = [:],
         executors: ExecutorFactory = ExecutorFactory()) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("perfbot.sqlite").path, metrics: Wiring.metricCatalogue)
        clock = ManualClock(t0)
        var values = [
            "PERFBOT_SLACK_USERS": "U0DEMOADM:admin,U0DEMOOPS:operator,U0DEMOVEW:viewer",
            "PERFBOT_BODY_LIMIT": String(bodyLimit),
        ]
        if slack { values["SLACK_SIGNING_SECRET"] = signingSecret }
        if webhooks { values["PERFBOT_WEBHOOK_TOKEN"] = webhookToken }
        values.merge(extra) { _, new in new }
        var configuration = try PerfbotConfiguration(values: values)
        configuration.playbooksPath = repositoryPath("Playbooks")
        wiring = try Wiring(configuration: configuration, store: store, clock: clock, executors: executors,
                            sleeper: InstantSleeper())
        server = try wiring.server()
        try await DemoFleet(storeCount: 3, minutes: 120).populate(store, now: t0)
    }

    /// Waits for the end of every job of `store` (its listeners told), for at most `seconds`: a job that never ends
    /// fails the test rather than hanging it.
    func outcomes(of store: StoreID, seconds: Double = 30) async throws {
        let jobs = try await self.store.jobs(store: store, limit: 50)
        let engine = wiring.engine
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for job in jobs { _ = await engine.outcome(of: job.id) }
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return false
            }
            let ended = try await group.next() ?? false
            group.cancelAll()
            #expect(ended, "the jobs of \(store) did not end within \(seconds) s")
        }
    }

    var app: some ApplicationProtocol { server.makeApplication(host: "127.0.0.1", port: 0) }

    /// The application with perfbot's background services (jobs, outbox, retention) running beside it.
    var appWithServices: some ApplicationProtocol {
        server.makeApplication(host: "127.0.0.1", port: 0,
                               services: wiring.services().map { ServiceAdapter(inner: $0) as any Service })
    }

    /// Headers Slack would send for `body` at the bot's current time.
    func slackHeaders(_ body: String, contentType: String = "application/x-www-form-urlencoded",
                      at date: Date? = nil, secret: String = signingSecret) -> HTTPFields {
        let timestamp = String(Int((date ?? clock.now).timeIntervalSince1970))
        return [
            .contentType: contentType,
            HTTPField.Name("X-Slack-Request-Timestamp")!: timestamp,
            HTTPField.Name("X-Slack-Signature")!: SlackSignatureVerifier.sign(body: Array(body.utf8), timestamp: timestamp, secret: secret),
        ]
    }

    /// A slash-command form body.
    static func commandBody(_ text: String, user: String = "U0DEMOADM", trigger: String = UUID().uuidString) -> String {
        FormBody.encode([("team_id", "T0BOT0001"), ("channel_id", "C0OPS0001"), ("user_id", user),
                         ("command", "/perf"), ("text", text), ("response_url", "https://hooks.slack.com/commands/T/1/x"),
                         ("trigger_id", trigger)])
    }
}

/// A path inside the repository.
func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

/// The sample payloads under webhooks/, shared with scripts/replay.
func sample(_ name: String) throws -> String {
    try String(contentsOfFile: repositoryPath("webhooks/\(name)"), encoding: .utf8)
}

/// A response body as JSON.
func json(_ response: TestResponse) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any] ?? [:]
}


/// A stand-in `docker` executable in a fresh folder that runs `script` (sh) whatever its arguments.
/// - Returns: its path, for `ExecutorFactory(docker:)`.
func standInDocker(_ script: String) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let docker = directory.appendingPathComponent("docker").path
    try "#!/bin/sh\n\(script)\n".write(toFile: docker, atomically: true, encoding: .utf8)
    chmod(docker, 0o755)
    return docker
}
