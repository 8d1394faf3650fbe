import BotCore
import Foundation

/// What the HTTP server needs to know; secrets are optional and a missing one disables its entry point.
public struct ServerSettings: Sendable {
    /// Largest body accepted, in bytes (1 MiB).
    public var bodyLimit: Int
    /// Slack's signing secret; nil disables the Slack routes.
    public var slackSigningSecret: String?
    /// The old single token of `/webhooks/*` and raw mail, for the sources without a token of their own.
    public var webhookToken: String?
    /// Each source's own token (metrics, alertmanager, grafana, lighthouse, uptime, mail).
    public var sourceTokens: [TokenSource: String] = [:]
    /// The rate limits that differ from the defaults.
    public var rateLimits: [RateKeyKind: RateLimit] = [:]
    /// How users type commands (`/perf`), for help and usage lines.
    public var commandPrefix: String
    /// How far in the future a pushed sample may be stamped (clock skew).
    public var futureSkew: TimeInterval
    /// Hosts a `response_url` may point at (Slack's, and a stand-in's); replies go nowhere else.
    public var responseHosts: Set<String>
    /// The alert label that names the store (`store`).
    public var alertStoreLabel = "store"
    /// Grafana's HMAC secret; when set, a valid `X-Grafana-Alerting-Signature` is accepted instead of the token.
    public var grafanaSecret: String?
    /// Grafana's timestamp header, when its HMAC covers `ts:body`.
    public var grafanaTimestampHeader: String?
    /// Largest Lighthouse report accepted, bytes (8 MiB).
    public var lighthouseBodyLimit = 8 << 20
    /// Where monitor alerts are posted; nil keeps them out of Slack.
    public var alertsChannel: String?
    /// Mailgun's webhook signing key; nil refuses Mailgun deliveries.
    public var mailgunSigningKey: String?

    public init(bodyLimit: Int = 1 << 20, slackSigningSecret: String? = nil, webhookToken: String? = nil,
                commandPrefix: String = "/perf", futureSkew: TimeInterval = 600,
                responseHosts: Set<String> = ["hooks.slack.com"]) {
        self.responseHosts = responseHosts
        self.bodyLimit = bodyLimit
        self.slackSigningSecret = slackSigningSecret
        self.webhookToken = webhookToken
        self.commandPrefix = commandPrefix
        self.futureSkew = futureSkew
    }
}
