import BotCore
import Foundation

/// An Alertmanager (`version 4`) or Grafana unified-alerting (`version 1`) webhook body.
public struct AlertPayload: Sendable, Decodable {
    public struct Alert: Sendable, Decodable {
        public var status: String
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String?
        public var endsAt: String?
        public var fingerprint: String?

        enum CodingKeys: String, CodingKey { case status, labels, annotations, startsAt, endsAt, fingerprint }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decode(String.self, forKey: .status)
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
            startsAt = try container.decodeIfPresent(String.self, forKey: .startsAt)
            endsAt = try container.decodeIfPresent(String.self, forKey: .endsAt)
            fingerprint = try container.decodeIfPresent(String.self, forKey: .fingerprint)
        }

        /// Whether it is firing (else resolved).
        public var isFiring: Bool { status == "firing" }
        public var name: String { labels["alertname"] ?? "unnamed_alert" }
        public var severity: Severity { Severity(rawValue: labels["severity"]?.lowercased() ?? "") ?? .warning }
        public var summary: String { annotations["summary"] ?? annotations["description"] ?? name }
        /// The identity of the alert: its fingerprint, else its label set.
        public var identity: String {
            fingerprint ?? labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
    }

    public var version: String
    public var status: String?
    public var alerts: [Alert]
    public var truncatedAlerts: Int

    enum CodingKeys: String, CodingKey { case version, status, alerts, truncatedAlerts }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(String.self, forKey: .version) ?? ""
        status = try container.decodeIfPresent(String.self, forKey: .status)
        alerts = try container.decode([Alert].self, forKey: .alerts)
        truncatedAlerts = try container.decodeIfPresent(Int.self, forKey: .truncatedAlerts) ?? 0
    }
}

/// Verifies Grafana's `X-Grafana-Alerting-Signature`: hex HMAC-SHA256 of the body, or of `ts:body`
/// when a timestamp header is configured.
public struct GrafanaSignatureVerifier: Sendable {
    let secret: String
    let clock: any BotClock
    let window: TimeInterval

    public init(secret: String, clock: any BotClock, window: TimeInterval = 300) {
        self.secret = secret
        self.clock = clock
        self.window = window
    }

    public func verify(signature: String?, timestamp: String?, usesTimestamp: Bool, body: [UInt8]) throws(VerificationFailure) {
        guard let signature, let mac = Hex.decode(signature), mac.count == 32 else { throw .badSignature }
        var message: [UInt8] = []
        if usesTimestamp {
            guard let timestamp else { throw .missingHeaders }
            guard let seconds = Int64(timestamp) else { throw .malformedTimestamp }
            guard abs(clock.now.timeIntervalSince1970 - TimeInterval(seconds)) <= window else { throw .stale }
            message = Array(timestamp.utf8) + [UInt8(ascii: ":")]
        }
        message += body
        guard HMACCheck.isValid(mac: mac, message: message, secret: secret) else { throw .badSignature }
    }

    /// The signature Grafana would send (for tests and the replay tool).
    public static func sign(body: [UInt8], timestamp: String? = nil, secret: String) -> String {
        HMACCheck.hex(message: (timestamp.map { Array($0.utf8) + [UInt8(ascii: ":")] } ?? []) + body, secret: secret)
    }
}
