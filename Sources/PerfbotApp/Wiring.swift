import BotChannels
import BotCore
import BotServer
import BotPlaybooks
import BotProbes
import BotStore
import ConsolePlugin
import CustomerChannels
import CustomerPlugin
import Foundation
import TrafficAnalytics
import Logging
import MagentoPlugin
import OperationsPlugin
import SchedulerPlugin
import WooCommercePlugin

/// The one place where perfbot's parts are put together.
public struct Wiring: Sendable {
    public let configuration: PerfbotConfiguration
    public let store: any PerfbotStore
    public let clock: any BotClock
    public let metrics: ServerMetrics
    public let logger: Logger
    public let library: PlaybookLibrary
    /// Per-plan and per-customer detection thresholds (`thresholds.yaml` beside the playbooks).
    public let thresholds: RuleThresholds
    public let executors: ExecutorFactory
    /// Countries of traffic, when a MaxMind-format database was given (`PERFBOT_GEOIP_DATABASE`).
    public let geo: GeoIP?
    public let sleeper: any Sleeper
    /// Waits for runs that outlast Slack's 3-second answer.
    public let jobs = JobRunner()
    /// Every action on a store: one job at a time per store, durable, drained on shutdown.
    public let engine: JobEngine
    /// The stores' collectors (they remember counters between cycles).
    public let collector: Collector
    /// Turns a playbook into a store's argv: one for every part that plans.
    public let planner: JobPlanner
    /// The 💡 recommendation rules: shared ones and each pack's.
    public let advice = Recommendations(packs: Wiring.platforms)
    /// Decides proposals for Slack, e-mail and the status page.
    public let approvals: Approvals
    /// Whether this replica runs the fleet's periodic work; the one replica on SQLite always does.
    public let leadership: any Leadership
    /// The plugins, each built once for the whole process: the server, the services and the CLI share them.
    private var builtPlugins: [any BotPlugin] = []
    /// How the server calls `views.open` (a test's Slack stand-in may take it).
    public var modalPoster: any HTTPPoster = CurlPoster()
    private var router: CommandRouter?

    /// - Parameter library: the playbooks; by default loaded from `configuration.playbooksPath`.
    /// - Throws: `PlaybookErrors` when a playbook file is invalid (perfbot does not start with one).
    public init(configuration: PerfbotConfiguration, store: any PerfbotStore, clock: any BotClock = SystemClock(),
                metrics: ServerMetrics = ServerMetrics(), logger: Logger = Logger(label: "perfbot"),
                library: PlaybookLibrary? = nil, executors: ExecutorFactory = ExecutorFactory(),
                sleeper: any Sleeper = TaskSleeper(), leadership: any Leadership = SoleReplica()) throws {
        self.configuration = configuration
        self.leadership = leadership
        if leadership is SoleReplica { metrics.setLeader(true) }
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.library = try library ?? Self.loadPlaybooks(operatorDirectory: configuration.playbooksPath)
        thresholds = try RuleThresholds.load(file: Self.thresholdsFile(in: configuration.playbooksPath),
                                             rules: Self.platforms.flatMap(\.rules))
        var executors = executors
        if executors.hostCommands == .none { executors.hostCommands = configuration.hostCommands }
        self.executors = executors
        self.sleeper = sleeper
        let lighthouse = LighthouseRunner(command: configuration.lighthouseCommand, local: LocalExecutor(
            searchPath: executors.local.searchPath, outputLimit: 32 << 20)) { [store] id, report, body in
            try await store.recordLighthouse(store: id, at: report.fetchedAt ?? Date(), score: report.performanceScore,
                                             fcp: report.fcpMs, lcp: report.lcpMs, cls: report.cls, tbt: report.tbtMs,
                                             ttfb: report.ttfbMs, report: LighthouseReport.compact(body))
        }
        if lighthouse == nil {
            // Said once, here, rather than by every cycle: the stores with the lighthouse probe show it in `perfbot collectors`.
            logger.notice("Lighthouse is not installed: stores with the lighthouse probe get no runs",
                          metadata: ["command": "\(configuration.lighthouseCommand)"])
        }
        geo = try configuration.geoipDatabase.map { path in
            do {
                return try GeoIP(path: path)
            } catch {
                throw ConfigurationError.invalid(key: "PERFBOT_GEOIP_DATABASE", reason: "\(error)")
            }
        }
        collector = Collector(executors: executors, clock: clock, logger: logger, slowQueries: store,
                              prometheus: configuration.prometheusURL.map { PrometheusClient(baseURL: $0) },
                              prometheusQueries: configuration.prometheusQueries, statuses: store, packs: Self.platforms,
                              lighthouse: lighthouse, traffic: store, geo: geo)
        planner = JobPlanner(executors: executors, platforms: Self.platforms)
        let reporter = JobReporter(store: store, alertsChannel: configuration.slackAlertsChannel,
                                   mailCustomers: configuration.replyDomain != nil, clock: clock)
        engine = JobEngine(store: store, customers: store, silences: store, library: self.library,
                           planner: planner,
                           runner: PlaybookRunner(metrics: StoreCurrentMetrics(store: store, clock: clock), sleeper: sleeper,
                                                  clock: clock),
                           clock: clock, logger: logger, drainWindow: .seconds(configuration.drainSeconds),
                           applySetting: { [store, clock] job in try await Self.applySetting(job, store: store, at: clock.now) },
                           recordHosting: { [store, clock, plans = configuration.plans] job, change in
                               try await Self.recordHosting(change, job: job, store: store, plans: plans, at: clock.now)
                           },
                           reporter: { outcome in
                               do { try await reporter.report(outcome) } catch {
                                   logger.error("could not report a job", metadata: ["job": "\(outcome.job.id)", "error": "\(error)"])
                               }
                           })
        approvals = Approvals(store: store, library: self.library, planner: planner,
                              proposer: Proposer(replyDomain: configuration.replyDomain, ttl: configuration.approvalTTL,
                                                 tokens: Self.approvalToken),
                              engine: engine, clock: clock, alertsChannel: configuration.slackAlertsChannel)
        builtPlugins = makePlugins()
        router = try CommandRouter(plugins: builtPlugins, access: configuration.slackUsers)
    }

    /// The platform packs: a platform is whatever is listed here (a third pack is its folder and one entry on
    /// this line). Their list is handed to what checks input (the customers file, playbooks, command choices).
    public static let platforms: [any PlatformPlugin] = [WooCommercePlugin(), MagentoPlugin()]

    /// The metrics this process knows: the core's and every pack's.
    public static let metricCatalogue = MetricCatalogue(packs: platforms)

    /// The shipped playbooks (shared, then each pack's), with `operatorDirectory`'s on top when it exists: its
    /// `<platform>/` and `shared/` files replace the shipped ones of the same name, or add to them.
    public static func loadPlaybooks(operatorDirectory: String?) throws(PlaybookErrors) -> PlaybookLibrary {
        var isDirectory: ObjCBool = false
        let layer = operatorDirectory.flatMap {
            FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue ? $0 : nil
        }
        let roots = [PlaybookLibrary.sharedRoot].compactMap { $0 } + platforms.compactMap(\.playbookRoot) + (layer.map { [$0] } ?? [])
        return try PlaybookLibrary.load(roots: roots, packs: platforms)
    }

    /// Validates the playbooks and thresholds in `directory` as `serve` would (over the shipped ones).
    public static func validatePlaybooks(in directory: String) throws(PlaybookErrors) -> PlaybookLibrary {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PlaybookErrors([PlaybookProblem(file: directory, line: 1, column: 1, message: "no such directory")])
        }
        let library = try loadPlaybooks(operatorDirectory: directory)
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

    /// The plugins, in the order their commands appear in help (built once, in `init`).
    public func plugins() -> [any BotPlugin] { builtPlugins }

    private func makePlugins() -> [any BotPlugin] {
        let operations = OperationsPlugin(store: store, library: library, platforms: Self.platforms,
                                          planner: planner, runner: runner(), engine: engine, clock: clock, work: jobs,
                                          factor: TOTPFactor(store: store, grace: configuration.factorGrace), advice: advice,
                                          plans: configuration.plans)
        let decisions = ApprovalsPlugin(operations: operations, approvals: approvals)
        let database = DatabaseToolsPlugin(operations: operations, advisor: MySQLAdvisor(), proposer: proposer(),
                                           fragmentedBytes: configuration.fragmentedBytes)
        let metrics = self.metrics
        let scheduler = SchedulerPlugin(cycle: checkCycle(evaluation: .incremental), store: store, clock: clock,
                                        interval: .seconds(configuration.checkInterval), predictions: predictions(),
                                        leadership: leadership, observe: { report, completedAt in
                                            metrics.recordCycle(duration: .seconds(report.duration), checked: report.checked,
                                                                errors: report.errors.count, completedAt: completedAt)
                                        })
        let customer = CustomerPlugin(store: store, library: library, planner: planner, proposer: proposer(), engine: engine, clock: clock,
                                      advice: advice, countriesKnown: geo != nil, botListNote: BotList.shipped.note)
        let resources = configuration.prometheusURL.map {
            PrometheusResources(client: PrometheusClient(baseURL: $0), queries: configuration.resourceQueries,
                                containerLabel: configuration.prometheusQueries.label) as any ResourceReadings
        }
        var console = ConsolePlugin(reader: store, clock: clock, advice: advice, platforms: Self.platforms.map(\.platform),
                                    analytics: store, resources: resources, traffic: store, countriesKnown: geo != nil,
                                    botListNote: BotList.shipped.note)
        if let channel = configuration.slackAlertsChannel {
            console.services = [AdminDigest(analytics: store, resources: resources, clock: clock)
                .service(outbox: store, runs: store, channel: channel, leadership: leadership, logger: logger)]
            if let resources {
                console.services.append(NeighbourWatch(analytics: store, resources: resources, outbox: store, runs: store,
                                                       alertsChannel: channel, clock: clock, leadership: leadership, logger: logger))
            }
        }
        return [console, operations, decisions, database, TuningPlugin(operations: operations, traffic: store), scheduler, customer]
            + Self.platforms.map { $0 as any BotPlugin }
    }

    /// Customers' replies to proposals, and their e-mail commands.
    public func emailReplies() -> EmailReplies {
        emailReplies(router: try? commandRouter())
    }

    func emailReplies(router: CommandRouter?) -> EmailReplies {
        var replies = EmailReplies(store: store, library: library, approvals: approvals,
                                   clock: clock, alertsChannel: configuration.slackAlertsChannel, logger: logger)
        replies.commands = router
        replies.commandAddress = configuration.commandAddress
        replies.authservIDs = configuration.mailAuthservIDs
        let metrics = self.metrics
        replies.count = { metrics.recordMailCommand($0) }
        return replies
    }

    /// Every Monday from 08:00 UTC, once (remembered across restarts), each active store's contact gets the week in
    /// review, unless they wrote "reports off" or customers get no mail.
    public func weeklyReports() -> PeriodicService {
        let (store, clock, logger, configuration) = (self.store, self.clock, self.logger, self.configuration)
        let plugin = builtPlugins.lazy.compactMap { $0 as? CustomerPlugin }.first
        return PeriodicService(name: "weekly-reports", every: .seconds(600), clock: clock, logger: logger, leadership: leadership) {
            guard configuration.replyDomain != nil, let plugin, Self.isWeeklyReportTime(clock.now),
                  try await store.claimDailyRun("weekly_report", at: clock.now, interval: 6 * 86400) else { return }
            let sent = try await Self.sendWeeklyReports(store: store, plugin: plugin, commandAddress: configuration.commandAddress ?? "",
                                                        at: clock.now)
            logger.info("weekly reports", metadata: ["sent": "\(sent)"])
        }
    }

    /// Monday, 08:00 UTC or later: when the week in review goes out (the README and the mails name this day).
    public static func isWeeklyReportTime(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .hour], from: date)
        return parts.weekday == 2 && (parts.hour ?? 0) >= 8
    }

    /// Queues the weekly report of every active store whose contact wants it. - Returns: how many.
    static func sendWeeklyReports(store: any PerfbotStore, plugin: CustomerPlugin, commandAddress: String, at: Date) async throws -> Int {
        var sent = 0
        for customer in try await store.allCustomers() where customer.active {
            guard try await store.weeklyReport(of: customer.id) else { continue }
            var reply = try await plugin.report(customer)
            if case .header? = reply.blocks.first { reply.blocks.removeFirst() }
            let lines = reply.plainText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            try await store.enqueue(.mail(CustomerMail(customer, .weeklyReport(lines: lines, commandAddress: commandAddress))), at: at)
            sent += 1
        }
        return sent
    }

    /// A setting a contact confirmed: their automation level, or an exception added or removed.
    static func applySetting(_ job: JobRecord, store: any PerfbotStore, at: Date) async throws -> String {
        guard case let .setting(change) = job.kind, let customer = try await store.customer(job.store) else {
            throw BotError.invalid("unknown setting `\(job.playbook)`")
        }
        let value = change.value
        var level = customer.automationLevel, exceptions = customer.automationExceptions
        switch change.key {
        case .level:
            guard let number = Int(value), let chosen = AutomationLevel(rawValue: number) else { throw BotError.invalid("bad level") }
            level = chosen
        case .skip:
            guard ActionTag.exceptionNames.contains(value) else { throw BotError.invalid("bad exception") }
            if !exceptions.contains(value) { exceptions.append(value) }
        case .unskip:
            exceptions.removeAll { $0 == value }
        case .reports:
            guard value == "on" || value == "off" else { throw BotError.invalid("bad reports switch") }
            try await store.setWeeklyReport(job.store, enabled: value == "on", at: at)
            return "weekly report \(value)"
        }
        try await store.setAutomation(job.store, level: level, exceptions: exceptions, at: at)
        return "level \(level.rawValue), exceptions \(exceptions.joined(separator: ", "))"
    }

    /// A hosting change the company's tool made: the store's plan, or its new cache measured from now on. Audited.
    static func recordHosting(_ change: HostingChange, job: JobRecord, store: any PerfbotStore, plans: PlanCatalog,
                              at: Date) async throws -> String {
        guard var customer = try await store.customer(job.store) else { throw BotError.invalid("\(job.store) is no longer a customer") }
        let before: String, after: String
        switch change.target {
        case let .plan(name):
            guard let plan = plans.plan(named: name) else { throw BotError.invalid("`\(name)` is no longer a plan perfbot knows") }
            before = customer.plan.rawValue
            customer.plan = plan
            after = plan.rawValue
        case let .caching(cache):
            before = customer.probes.contains(cache.probe) ? cache.rawValue : "none"
            customer.probes.insert(cache.probe)
            after = cache.rawValue
        }
        try await store.upsert([customer], at: at)
        try await store.audit(actor: job.requestedBy, channel: job.channel, action: "hosting.\(change.target.subject.rawValue)",
                              store: job.store, details: ["job": "\(job.id)", "from": before, "to": after], result: "recorded", at: at)
        return switch change.target {
        case .plan: "\(job.store) is now on the \(after) plan (was \(before)); put it in the customers file too, "
            + "or the next import moves it back"
        case .caching: "perfbot now measures \(job.store)'s \(after) (its hit rate and memory)"
        }
    }

    /// Makes proposals (approval, held job, e-mail) with the configured reply domain and lifetime.
    public func proposer() -> Proposer {
        Proposer(replyDomain: configuration.replyDomain, ttl: configuration.approvalTTL, tokens: Self.approvalToken)
    }

    /// Forecasts and the daily notices.
    public func predictions() -> Predictions {
        Predictions(store: store, clock: clock, alertsChannel: configuration.slackAlertsChannel)
    }

    /// Plans dry runs; real runs are the engine's jobs.
    func runner() -> PlaybookRunner {
        PlaybookRunner(metrics: StoreCurrentMetrics(store: store, clock: clock), sleeper: sleeper, clock: clock)
    }

    /// One check cycle over every active store, as the scheduler runs it.
    /// - Parameter inline: run playbooks inside the cycle (for `check --once`, where no job service runs).
    /// - Parameter evaluation: incremental for the scheduler service, the one process that keeps the rules' memory
    ///   and forgets the journal it has read; full (the default) for a cycle run once beside it (`perfbot check
    ///   --once`), which must leave the journal alone.
    public func checkCycle(quietPeriod: TimeInterval = 300, inline: Bool = false,
                           evaluation: CheckCycle.Evaluation = .full) -> CheckCycle {
        let automation = Automation(library: library, planner: planner,
                                    engine: engine, inline: inline)
        let thresholds = self.thresholds
        let platforms = Self.platforms
        return CheckCycle(
            store: store,
            rules: { customer in
                thresholds.rules(platforms.first { $0.platform == customer.platform }?.rules ?? [], for: customer)
            },
            automation: automation, clock: clock,
            settings: settings(quietPeriod: quietPeriod, inline: inline, evaluation: evaluation),
            logger: logger, tokens: Self.approvalToken,
            collect: { [collector] in await collector.collect($0) }, advice: advice)
    }

    /// A new approval token and its stored hash.
    @Sendable public static func approvalToken() -> (token: String, hash: String) {
        let token = ApprovalToken.generate()
        return (token, ApprovalToken.hash(token))
    }

    func settings(quietPeriod: TimeInterval, inline: Bool, evaluation: CheckCycle.Evaluation) -> CheckCycle.Settings {
        var settings = CheckCycle.Settings(quietPeriod: quietPeriod, perStoreTimeout: inline ? .seconds(1800) : .seconds(20),
                                           alertsChannel: configuration.slackAlertsChannel)
        settings.replyDomain = configuration.replyDomain
        settings.approvalTTL = configuration.approvalTTL
        settings.evaluation = evaluation
        return settings
    }

    /// The command router over every plugin.
    public func commandRouter() throws -> CommandRouter {
        guard let router else { throw BotError.invalid("the command router was not built") }
        return router
    }

    /// The HTTP server.
    public func server() throws -> PerfbotServer {
        let plugins = builtPlugins
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
        settings.sourceTokens = configuration.sourceTokens
        settings.rateLimits = configuration.rateLimits
        let router = try commandRouter()
        let replies = emailReplies(router: router)
        let inbound: (@Sendable (InboundMail) async throws -> String)?
        if configuration.replyDomain != nil {
            inbound = { mail in
                let outcome = try await replies.handle(mail)
                return "\(outcome)"
            }
        } else {
            inbound = nil
        }
        let pages = statusLink().map { link in
            StatusPageService(store: store, link: link, clock: clock, replies: replies, router: router,
                              commandAddress: configuration.commandAddress, logger: logger, advice: advice,
                              tuningDesk: TuningDesk(library: library, planner: planner), countriesKnown: geo != nil, botListNote: BotList.shipped.note) as any StatusPages
        }
        return PerfbotServer(
            store: store, commands: router,
            clock: clock,
            settings: settings,
            metrics: metrics, logger: logger,
            webhookSources: plugins.flatMap(\.webhookSources), metricCatalogue: Self.metricCatalogue,
            inboundMail: inbound, statusPages: pages,
            modals: configuration.slackBotToken.flatMap { token in
                URL(string: configuration.slackAPIURL).map { SlackModalOpener(poster: modalPoster, apiURL: $0, token: token) }
            })
    }

    /// Delivers queued Slack messages and replies.
    public func outbox(poster: any HTTPPoster = CurlPoster()) -> OutboxDeliverer {
        OutboxDeliverer(store: store, poster: poster, clock: clock, slackAPI: configuration.slackAPIURL,
                        slackToken: configuration.slackBotToken, logger: logger, mail: mailer())
    }

    /// Signs status page links; nil while `PERFBOT_LINK_SECRET` is not set.
    public func statusLink() -> StatusLink? {
        configuration.linkSecret.map { secret in
            StatusLink(secret: secret, publicURL: configuration.publicURL ?? "http://\(configuration.host):\(configuration.port)",
                       days: configuration.linkDays, actMinutes: configuration.linkActMinutes)
        }
    }

    /// Renders and sends an outbox e-mail through SMTP; nil while `SMTP_URL` is not set.
    func mailer() -> (@Sendable (CustomerMail) async throws -> Void)? {
        guard let url = configuration.smtpURL else { return nil }
        let sender = SMTPSender(url: url, user: configuration.smtpUser, password: configuration.smtpPassword)
        let domain = configuration.replyDomain ?? "perfbot.invalid"
        let from = configuration.mailFrom ?? "perfbot <perfbot@\(domain)>"
        let clock = self.clock
        let issuer = statusLink().map { StatusLinkIssuer(link: $0, store: store) }
        return { mail in
            let now = clock.now
            // A link of its own for each mail, recorded before it leaves, so it can be revoked.
            var url: String?
            if let issuer, let id = mail.store {
                url = try await issuer.issue(for: id, contact: mail.to, now: now)
            }
            try await sender.send(MailTemplates.message(mail, from: from, domain: domain, now: now,
                                                        statusLink: url.map { url in { _ in url } }))
        }
    }

    /// Services that run beside the server: retention, the job engine, background waits, the outbox, then
    /// each plugin's own.
    public func services() -> [any BotService] {
        let (store, clock, logger, policy) = (self.store, self.clock, self.logger, configuration.retention)
        let retention = PeriodicService(name: "retention", every: .seconds(3600), clock: clock, logger: logger, leadership: leadership) {
            let pruned = try await store.prune(policy, now: clock.now)
            if !pruned.isEmpty {
                logger.info("retention", metadata: pruned.mapValues { "\($0)" }.reduce(into: Logger.Metadata()) { $0[$1.key] = $1.value })
            }
        }
        return [retention, engine, jobs, outbox(), weeklyReports()] + builtPlugins.flatMap(\.services)
    }
}

/// `when` conditions read the newest still-current value from the store.
struct StoreCurrentMetrics: CurrentMetrics {
    let store: any PerfbotStore
    let clock: any BotClock

    func current(_ metric: MetricName, of id: StoreID) async throws -> Double? {
        try await store.latestMetrics(stores: [id])[id]?.fresh(asOf: clock.now)[metric]
    }
}

/// Tells whoever must know of a job nobody in this process waits for: one resumed after a restart, or one
/// interrupted by a stop. The admins in the issue's thread (or the alerts channel), the customer who approved it.
struct JobReporter: Sendable {
    let store: any PerfbotStore
    let alertsChannel: String?
    let mailCustomers: Bool
    let clock: any BotClock

    func report(_ outcome: JobOutcome) async throws {
        let job = outcome.job
        let ran = job.steps.map { step in
            step.status.symbol + " " + step.name
        }
        let notRun = job.plan.dropFirst(job.steps.count).map(\.name)
        var text = "\(job.state.symbol) Job \(job.id) (`\(job.playbook)` on \(job.store), asked by \(job.requesterLabel)) "
            + "\(job.state.rawValue): \(Wording.escapedForSlack(job.summary ?? ""))."
        if !ran.isEmpty { text += "\nRan: " + ran.joined(separator: " · ") }
        if !notRun.isEmpty { text += "\nNot run: " + notRun.joined(separator: " · ") }
        if job.state == .interrupted {
            text += "\nIt is not re-run on its own. `/perf run \(job.playbook) \(job.store) --dry-run` shows the steps again."
        }
        if let channel = alertsChannel {
            if let issue = job.issueID {
                try await store.enqueue(.slack(channel, .text(text)), thread: .issue(issue), at: clock.now)
            } else {
                try await store.enqueue(.slack(channel, .text(text)), at: clock.now)
            }
        }
        // The customer who approved it by e-mail hears what became of it.
        if job.channel == "email", mailCustomers, let customer = try await store.customer(job.store) {
            let reason = switch job.state {
            case .succeeded: "The fix you approved has been applied."
            case .interrupted: "We started the fix you approved, but it was interrupted before it finished (\(job.steps.count) of "
                + "\(job.plan.count) steps ran). Our team has been told and will check your store; you do not need to reply."
            default: "We could not complete the fix you approved. Our team has been told and will look at it."
            }
            try await store.enqueue(.mail(CustomerMail(customer, .proposalClosed(reason: reason))), at: clock.now)
        }
    }
}
