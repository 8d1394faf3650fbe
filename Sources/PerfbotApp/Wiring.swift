import BotChannels
import BotCore
import BotServer
import BotStore
import ConsolePlugin
import Foundation
import Logging

/// The one place where perfbot's parts are put together.
public struct Wiring: Sendable {
    public let configuration: PerfbotConfiguration
    public let store: SQLiteStore
    public let clock: any BotClock
    public let metrics: ServerMetrics
    public let logger: Logger

    public init(configuration: PerfbotConfiguration, store: SQLiteStore, clock: any BotClock = SystemClock(),
                metrics: ServerMetrics = ServerMetrics(), logger: Logger = Logger(label: "perfbot")) {
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// The plugins, in the order their commands appear in help.
    public func plugins() -> [any BotPlugin] {
        [ConsolePlugin(reader: store, clock: clock)]
    }

    /// The command router over every plugin.
    public func commandRouter() throws -> CommandRouter {
        try CommandRouter(plugins: plugins(), access: configuration.slackUsers)
    }

    /// The HTTP server.
    public func server() throws -> PerfbotServer {
        let plugins = plugins()
        return PerfbotServer(
            store: store, commands: try CommandRouter(plugins: plugins, access: configuration.slackUsers),
            clock: clock,
            settings: ServerSettings(bodyLimit: configuration.bodyLimit,
                                     slackSigningSecret: configuration.slackSigningSecret,
                                     webhookToken: configuration.webhookToken),
            metrics: metrics, logger: logger,
            webhookSources: plugins.flatMap(\.webhookSources))
    }

    /// Services that run beside the server: retention, then each plugin's own.
    public func services() -> [any BotService] {
        [RetentionService(store: store, clock: clock, logger: logger)] + plugins().flatMap(\.services)
    }
}

/// Deletes raw samples after 48 hours and hourly rollups after 90 days, once an hour.
public struct RetentionService: BotService {
    public let name = "retention"
    let store: SQLiteStore
    let clock: any BotClock
    let logger: Logger

    public func run() async throws {
        while !Task.isCancelled {
            let now = clock.now
            let pruned = try await store.prune(rawBefore: now.addingTimeInterval(-48 * 3600),
                                               rollupsBefore: now.addingTimeInterval(-90 * 86400))
            if pruned.samples + pruned.rollups > 0 {
                logger.info("retention", metadata: ["samples": "\(pruned.samples)", "rollups": "\(pruned.rollups)"])
            }
            try await Task.sleep(for: .seconds(3600))
        }
    }
}
