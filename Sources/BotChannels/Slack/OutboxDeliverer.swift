import BotCore
import Foundation
import Logging

/// Delivers the outbox: `response_url` replies and `chat.postMessage`, with retries and back-off.
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
    /// Sends an e-mail payload (`{"template": …}`); nil while SMTP is not configured.
    let mail: (@Sendable (_ payload: [UInt8]) async throws -> Void)?

    public init(store: any OutboxStore, poster: any HTTPPoster = CurlPoster(), clock: any BotClock,
                slackAPI: String, slackToken: String?, logger: Logger, maxAttempts: Int = 8,
                pollInterval: Duration = .seconds(1), pacing: Duration = .seconds(1),
                mail: (@Sendable (_ payload: [UInt8]) async throws -> Void)? = nil) {
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
            if delivered == 0 { try await Task.sleep(for: pollInterval) }
        }
    }

    /// Tries every message that is due once. - Returns: how many were delivered.
    /// - Parameter stopping: checked between messages; once set, no further message starts.
    @discardableResult
    public func deliverDue(stopping: StopFlag? = nil) async throws -> Int {
        var delivered = 0
        for var message in try await store.dueMessages(now: clock.now, limit: 50) {
            if stopping?.isSet == true { break }
            var method = "chat.postMessage"
            if let thread = message.thread, message.channel == .slack {
                if let ts = try await store.threadTS(thread) {
                    if let outcome = Self.alertUpdateOutcome(message.payload) {
                        guard let original = try await store.threadStarterPayload(thread),
                              let updated = Self.updating(original, ts: ts, outcome: outcome) else {
                            try await store.markAttempt(message.id, error: "the alert to update is unreadable", nextAttempt: nil)
                            continue
                        }
                        message.payload = updated
                        method = "chat.update"
                    } else {
                        message.payload = Self.adding(threadTS: ts, to: message.payload)
                    }
                } else if try await store.threadStarter(thread) != message.id {
                    if try await store.threadHeadFailed(thread) {
                        // The thread's first message was given up: this one goes out on its own.
                        if let outcome = Self.alertUpdateOutcome(message.payload) {
                            message.payload = String(decoding: JSONValue.object([
                                ("channel", .string(message.destination)), ("text", .string(outcome))]).bytes(), as: UTF8.self)
                        }
                        message.thread = nil
                    } else {
                        // Its thread has not started yet: wait for the first message to go out.
                        try await store.postpone(message.id, until: clock.now.addingTimeInterval(5))
                        continue
                    }
                }
            }
            if message.channel == .slack { await paced.wait(for: message.destination, interval: pacing) }
            switch await attempt(message, method: method) {
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

    enum Attempt: Equatable {
        /// Delivered; Slack's `ts` of the message when it gave one.
        case sent(String?)
        /// Try again, after Slack's `Retry-After` when it gave one.
        case retry(String, after: TimeInterval?)
        case giveUp(String)
        /// The channel is not configured: wait without counting an attempt.
        case wait(String)
    }

    func attempt(_ message: OutboxMessage, method: String = "chat.postMessage") async -> Attempt {
        let url: URL
        let bearer: String?
        switch message.channel {
        case .slackResponse:
            guard let target = URL(string: message.destination) else { return .giveUp("invalid response URL") }
            url = target
            bearer = nil
        case .slack:
            guard let slackAPI, let slackToken else { return .wait("SLACK_BOT_TOKEN is not set") }
            url = slackAPI.appendingPathComponent(method)
            bearer = slackToken
        case .email:
            guard let mail else { return .wait("SMTP_URL is not set") }
            do {
                try await mail(Array(message.payload.utf8))
                return .sent(nil)
            } catch let error as MailTemplates.UnknownTemplate {
                return .giveUp("unknown e-mail template \(error.name)")
            } catch {
                return .retry("SMTP: \(error)", after: nil)
            }
        }
        let answer: HTTPAnswer
        do {
            answer = try await poster.post(url, json: Array(message.payload.utf8), bearer: bearer)
        } catch {
            return .retry("network: \(error)", after: nil)
        }
        switch answer.status {
        case 429:
            return .retry("rate limited", after: answer.headers["retry-after"].flatMap(TimeInterval.init) ?? 30)
        case 500...599:
            return .retry("HTTP \(answer.status)", after: nil)
        case 200...299:
            guard message.channel == .slack else { return .sent(nil) }
            return Self.slackResult(answer.body)
        case 404, 410 where message.channel == .slackResponse:
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

    /// The outcome line of an alert update (`OutboxMessage.alertUpdate`), or nil for any other message.
    static func alertUpdateOutcome(_ payload: String) -> String? {
        guard payload.hasPrefix(#"{"update_alert":"#),
              let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { return nil }
        return object["update_alert"] as? String
    }

    /// The `chat.update` body for the alert `original` (its `chat.postMessage` body) sent as `ts`: its
    /// Approve/Reject buttons removed and `outcome` added in their place.
    static func updating(_ original: String, ts: String, outcome: String) -> String? {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(original.utf8))) as? [String: Any],
              object["channel"] is String else { return nil }
        var blocks = (object["blocks"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "actions" }
        blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": outcome]]])
        object["blocks"] = blocks
        object["ts"] = ts
        object["text"] = ((object["text"] as? String).map { $0 + "\n" } ?? "") + outcome
        object.removeValue(forKey: "thread_ts")
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// `payload` (a JSON object) with `"thread_ts": ts` added.
    static func adding(threadTS ts: String, to payload: String) -> String {
        guard payload.hasPrefix("{"), !payload.contains("\"thread_ts\"") else { return payload }
        let tail = payload.dropFirst()
        return "{\"thread_ts\":" + String(decoding: JSONValue.string(ts).bytes(), as: UTF8.self)
            + (tail.hasPrefix("}") ? "" : ",") + tail
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
