import ArgumentParser
import BotCore
import BotStore
import Crypto
import Foundation
import PerfbotApp

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a simulated fleet in a fresh SQLite file and serve it.")

    @Option(help: "The SQLite file to create (replaced if it exists).") var database = "perfbot-demo.sqlite"
    @Option(help: "Where the demo's secrets and Slack users are written.") var envFile = "perfbot-demo.env"
    @Option(help: "How many stores (at most 20).") var stores = 20
    @Option(help: "The port to listen on.") var port = 8080
    @Flag(help: "Create the data and exit without serving.") var noServe = false

    func run() async throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        let store = try SQLiteStore(path: database, metrics: Wiring.metricCatalogue)
        let started = Date()
        let written = try await DemoFleet(storeCount: stores).populate(store, now: Date())
        let elapsed = Date().timeIntervalSince(started)
        print("Created \(stores) stores with \(written) samples (2 days, one a minute) in \(database) "
            + "in \(String(format: "%.1f", elapsed)) s.")

        let env = [
            "PERFBOT_DATABASE": database,
            "PERFBOT_PORT": String(port),
            "SLACK_SIGNING_SECRET": Self.randomSecret(),
            "PERFBOT_WEBHOOK_TOKEN": Self.randomSecret(),
            "PERFBOT_SLACK_USERS": "U0DEMOADM:admin,U0DEMOOPS:operator,U0DEMOVEW:viewer",
        ]
        let text = env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") + "\n"
        guard FileManager.default.createFile(atPath: envFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("Could not write \(envFile).")
        }
        print("""
            Secrets and demo Slack users are in \(envFile) (mode 600).

            Try it (in another terminal):
              scripts/replay --env \(envFile) slack-command "store acme-store"
              scripts/replay --env \(envFile) slack-command "fleet --sort cpu"
              scripts/replay --env \(envFile) metrics
              curl -s http://127.0.0.1:\(port)/healthz
            """)
        guard !noServe else { return }
        var configuration = try PerfbotConfiguration(values: env)
        configuration.host = "127.0.0.1"
        print("Serving on http://127.0.0.1:\(port) — Ctrl-C to stop.")
        try await Runner.serve(try Wiring(configuration: configuration, store: store, logger: makeLogger()))
    }

    static func randomSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
    }
}
