import BotChannels
import BotCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// perfbot's HTTP surface: verifies, bounds and records every delivery, then dispatches it.
public struct PerfbotServer: Sendable {
    let store: any ServerStore
    let commands: CommandRouter
    let clock: any BotClock
    let settings: ServerSettings
    let metrics: ServerMetrics
    let logger: Logger
    let webhookSources: [WebhookSource]
    /// The metrics a push may carry: the core's and the packs'.
    let metricCatalogue: MetricCatalogue
    let slackVerifier: SlackSignatureVerifier?
    let tokens: WebhookTokens
    let limiter: RateLimiter
    let gate: DeliveryGate
    /// Answers to commands that show what is stored, kept for a second.
    let answers = ReusedAnswers()
    /// Acts on a customer's reply; answers with a short outcome.
    let inboundMail: (@Sendable (InboundMail) async throws -> String)?
    /// The stores' status pages; nil while `PERFBOT_LINK_SECRET` is not set.
    let statusPages: (any StatusPages)?
    /// Opens the modals commands ask for (a second factor); nil while SLACK_BOT_TOKEN is not set.
    let modals: (any ModalOpener)?

    public init(store: any ServerStore, commands: CommandRouter, clock: any BotClock, settings: ServerSettings,
                metrics: ServerMetrics, logger: Logger, webhookSources: [WebhookSource] = [], metricCatalogue: MetricCatalogue,
                inboundMail: (@Sendable (InboundMail) async throws -> String)? = nil,
                statusPages: (any StatusPages)? = nil, modals: (any ModalOpener)? = nil) {
        self.modals = modals
        self.inboundMail = inboundMail
        self.statusPages = statusPages
        self.store = store
        self.commands = commands
        self.clock = clock
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.webhookSources = webhookSources
        self.metricCatalogue = metricCatalogue
        slackVerifier = settings.slackSigningSecret.map { SlackSignatureVerifier(signingSecret: $0, clock: clock) }
        tokens = WebhookTokens(sources: settings.sourceTokens, shared: settings.webhookToken)
        limiter = RateLimiter(limits: settings.rateLimits, clock: clock)
        gate = DeliveryGate(store: store, clock: clock, metrics: metrics, logger: logger)
        if slackVerifier == nil {
            logger.warning("SLACK_SIGNING_SECRET is not set: /slack/* answers 503 until it is")
        }
        let without = TokenSource.allCases.filter { settings.sourceTokens[$0] == nil }
        if settings.webhookToken != nil, !without.isEmpty {
            logger.warning("PERFBOT_WEBHOOK_TOKEN is one token shared by several senders; give each its own",
                           metadata: ["sources": "\(without.map(\.rawValue))", "settings": "\(without.map(\.settingKey))"])
        } else if settings.webhookToken == nil, !without.isEmpty {
            logger.warning("some senders have no token: their routes answer 503 until one is set",
                           metadata: ["settings": "\(without.map(\.settingKey))"])
        }
    }

    /// The router with every route and the error middleware.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware(metrics: metrics))
        router.get("/healthz") { _, _ in
            APIError.jsonResponse(status: .ok, body: .object([("status", .string("ok"))]))
        }
        router.get("/metrics") { [store] _, _ in
            if let jobs = try? await store.jobCounts(), let outbox = try? await store.outboxPending() {
                metrics.setQueues(jobs: Dictionary(uniqueKeysWithValues: jobs.map { ($0.key.rawValue, $0.value) }), outbox: outbox)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        router.post("/slack/commands") { request, context in try await slackCommand(request, context: context) }
        addStatusRoutes(to: router)
        router.post("/slack/interactions") { request, context in try await slackInteraction(request, context: context) }
        router.post("/slack/events") { request, context in try await slackEvent(request, context: context) }
        router.post("/webhooks/metrics") { request, context in try await metricPush(request, context: context) }
        router.post("/email/inbound") { request, context in try await emailInbound(request, context: context) }
        router.post("/webhooks/alertmanager") { request, context in try await alertmanager(request, context: context) }
        router.post("/webhooks/grafana") { request, context in try await grafana(request, context: context) }
        router.post("/webhooks/lighthouse") { request, context in try await lighthouse(request, context: context) }
        router.post("/webhooks/uptime") { request, context in try await uptime(request, context: context) }
        for source in webhookSources {
            router.post("/webhooks/\(source.path)") { request, context in
                try await pluginWebhook(source, request, context: context)
            }
        }
        return router
    }

    /// Waits until every answered read-only command's record is written (the recorder writes them after the answer).
    public func flushDeliveryRecords() async { await gate.recorder.flush() }

    /// The Hummingbird application on `host:port`, running `services` beside the server (and the recorder of
    /// read-only commands' deliveries, which writes what waits on shutdown).
    public func makeApplication(host: String, port: Int, services: [any Service] = [],
                                onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "perfbot"),
            services: services + [gate.recorder],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Refuses with 429 and `Retry-After` when `key` is over its limit; counts it.
    /// `notice` is told once per run of refusals (a person is worth telling once, not at every refused request).
    func limit(_ kind: RateKeyKind, key: String, route: String, notice: ((Int) async -> Void)? = nil) async throws {
        guard case let .limited(retryAfter, first) = limiter.admit(kind, key: key) else { return }
        metrics.recordRateLimited(route: route, keyKind: kind.rawValue)
        logger.notice("rate limited", metadata: ["route": "\(route)", "key_kind": "\(kind.rawValue)"])
        if first, let notice { await notice(retryAfter) }
        throw APIError.rateLimited(kind, limit: limiter.limits[kind] ?? kind.defaultLimit, retryAfter: retryAfter)
    }

    /// Refuses with 401, counting the reason, when `check` fails.
    func verified(route: String, _ check: () throws(VerificationFailure) -> Void) throws {
        do {
            try check()
        } catch {
            metrics.recordVerificationFailure(route: route, reason: error.reason)
            logger.notice("request refused", metadata: ["route": "\(route)", "reason": "\(error.reason)"])
            throw APIError(.unauthorized, code: error.reason, message: error.message)
        }
    }
}
