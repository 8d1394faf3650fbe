import BotChannels
import BotCore
import BotPostgres
import BotStore
import Foundation
import Subprocess
import Synchronization
import SystemPackage
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `perfbot serve` as a real child process over a temporary database, with a playbook whose first step
/// takes `seconds` (a real `sleep` on this host), reached by signed slash commands over loopback.
struct LiveBot {
    let directory: URL
    /// The SQLite file, or the PostgreSQL URL the replicas share.
    let database: String
    let port: Int
    let config: String
    let binary = repositoryPath(".build/debug/perfbot")
    /// What `perfbot serve` logged (standard error), for a failing test's message.
    var log: String { directory.appendingPathComponent("serve-\(port).log").path }

    /// The same bot as a second replica: same playbooks and database, its own port.
    private init(replicaOf bot: LiveBot) throws {
        directory = bot.directory
        database = bot.database
        port = freePort()
        config = directory.appendingPathComponent("perfbot-\(port).yaml").path
        try String(contentsOfFile: bot.config, encoding: .utf8)
            .replacingOccurrences(of: "PERFBOT_PORT: \(bot.port)", with: "PERFBOT_PORT: \(port)")
            .write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Another replica of this bot (a PostgreSQL database only).
    func replica() throws -> LiveBot { try LiveBot(replicaOf: self) }

    /// - Parameter postgres: a PostgreSQL URL to run on instead of an SQLite file of its own.
    init(stepSeconds: Int, drainSeconds: Int = 60, extra: [String: String] = [:], postgres: String? = nil) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        let playbooks = directory.appendingPathComponent("Playbooks")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repositoryPath("Playbooks"), toPath: playbooks.path)
        // An operator's playbook, added to the shipped ones.
        try FileManager.default.createDirectory(at: playbooks.appendingPathComponent("woocommerce"), withIntermediateDirectories: true)
        try """
            name: slow_step
            title: A slow step, then a quick one
            platform: woocommerce
            trigger: manual
            actions:
              - name: Wait \(stepSeconds) seconds
                run: [sleep, "\(stepSeconds)"]
                timeout: 120s
                tags: [read_only]
                reversible: true
                safe: true
              - name: Touch the marker
                run: [touch, "{app_path}/second-step-ran"]
                tags: [read_only]
                reversible: true
                safe: true
            """.write(to: playbooks.appendingPathComponent("woocommerce/slow_step.yaml"), atomically: true, encoding: .utf8)
        database = postgres ?? directory.appendingPathComponent("bot.sqlite").path
        let customer = Customer(id: StoreID("acme-store")!, platform: .woocommerce, plan: .premium,
                                contactEmail: "owner@acme-store.example", executor: .local, settings: ["app_path": directory.path])
        if let postgres {
            try await PostgresPool.with(try PostgresEndpoint(url: postgres), connections: 1, logger: PostgresTestDatabase.logger) {
                try await $0.migrate()
                try await PostgresStore(database: $0, replica: "test").upsert([customer], at: Date())
            }
        } else {
            try await SQLiteStore(path: database).upsert([customer], at: Date())
        }
        port = freePort()
        config = directory.appendingPathComponent("perfbot-\(port).yaml").path
        var values = [
            "PERFBOT_DATABASE": database, "PERFBOT_PORT": "\(port)", "PERFBOT_PLAYBOOKS": playbooks.path,
            "SLACK_SIGNING_SECRET": signingSecret, "PERFBOT_SLACK_USERS": "U0DEMOADM:admin",
            "PERFBOT_DRAIN_SECONDS": "\(drainSeconds)", "PERFBOT_CHECK_INTERVAL": "3600",
        ]
        values.merge(extra) { _, new in new }
        try values.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Runs `perfbot serve` while `body` works with its pid; returns how it ended.
    func serve(_ body: @escaping @Sendable (pid_t) async throws -> Void) async throws -> TerminationStatus {
        // Only its own configuration: nothing of the test process's environment (another test may set keys there).
        let environment = Environment.custom([Environment.Key(rawValue: "PATH")!: "/usr/local/bin:/usr/bin:/bin",
                                              Environment.Key(rawValue: "HOME")!: directory.path])
        let result = try await Subprocess.run(.path(FilePath(binary)), arguments: ["serve", "--config", config],
                                              environment: environment,
                                              workingDirectory: FilePath(directory.path), input: .none,
                                              output: .discarded,
                                              error: .fileDescriptor(try FileDescriptor.open(FilePath(log), .writeOnly,
                                                                                             options: [.create, .append],
                                                                                             permissions: .ownerReadWrite),
                                                                     closeAfterSpawningProcess: true)) { execution in
            let pid = execution.processIdentifier.value
            do {
                try await waitUntilHealthy()
                try await body(pid)
            } catch {
                kill(pid, SIGKILL)
                throw error
            }
        }
        if case let .signaled(signal) = result.terminationStatus, signal != SIGKILL {
            let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(nothing)"
            Issue.record("perfbot serve ended by signal \(signal); it logged:\n\(logged)")
        }
        return result.terminationStatus
    }

    func waitUntilHealthy() async throws {
        for _ in 0..<200 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LiveBotError.notStarted
    }

    /// Posts `/perf <text>` signed as Slack would; returns the reply's text.
    func command(_ text: String) async throws -> String {
        let body = TestBot.commandBody(text)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/slack/commands")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue(timestamp, forHTTPHeaderField: "X-Slack-Request-Timestamp")
        request.setValue(SlackSignatureVerifier.sign(body: Array(body.utf8), timestamp: timestamp, secret: signingSecret),
                         forHTTPHeaderField: "X-Slack-Signature")
        let (data, response) = try await URLSession.shared.data(for: request)
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["text"] as? String
            ?? "HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: data, as: UTF8.self))"
    }

    /// Waits until job `id` satisfies `predicate`.
    func waitForJob(_ id: Int64 = 1, _ predicate: @Sendable (JobRecord) -> Bool, seconds: Double = 20) async throws -> JobRecord {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let job = try await job(id), predicate(job) { return job }
            try await Task.sleep(for: .milliseconds(100))
        }
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? "(nothing)"
        Issue.record("perfbot serve logged:\n\(logged)")
        throw LiveBotError.jobNotReached
    }

    /// Job `id` as the database holds it now.
    func job(_ id: Int64) async throws -> JobRecord? {
        guard PostgresEndpoint.isURL(database) else { return try await SQLiteStore(path: database).job(id) }
        return try await PostgresPool.with(try PostgresEndpoint(url: database), connections: 1, logger: PostgresTestDatabase.logger) {
            try await PostgresStore(database: $0, replica: "test").job(id)
        }
    }

    /// Whether this replica says it leads (`perfbot_leader` on its `/metrics`).
    func leads() async -> Bool {
        guard let (data, _) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return false }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").contains("perfbot_leader 1.0")
    }

    enum LiveBotError: Error { case notStarted, jobNotReached }
}

@Suite(.serialized) struct JobLifecycleTests {
    /// SIGTERM while a 5-second step runs: the step finishes, the next one does not start, the job is
    /// recorded `interrupted` with what ran, and only then does perfbot exit.
    @Test func sigtermLetsTheRunningStepFinish() async throws {
        // A step long enough that a loaded machine (the whole suite in parallel) still signals within it.
        let bot = try await LiveBot(stepSeconds: 12)
        let stopped = Mutex<Date?>(nil)
        let status = try await bot.serve { pid in
            let answer = try await bot.command("run slow_step acme-store")
            #expect(answer.contains("as job 1"), "\(answer)")
            _ = try await bot.waitForJob { $0.state == .running }
            try await Task.sleep(for: .seconds(1))
            stopped.withLock { $0 = Date() }
            kill(pid, SIGTERM)
        }
        let took = Date().timeIntervalSince(stopped.withLock { $0 } ?? Date())
        #expect(status == .exited(0))
        #expect(took < 30, "perfbot exited \(took) s after SIGTERM")
        let job = try #require(try await SQLiteStore(path: bot.database).job(1))
        #expect(job.state == .interrupted)
        #expect(job.steps.map(\.status) == [.succeeded])
        #expect((job.steps.first?.duration ?? 0) >= 11.5)
        // The step ended after the signal: it was let finish, not killed (start times are whole seconds).
        let stepEnded = (job.steps.first?.startedAt ?? .distantPast).addingTimeInterval((job.steps.first?.duration ?? 0) + 1)
        #expect(stepEnded > (stopped.withLock { $0 } ?? .distantFuture))
        #expect(job.summary?.contains("stopped after 1 of 2 steps") == true, "\(job.summary ?? "")")
        #expect(!FileManager.default.fileExists(atPath: bot.directory.appendingPathComponent("second-step-ran").path))
    }

    /// A step that outlasts the drain window: the job is recorded `interrupted` first, then the step is killed.
    @Test func aStepPastTheDrainWindowIsRecordedThenKilled() async throws {
        let bot = try await LiveBot(stepSeconds: 60, drainSeconds: 1)
        let status = try await bot.serve { pid in
            _ = try await bot.command("run slow_step acme-store")
            _ = try await bot.waitForJob { $0.state == .running }
            kill(pid, SIGTERM)
        }
        #expect(status == .exited(0))
        let job = try #require(try await SQLiteStore(path: bot.database).job(1))
        #expect(job.state == .interrupted)
        #expect(job.summary?.contains("outlasted the drain window") == true, "\(job.summary ?? "")")
    }

    /// A playbook's wait runs no process: SIGTERM ends it at once, and the step after it never starts.
    @Test func sigtermEndsAWaitBetweenSteps() async throws {
        let bot = try await LiveBot(stepSeconds: 1)
        try """
            name: waits_first
            title: Waits, then acts
            platform: woocommerce
            trigger: manual
            actions:
              - name: Touch the marker after ten minutes
                wait: 10m
                run: [touch, "{app_path}/second-step-ran"]
                tags: [read_only]
                reversible: true
                safe: true
            """.write(to: bot.directory.appendingPathComponent("Playbooks/woocommerce/waits_first.yaml"), atomically: true,
                    encoding: .utf8)
        let stopped = Mutex<Date?>(nil)
        let status = try await bot.serve { pid in
            _ = try await bot.command("run waits_first acme-store")
            _ = try await bot.waitForJob { $0.state == .running }
            stopped.withLock { $0 = Date() }
            kill(pid, SIGTERM)
        }
        #expect(status == .exited(0))
        #expect(Date().timeIntervalSince(stopped.withLock { $0 } ?? .distantPast) < 10)
        let job = try #require(try await SQLiteStore(path: bot.database).job(1))
        #expect(job.state == .interrupted && job.steps.isEmpty, "\(job.state) \(job.steps)")
        #expect(!FileManager.default.fileExists(atPath: bot.directory.appendingPathComponent("second-step-ran").path))
    }

    /// `kill -9` during a running job, then a restart: the job is `interrupted`, never re-run, and the admins are told
    /// which steps ran and which did not.
    @Test func aKilledJobIsReportedInterruptedAfterARestart() async throws {
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await LiveBot(stepSeconds: 30, extra: [
                "SLACK_BOT_TOKEN": "xoxb-live-test", "SLACK_API_URL": base + "/api", "SLACK_ALERTS_CHANNEL": "C0ALERTS",
            ])
            let killed = try await bot.serve { pid in
                _ = try await bot.command("run slow_step acme-store")
                _ = try await bot.waitForJob { $0.state == .running }
                // A second job waits its turn behind the first.
                let queued = try await bot.command("run cache_miss_storm acme-store")
                #expect(queued.hasPrefix("⏳ Queued *Cache miss storm* on acme-store as job 2"), "\(queued)")
                kill(pid, SIGKILL)
            }
            #expect(killed == .signaled(SIGKILL))
            let restarted = try await bot.serve { pid in
                for _ in 0..<100 where await !slack.received.contains(where: { $0.body.contains("interrupted") }) {
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try await bot.waitForJob(2) { $0.state.isFinal }
                kill(pid, SIGTERM)
            }
            #expect(restarted == .exited(0))
            let store = try SQLiteStore(path: bot.database)
            let job = try #require(try await store.job(1))
            #expect(job.state == .interrupted)
            #expect(job.steps.isEmpty)
            // The queued job resumed after the restart and ran (`wp` does not exist on this host: its steps fail).
            let resumed = try #require(try await store.job(2))
            #expect(resumed.state == .failed && resumed.steps.count == 2, "\(resumed.state) \(resumed.steps)")
        }
        let report = try #require(await slack.received.first { $0.body.contains("interrupted") }?.body)
        #expect(report.contains("Job 1 (`slow_step` on acme-store, asked by <@U0DEMOADM>) interrupted"))
        #expect(report.contains("Not run: Wait 30 seconds · Touch the marker"))
        #expect(report.contains("It is not re-run on its own."))
    }
}
