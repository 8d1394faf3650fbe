import BotCore
import Foundation
import Synchronization

/// How many requests a key may make per period (`30/min`); a burst of that many is allowed at once.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public var count: Int
    public var period: TimeInterval

    public init(_ count: Int, per period: TimeInterval) {
        self.count = max(1, count)
        self.period = max(1, period)
    }

    /// Reads `N/s`, `N/min` or `N/h` (N from 1 to 1,000,000).
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "/")
        guard parts.count == 2, let count = Int(parts[0].trimmingCharacters(in: .whitespaces)), (1...1_000_000).contains(count)
        else { return nil }
        switch parts[1].trimmingCharacters(in: .whitespaces) {
        case "s", "sec", "second": self.init(count, per: 1)
        case "m", "min", "minute": self.init(count, per: 60)
        case "h", "hour": self.init(count, per: 3600)
        default: return nil
        }
    }

    public var description: String {
        switch period {
        case 1: "\(count)/s"
        case 3600: "\(count)/h"
        default: period == 60 ? "\(count)/min" : "\(count)/\(Int(period))s"
        }
    }
}

/// What a limit is counted per.
public enum RateKeyKind: String, CaseIterable, Sendable {
    /// Slack commands, button clicks and mentions, per Slack user.
    case slackUser = "slack_user"
    /// Status page views and posts, per link.
    case statusLink = "status_link"
    /// E-mail commands and replies, per sender address.
    case emailContact = "email_contact"
    /// Webhook deliveries, per token (each source's, each store's, the shared one).
    case sourceToken = "source_token"

    /// The setting that changes it (`PERFBOT_RATE_SLACK_USER`, …).
    public var settingKey: String { "PERFBOT_RATE_\(rawValue.uppercased())" }

    /// What perfbot allows when nothing is configured.
    public var defaultLimit: RateLimit {
        switch self {
        case .slackUser: RateLimit(30, per: 60)
        case .statusLink: RateLimit(30, per: 60)
        case .emailContact: RateLimit(10, per: 60)
        // A fleet of 10,000 stores pushing once a minute through one shared token stays well inside.
        case .sourceToken: RateLimit(20_000, per: 60)
        }
    }
}

/// Token buckets per key, in memory: a key refills at its limit's pace and may burst up to its count.
public final class RateLimiter: Sendable {
    public enum Verdict: Sendable, Equatable {
        case allowed
        /// Refused; `retryAfter` whole seconds until one more is allowed. `firstInRow`: the first refusal since the
        /// key was last allowed (a notice is worth sending once, not for every refused request).
        case limited(retryAfter: Int, firstInRow: Bool)
    }

    struct Bucket {
        var tokens: Double
        var updated: Date
        var refusing = false
    }

    let limits: [RateKeyKind: RateLimit]
    let clock: any BotClock
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Keys kept at most; beyond it, full (idle) buckets are forgotten.
    static let maxKeys = 100_000

    public init(limits: [RateKeyKind: RateLimit] = [:], clock: any BotClock) {
        var all: [RateKeyKind: RateLimit] = [:]
        for kind in RateKeyKind.allCases { all[kind] = limits[kind] ?? kind.defaultLimit }
        self.limits = all
        self.clock = clock
    }

    /// Takes one request of `key` from its bucket.
    public func admit(_ kind: RateKeyKind, key: String) -> Verdict {
        let limit = limits[kind] ?? kind.defaultLimit
        let capacity = Double(limit.count)
        let rate = capacity / limit.period
        let now = clock.now
        let name = "\(kind.rawValue):\(key.prefix(200))"
        return buckets.withLock { buckets in
            if buckets.count >= Self.maxKeys { Self.forgetIdle(&buckets, now: now, limits: limits) }
            var bucket = buckets[name] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = min(capacity, bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * rate)
            bucket.updated = now
            defer { buckets[name] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                bucket.refusing = false
                return .allowed
            }
            let first = !bucket.refusing
            bucket.refusing = true
            return .limited(retryAfter: max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))), firstInRow: first)
        }
    }

    /// Drops the buckets that would be full by now; if every key is busy, starts over rather than grow without bound.
    static func forgetIdle(_ buckets: inout [String: Bucket], now: Date, limits: [RateKeyKind: RateLimit]) {
        let longest = limits.values.map(\.period).max() ?? 3600
        buckets = buckets.filter { now.timeIntervalSince($0.value.updated) < longest }
        if buckets.count >= maxKeys { buckets.removeAll() }
    }
}
