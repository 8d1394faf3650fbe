import BotChannels
import BotCore
import BotServer
import BotPlaybooks
import BotProbes
import BotStore
import ConsolePlugin
import Foundation
import Logging
import MagentoPlugin
import OperationsPlugin
import SchedulerPlugin
import WooCommercePlugin

/// The one place where perfbot's parts are put together.
public struct Wiring: Sendable {
    public let configuration: PerfbotConfiguration
    public let store: SQLiteStore
    public let clock: any BotClock
    public let metrics: ServerMetrics
    public let logger: Logger
    public let library: PlaybookLibrary
    /// Per-plan and per-customer detection thresholds (`thresholds.yaml` beside the playbooks).
    public let thresholds: RuleThresholds
    public let executors: ExecutorFactory
    public let sleeper: any Sleeper
    /// Runs playbooks that outlast Slack's 3-second answer.
    public let jobs = JobRunner()
    /// The stores' collectors (they remember counters between cycles).
    public let collector: Collector

    /// - Parameter library: the playbooks; by default loaded from `configuration.playbooksPath`.
    /// - Throws: `PlaybookErrors` when a playbook file is invalid (perfbot does not start with one).
    public init(configuration: PerfbotConfiguration, store: SQLiteStore, clock: any BotClock = SystemClock(),
                metrics: ServerMetrics = ServerMetrics(), logger: Logger = Logger(label: "perfbot"),
                library: PlaybookLibrary? = nil, executors: ExecutorFactory = ExecutorFactory(),
                sleeper: any Sleeper = TaskSleeper()) throws {
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.library = try library ?? PlaybookLibrary.load(directory: configuration.playbooksPath,
                                                           knownRules: Self.knownRules)
        thresholds = try RuleThresholds.load(file: Self.thresholdsFile(in: configuration.playbooksPath),
                                             rules: Self.platforms.flatMap(\.rules))
        self.executors = executors
        self.sleeper = sleeper
        collector = Collector(executors: executors, clock: clock, logger: logger)
    }

    /// The platform plugins.
    public static let platforms: [any PlatformPlugin] = [WooCommercePlugin(), MagentoPlugin()]

    /// Per platform, the detection rule names a playbook may trigger on.
    public static var knownRules: [Platform: Set<String>] {
        Dictionary(platforms.map { ($0.platform, Set($0.rules.map(\.name))) }, uniquingKeysWith: { $0.union($1) })
    }

    /// Validates the playbooks and thresholds in `directory` as `serve` would.
    public static func validatePlaybooks(in directory: String) throws(PlaybookErrors) -> PlaybookLibrary {
        let library = try PlaybookLibrary.load(directory: directory, knownRules: knownRules)
        _ = try RuleThresholds.load(file: thresholdsFile(in: directory), rules: platforms.flatMap(\.rules))
        return library
    }

    static func thresholdsFile(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("thresholds.yaml")
    }

    /// The detection rules that apply to `customer`: its platform plugin's, with threshold overrides.
    public func rules(for customer: Customer) -> [DetectionRule] {
        let base = Self.platforms.first { $0.platform == customer.platform }?.rules ?? []
        return thresholds.rules(base, for: customer)
    }

    /// The plugins, in the order their commands appear in help.
    public func plugins() -> [any BotPlugin] {
        let operations = OperationsPlugin(store: store, library: library, platforms: Self.platforms,
                                          executors: executors, runner: runner(), clock: clock, jobs: jobs,
                                          alertsChannel: configuration.slackAlertsChannel)
        let scheduler = SchedulerPlugin(cycle: checkCycle(), store: store, clock: clock,
                                        interval: .seconds(configuration.checkInterval), predictions: predictions())
        return [ConsolePlugin(reader: store, clock: clock), operations, scheduler]
            + Self.platforms.map { $0 as any BotPlugin }
    }

    /// Customers' replies to proposals.
    public func emailReplies() -> EmailReplies {
        EmailReplies(store: store, library: library, platforms: Self.platforms, executors: executors, runner: runner(),
                     jobs: jobs, clock: clock, alertsChannel: configuration.slackAlertsChannel, logger: logger)
    }

    /// Forecasts and the daily notices.
    public func predictions() -> Predictions {
        Predictions(store: store, clock: clock, alertsChannel: configuration.slackAlertsChannel, render: BlockKitRenderer.blocks)
    }

    func runner() -> PlaybookRunner {
        PlaybookRunner(metrics: StoreCurrentMetrics(store: store, clock: clock), sleeper: sleeper, clock: clock,
                       recorder: StoreStepRecorder(store: store, clock: clock))
    }

    /// One check cycle over every active store, as the scheduler runs it.
    /// - Parameter inline: run playbooks inside the cycle (for `check --once`, where no job service runs).
    public func checkCycle(quietPeriod: TimeInterval = 300, inline: Bool = false) -> CheckCycle {
        let automation = Automation(library: library, platforms: Self.platforms, executors: executors, runner: runner(),
                                    jobs: inline ? InlineWork() : jobs)
        let thresholds = self.thresholds
        let platforms = Self.platforms
        return CheckCycle(
            store: store,
            rules: { customer in
                thresholds.rules(platforms.first { $0.platform == customer.platform }?.rules ?? [], for: customer)
            },
            automation: automation, clock: clock,
            settings: settings(quietPeriod: quietPeriod, inline: inline),
            logger: logger, render: BlockKitRenderer.blocks, tokens: Self.approvalToken,
            collect: { [collector] in await collector.collect($0) })
    }

    /// A new approval token and its stored hash.
    @Sendable public static func approvalToken() -> (token: String, hash: String) {
        let token = ApprovalToken.generate()
        return (token, ApprovalToken.hash(token))
    }

    func settings(quietPeriod: TimeInterval, inline: Bool) -> CheckCycle.Settings {
        var settings = CheckCycle.Settings(quietPeriod: quietPeriod, perStoreTimeout: inline ? .seconds(1800) : .seconds(20),
                                           alertsChannel: configuration.slackAlertsChannel)
        settings.replyDomain = configuration.replyDomain
        settings.approvalTTL = configuration.approvalTTL
        return settings
    }

    /// The command router over every plugin.
    public func commandRouter() throws -> CommandRouter {
        try CommandRouter(plugins: plugins(), access: configuration.slackUsers)
    }

    /// The HTTP server.
    public func server() throws -> PerfbotServer {
        let plugins = plugins()
        var settings = ServerSettings(bodyLimit: configuration.bodyLimit,
                                      slackSigningSecret: configuration.slackSigningSecret,
                                      webhookToken: configuration.webhookToken,
                                      responseHosts: Set(["hooks.slack.com", URL(string: configuration.slackAPIURL)?.host]
                                          .compactMap { $0 }))
        settings.alertStoreLabel = configuration.alertStoreLabel
        settings.grafanaSecret = configuration.grafanaSecret
        settings.grafanaTimestampHeader = configuration.grafanaTimestampHeader
        settings.alertsChannel = configuration.slackAlertsChannel
        settings.mailgunSigningKey = configuration.mailgunSigningKey
        let replies = emailReplies()
        let inbound: (@Sendable (InboundMail) async throws -> String)?
        if configuration.replyDomain != nil {
            inbound = { mail in
                let outcome = try await replies.handle(mail)
                return "\(outcome)"
            }
        } else {
            inbound = nil
        }
        return PerfbotServer(
            store: store, commands: try CommandRouter(plugins: plugins, access: configuration.slackUsers),
            clock: clock,
            settings: settings,
            metrics: metrics, logger: logger,
            webhookSources: plugins.flatMap(\.webhookSources),
            inboundMail: inbound)
    }

    /// Delivers queued Slack messages and replies.
    public func outbox(poster: any HTTPPoster = URLSessionPoster()) -> OutboxDeliverer {
        OutboxDeliverer(store: store, poster: poster, clock: clock, slackAPI: configuration.slackAPIURL,
                        slackToken: configuration.slackBotToken, logger: logger, mail: mailer())
    }

    /// Renders and sends an outbox e-mail through SMTP; nil while `SMTP_URL` is not set.
    func mailer() -> (@Sendable ([UInt8]) async throws -> Void)? {
        guard let url = configuration.smtpURL else { return nil }
        let sender = SMTPSender(url: url, user: configuration.smtpUser, password: configuration.smtpPassword)
        let domain = configuration.replyDomain ?? "perfbot.invalid"
        let from = configuration.mailFrom ?? "perfbot <perfbot@\(domain)>"
        let clock = self.clock
        return { payload in
            try await sender.send(try MailTemplates.message(payload: payload, from: from, domain: domain, now: clock.now))
        }
    }

    /// Services that run beside the server: retention, background jobs, the outbox, then each plugin's own.
    public func services() -> [any BotService] {
        let (store, clock, logger) = (self.store, self.clock, self.logger)
        // Raw samples are kept 48 hours, hourly rollups 90 days.
        let retention = PeriodicService(name: "retention", every: .seconds(3600), logger: logger) {
            let now = clock.now
            let pruned = try await store.prune(rawBefore: now.addingTimeInterval(-48 * 3600),
                                               rollupsBefore: now.addingTimeInterval(-90 * 86400))
            if pruned.samples + pruned.rollups > 0 {
                logger.info("retention", metadata: ["samples": "\(pruned.samples)", "rollups": "\(pruned.rollups)"])
            }
        }
        return [retention, jobs, outbox()] + plugins().flatMap(\.services)
    }
}

/// `when` conditions read the newest still-current value from the store.
struct StoreCurrentMetrics: CurrentMetrics {
    let store: SQLiteStore
    let clock: any BotClock

    func current(_ metric: MetricName, of id: StoreID) async throws -> Double? {
        try await store.latestMetrics(stores: [id])[id]?.fresh(asOf: clock.now)[metric]
    }
}

/// Executed steps go to `automation_actions`.
struct StoreStepRecorder: StepRecorder {
    let store: SQLiteStore
    let clock: any BotClock

    func record(_ step: StepResult, playbook: String, store id: StoreID, issueID: Int64?) async throws {
        try await store.recordAction(ActionRecord(
            store: id, issueID: issueID, playbook: playbook, action: step.action.name, argv: step.argv,
            executedAt: step.startedAt, duration: step.outcome?.duration ?? 0, exitCode: step.outcome?.exitCode,
            output: step.outcome?.output ?? "", succeeded: step.status == .succeeded))
    }
}
