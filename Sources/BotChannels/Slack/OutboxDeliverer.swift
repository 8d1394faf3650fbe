import BotCore
import Foundation
import Logging

/// Delivers the outbox: renders each typed message for its channel (`chat.postMessage`, `chat.update`,
/// `response_url`, e-mail) and sends it, with retries and back-off.
/// A message counts as sent only when Slack accepted it; Slack's `429 Retry-After` is honoured.
public struct OutboxDeliverer: BotService {
    public let name = "outbox"
    let store: any OutboxStore
    let poster: any HTTPPoster
    let clock: any BotClock
    let slackAPI: URL?
    let slackToken: String?
    let logger: Logger
    /// Attempts before a message is given up.
    let maxAttempts: Int
    let pollInterval: Duration
    /// At most one message per Slack channel in this interval (Slack allows about one a second).
    let pacing: Duration
    private let paced = Pacer()
    /// Renders and sends a customer e-mail; nil while SMTP is not configured.
    let mail: (@Sendable (CustomerMail) async throws -> Void)?

    public init(store: any OutboxStore, poster: any HTTPPoster = CurlPoster(), clock: any BotClock,
                slackAPI: String, slackToken: String?, logger: Logger, maxAttempts: Int = 8,
                pollInterval: Duration = .seconds(1), pacing: Duration = .seconds(1),
                mail: (@Sendable (CustomerMail) async throws -> Void)? = nil) {
        self.pacing = pacing
        self.mail = mail
        self.store = store
        self.poster = poster
        self.clock = clock
        self.slackAPI = URL(string: slackAPI)
        self.slackToken = slackToken
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        let stopping = StopFlag()
        while !Task.isCancelled {
            // A send under way is never cancelled half-way (a request cut off may have reached Slack): on
            // shutdown the current message finishes and no further one starts.
            let round = Task { try await deliverDue(stopping: stopping) }
            let delivered = try await withTaskCancellationHandler {
                try await round.value
            } onCancel: {
                stopping.set()
            }
            if delivered == 0 { try await clock.sleep(for: pollInterval) }
        }
    }

    /// Tries every message that is due once. - Returns: how many were delivered.
    /// - Parameter stopping: checked between messages; once set, no further message starts.
    @discardableResult
    public func deliverDue(stopping: StopFlag? = nil) async throws -> Int {
        var delivered = 0
        for var message in try await store.dueMessages(now: clock.now, limit: 50) {
            if stopping?.isSet == true { break }
            var threadTS: String?
            if let thread = message.thread, message.channel == .slack {
                if let ts = try await store.threadTS(thread) {
                    threadTS = ts
                } else if try await store.threadStarter(thread) != message.id {
                    guard try await store.threadHeadFailed(thread) else {
                        // Its thread has not started yet: wait for the first message to go out.
                        try await store.postpone(message.id, until: clock.now.addingTimeInterval(5))
                        continue
                    }
                    // The thread's first message was given up: this one goes out on its own.
                    message.thread = nil
                }
            }
            let request: Request
            do {
                request = try await self.request(for: message, threadTS: threadTS)
            } catch {
                try await store.markAttempt(message.id, error: "\(error)", nextAttempt: nil)
                continue
            }
            if message.channel == .slack { await paced.wait(for: message.destination, interval: pacing) }
            // A round's messages go out one by one, paced: by the time this one's turn comes, another replica may
            // have taken it (this replica's heartbeat lapsed while it waited). Then it is that replica's to send.
            guard try await store.keepClaim(message.id) else {
                logger.notice("outbox message taken by another replica", metadata: ["message": "\(message.id)"])
                continue
            }
            switch await attempt(request) {
            case let .sent(ts):
                try await store.markSent(message.id, at: clock.now)
                if let thread = message.thread, let ts, try await store.threadTS(thread) == nil {
                    try await store.rememberThread(thread, channel: message.destination, ts: ts)
                }
                delivered += 1
            case let .wait(reason):
                // Not a failure: the channel is not configured yet. The message waits, visible in `perfbot outbox`.
                try await store.wait(message.id, reason: reason, until: clock.now.addingTimeInterval(300))
            case let .retry(error, after):
                let exhausted = message.attempts + 1 >= maxAttempts
                let next = exhausted ? nil : clock.now.addingTimeInterval(after ?? backoff(message.attempts))
                logger.warning("outbox delivery failed", metadata: [
                    "message": "\(message.id)", "channel": "\(message.channel.rawValue)", "error": "\(error)",
                    "retry": "\(next.map { "\(Int($0.timeIntervalSince(clock.now))) s" } ?? "gave up")"])
                try await store.markAttempt(message.id, error: error, nextAttempt: next)
            case let .giveUp(error):
                logger.error("outbox message given up", metadata: ["message": "\(message.id)", "error": "\(error)"])
                try await store.markAttempt(message.id, error: error, nextAttempt: nil)
            }
        }
        return delivered
    }

    /// What sending a message takes: a Slack Web API call, a `response_url` POST, or an e-mail.
    enum Request {
        case slack(method: String, body: JSONValue)
        case response(URL?, body: JSONValue)
        case mail(CustomerMail)
    }

    struct UnreadableAlert: Error, CustomStringConvertible {
        var description: String { "the alert to update is unreadable" }
    }

    /// Where the outbox message goes and its body, rendered here and nowhere else.
    /// - Parameter threadTS: the `ts` of its thread's first message, once that went out.
    func request(for message: OutboxMessage, threadTS: String?) async throws -> Request {
        switch message.message {
        case let .post(reply, replyingTo):
            return Self.post(reply, to: message.destination, threadTS: threadTS ?? replyingTo)
        case let .alertOutcome(outcome):
            guard let thread = message.thread, let threadTS else {
                // No alert to update (its thread was given up): the outcome goes out on its own.
                return Self.post(.text(outcome), to: message.destination, threadTS: nil)
            }
            guard case let .post(alert, _)? = try await store.threadStarterMessage(thread) else { throw UnreadableAlert() }
            return .slack(method: "chat.update",
                          body: BlockKitRenderer.update(alert, channel: message.destination, ts: threadTS, outcome: outcome))
        case let .response(reply, replaceOriginal):
            return .response(URL(string: message.destination), body: BlockKitRenderer.response(reply, replaceOriginal: replaceOriginal))
        case let .mail(mail):
            return .mail(mail)
        }
    }

    static func post(_ reply: BotReply, to channel: String, threadTS: String?) -> Request {
        .slack(method: "chat.postMessage", body: BlockKitRenderer.post(reply, channel: channel, threadTS: threadTS))
    }

    enum Attempt: Equatable {
        /// Delivered; Slack's `ts` of the message when it gave one.
        case sent(String?)
        /// Try again, after Slack's `Retry-After` when it gave one.
        case retry(String, after: TimeInterval?)
        case giveUp(String)
        /// The channel is not configured: wait without counting an attempt.
        case wait(String)
    }

    func attempt(_ request: Request) async -> Attempt {
        let url: URL
        let bearer: String?
        let body: JSONValue
        switch request {
        case let .response(target, json):
            guard let target else { return .giveUp("invalid response URL") }
            url = target
            bearer = nil
            body = json
        case let .slack(method, json):
            guard let slackAPI, let slackToken else { return .wait("SLACK_BOT_TOKEN is not set") }
            url = slackAPI.appendingPathComponent(method)
            bearer = slackToken
            body = json
        case let .mail(message):
            guard let mail else { return .wait("SMTP_URL is not set") }
            do {
                try await mail(message)
                return .sent(nil)
            } catch {
                return .retry("SMTP: \(error)", after: nil)
            }
        }
        let answer: HTTPAnswer
        do {
            answer = try await poster.post(url, json: body.bytes(), bearer: bearer)
        } catch {
            return .retry("network: \(error)", after: nil)
        }
        switch answer.status {
        case 429:
            return .retry("rate limited", after: answer.headers["retry-after"].flatMap(TimeInterval.init) ?? 30)
        case 500...599:
            return .retry("HTTP \(answer.status)", after: nil)
        case 200...299:
            guard bearer != nil else { return .sent(nil) }
            return Self.slackResult(answer.body)
        case 404 where bearer == nil, 410 where bearer == nil:
            return .giveUp("response URL expired (HTTP \(answer.status))")
        default:
            return .giveUp("HTTP \(answer.status)")
        }
    }

    /// Slack answers 200 even when it refused: read `ok` and `error`.
    static func slackResult(_ body: [UInt8]) -> Attempt {
        struct Result: Decodable {
            var ok: Bool
            var error: String?
            var ts: String?
        }
        guard let result = try? JSONDecoder().decode(Result.self, from: Data(body)) else {
            return .retry("unreadable answer from Slack", after: nil)
        }
        if result.ok { return .sent(result.ts) }
        let error = result.error ?? "unknown_error"
        let transient: Set<String> = ["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]
        return transient.contains(error) ? .retry(error, after: nil) : .giveUp(error)
    }

    /// 10 s, 20 s, 40 s, … up to 15 minutes.
    func backoff(_ attempts: Int) -> TimeInterval {
        min(900, 10 * pow(2, Double(min(attempts, 10))))
    }
}

/// A flag one side sets and the other reads, across tasks.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    public init() {}

    public func set() { lock.withLock { value = true } }
    public var isSet: Bool { lock.withLock { value } }
}

/// Spaces out sends per destination.
actor Pacer {
    private var last: [String: ContinuousClock.Instant] = [:]

    func wait(for destination: String, interval: Duration) async {
        let now = ContinuousClock.now
        if let previous = last[destination], now < previous + interval {
            try? await Task.sleep(until: previous + interval, clock: .continuous)
        }
        last[destination] = ContinuousClock.now
    }
}
