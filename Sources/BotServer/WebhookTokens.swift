import BotChannels
import BotCore
import Foundation

/// The senders that reach perfbot with a token, each with its own.
public enum TokenSource: String, CaseIterable, Sendable {
    case metrics, alertmanager, grafana, lighthouse, uptime, mail

    /// The setting that holds its token (`PERFBOT_TOKEN_METRICS`, …).
    public var settingKey: String { "PERFBOT_TOKEN_\(rawValue.uppercased())" }
}

/// Who a verified token speaks for.
public enum WebhookCaller: Sendable, Equatable {
    /// The source's own token.
    case source(TokenSource)
    /// A store-scoped metrics token (`perfbot tokens issue <store>`): that store's samples only.
    case store(StoreID)
    /// The old single `PERFBOT_WEBHOOK_TOKEN`, for a source that has no token of its own.
    case shared

    /// The key its requests are counted under for rate limits (never the token).
    var rateKey: String {
        switch self {
        case let .source(source): "source:\(source.rawValue)"
        case let .store(store): "store:\(store.rawValue)"
        case .shared: "shared"
        }
    }
}

/// Which token opens which source. A source with its own token no longer accepts the shared one.
public struct WebhookTokens: Sendable {
    var sources: [TokenSource: String] = [:]
    var shared: String?

    /// - Parameters: `sources`: each source's token; `shared`: `PERFBOT_WEBHOOK_TOKEN`, for the sources without one.
    public init(sources: [TokenSource: String] = [:], shared: String? = nil) {
        self.sources = sources.mapValues(WebhookToken.digest)
        self.shared = shared.map(WebhookToken.digest)
    }

    /// Whether `source` can be reached at all (by its own token, the shared one, or store tokens for metrics).
    func accepts(_ source: TokenSource) -> Bool { sources[source] != nil || shared != nil || source == .metrics }

    /// The setting to name when `source` has no token.
    static func missing(_ source: TokenSource) -> String { "\(source.settingKey) (or PERFBOT_WEBHOOK_TOKEN)" }

    /// Checks the presented token for `source`; `storeToken` looks up a store-scoped metrics token by its digest.
    func caller(for source: TokenSource, authorization: String?,
                storeToken: (String) async throws -> StoreID?) async throws -> WebhookCaller? {
        guard let token = WebhookToken.presented(in: authorization) else { return nil }
        let digest = WebhookToken.digest(token)
        if let own = sources[source] {
            if Self.same(digest, own) { return .source(source) }
        } else if let shared, Self.same(digest, shared) {
            return .shared
        }
        // Store tokens are looked up by digest: what a lookup's timing could reveal is the digest, not the token.
        if source == .metrics, let store = try await storeToken(digest) { return .store(store) }
        return nil
    }

    /// Compares two digests in time independent of where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a.utf8, b.utf8) { difference |= x ^ y }
        return difference == 0
    }
}
