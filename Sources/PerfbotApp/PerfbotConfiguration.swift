import BotCore
import BotPlaybooks
import BotStore
import BotProbes
import BotServer
import Foundation
import Yams

/// perfbot's settings: environment variables, optionally a `perfbot.yaml` with the same keys
/// (the environment wins). Secrets are kept out of `description`.
public struct PerfbotConfiguration: Sendable {
    public var databasePath = "perfbot.sqlite"
    public var host = "127.0.0.1"
    public var port = 8080
    public var playbooksPath = "Playbooks"
    public var webhookToken: String?
    /// Each sender's own token (`PERFBOT_TOKEN_METRICS`, …); a sender without one falls back to `webhookToken`.
    public var sourceTokens: [TokenSource: String] = [:]
    /// Rate limits that differ from the defaults (`PERFBOT_RATE_SLACK_USER`, …).
    public var rateLimits: [RateKeyKind: RateLimit] = [:]
    public var slackSigningSecret: String?
    public var slackBotToken: String?
    public var slackAlertsChannel: String?
    public var slackAPIURL = "https://slack.com/api"
    public var smtpURL: String?
    public var smtpUser: String?
    public var smtpPassword: String?
    public var mailFrom: String?
    public var replyDomain: String?
    public var mailgunSigningKey: String?
    /// Seconds between check cycles.
    public var checkInterval: TimeInterval = 60
    /// How long a proposed fix waits for a decision, seconds.
    public var approvalTTL: TimeInterval = 86400
    public var slackUsers = AccessList()
    /// The alert label naming the store.
    public var alertStoreLabel = "store"
    public var grafanaSecret: String?
    public var grafanaTimestampHeader: String?
    /// Largest request body, bytes.
    public var bodyLimit = 1 << 20
    /// The address customers reach perfbot at (status page links).
    public var publicURL: String?
    /// Signs status page links; without it there are no links and no page.
    public var linkSecret: String?
    /// How long a status page link is valid, days.
    public var linkDays = 7
    /// How long a loaded status page may act (approve, reject, ask for a change), minutes.
    public var linkActMinutes = 30
    /// Where customers mail commands (default `perfbot@<PERFBOT_REPLY_DOMAIN>`).
    public var commandAddress: String?
    /// The authserv-ids whose `Authentication-Results` perfbot trusts (the receiving MTA's, the provider's).
    public var mailAuthservIDs: Set<String> = []
    /// How long a running step may finish after SIGTERM before it is killed, seconds.
    public var drainSeconds = 60
    /// How long each growing table keeps its rows.
    public var retention = RetentionPolicy()
    /// A Prometheus to read container memory, CPU, OOM kills and disk from (one query per reading per cycle).
    public var prometheusURL: String?
    public var prometheusQueries = PrometheusQueries()
    /// The console's resource queries (`PERFBOT_PROMETHEUS_HOST_LABEL` names the node_exporter label of a host).
    public var resourceQueries = ResourceQueries()
    /// Free space inside a table (over 10 % of its size) from which `/perf tables` calls it fragmented.
    public var fragmentedBytes = 64 << 20
    /// How long an admin's good second-factor code lets them intervene without another (`PERFBOT_MFA_MINUTES`).
    public var factorGrace: TimeInterval = 300
    /// The plans the customers file may name (`PERFBOT_PLANS` adds to basic and premium).
    public var plans = PlanCatalog.standard
    /// The Lighthouse CLI, run every 6 hours per store with the `lighthouse` probe.
    public var lighthouseCommand = "lighthouse"
    /// The hosting company's tools that interventions run on this host (`PERFBOT_PROVISION_COMMAND`,
    /// `PERFBOT_CACHING_COMMAND`: an argv with `{store}` and `{plan}` or `{cache}`).
    public var hostCommands = HostCommands.none
    /// A MaxMind-format country database for the countries of traffic analytics (`PERFBOT_GEOIP_DATABASE`).
    public var geoipDatabase: String?

    /// The retention keys: `PERFBOT_RETENTION_<TABLE>_DAYS` (hours for the two short ones), with their setter.
    static var retentionKeys: [(key: String, unit: TimeInterval, keyPath: WritableKeyPath<RetentionPolicy, TimeInterval>)] { [
        ("PERFBOT_RETENTION_SAMPLES_HOURS", 3600, \.samples),
        ("PERFBOT_RETENTION_ROLLUPS_DAYS", 86400, \.rollups),
        ("PERFBOT_RETENTION_SNAPSHOTS_FULL_HOURS", 3600, \.snapshotsFull),
        ("PERFBOT_RETENTION_SNAPSHOTS_DAYS", 86400, \.snapshots),
        ("PERFBOT_RETENTION_DELIVERIES_DAYS", 86400, \.deliveries),
        ("PERFBOT_RETENTION_DELIVERY_BODIES_DAYS", 86400, \.deliveryBodies),
        ("PERFBOT_RETENTION_OUTBOX_DAYS", 86400, \.outbox),
        ("PERFBOT_RETENTION_ALERTS_DAYS", 86400, \.alerts),
        ("PERFBOT_RETENTION_LIGHTHOUSE_DAYS", 86400, \.lighthouse),
        ("PERFBOT_RETENTION_HISTORY_DAYS", 86400, \.history),
    ] }

    /// Every key perfbot reads.
    public static let keys = [
        "PERFBOT_DATABASE", "PERFBOT_HOST", "PERFBOT_PORT", "PERFBOT_PLAYBOOKS", "PERFBOT_WEBHOOK_TOKEN",
        "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_ALERTS_CHANNEL", "SLACK_API_URL", "SMTP_URL",
        "SMTP_USER", "SMTP_PASSWORD", "PERFBOT_MAIL_FROM", "PERFBOT_REPLY_DOMAIN", "MAILGUN_SIGNING_KEY",
        "PERFBOT_CHECK_INTERVAL", "PERFBOT_SLACK_USERS", "PERFBOT_BODY_LIMIT", "PERFBOT_ALERT_STORE_LABEL",
        "PERFBOT_APPROVAL_HOURS", "GRAFANA_HMAC_SECRET", "GRAFANA_TIMESTAMP_HEADER", "PERFBOT_DRAIN_SECONDS",
        "PERFBOT_COMMAND_ADDRESS", "PERFBOT_MAIL_AUTHSERV_ID", "PERFBOT_PUBLIC_URL", "PERFBOT_LINK_SECRET", "PERFBOT_LINK_DAYS", "PERFBOT_LINK_ACT_MINUTES",
        "PERFBOT_PROMETHEUS_URL", "PERFBOT_PROMETHEUS_LABEL", "PERFBOT_PROMETHEUS_MEMORY_PERCENT", "PERFBOT_PROMETHEUS_CPU_CORES",
        "PERFBOT_PROMETHEUS_OOM_KILLS", "PERFBOT_PROMETHEUS_DISK_BYTES", "PERFBOT_LIGHTHOUSE_COMMAND", "PERFBOT_FRAGMENTED_BYTES", "PERFBOT_MFA_MINUTES", "PERFBOT_PROMETHEUS_HOST_LABEL",
        "PERFBOT_PLANS", "PERFBOT_PROVISION_COMMAND", "PERFBOT_CACHING_COMMAND", "PERFBOT_GEOIP_DATABASE",
    ] + retentionKeys.map(\.key) + TokenSource.allCases.map(\.settingKey) + RateKeyKind.allCases.map(\.settingKey)

    /// Sections of `perfbot.yaml` and the prefix their keys take (`rate_limits: {slack_user: 30/min}`).
    static let sections = ["prometheus": "PERFBOT_PROMETHEUS_", "tokens": "PERFBOT_TOKEN_", "rate_limits": "PERFBOT_RATE_"]

    public init() {}

    /// Reads `file` (if given and present) and then the environment.
    /// - Throws: `ConfigurationError` naming the key at fault.
    public static func load(environment: [String: String], file: String? = nil) throws -> PerfbotConfiguration {
        var values: [String: String] = [:]
        if let file {
            values = try fileValues(file)
        }
        for key in keys {
            if let value = environment[key], !value.isEmpty { values[key] = value }
        }
        return try PerfbotConfiguration(values: values)
    }

    /// Builds a configuration from key/value pairs.
    public init(values: [String: String]) throws {
        func text(_ key: String) -> String? { values[key].flatMap { $0.isEmpty ? nil : $0 } }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let raw = text(key) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                throw ConfigurationError.invalid(key: key, reason: "expected a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        databasePath = text("PERFBOT_DATABASE") ?? databasePath
        host = text("PERFBOT_HOST") ?? host
        port = try integer("PERFBOT_PORT", 0...65535) ?? port
        playbooksPath = text("PERFBOT_PLAYBOOKS") ?? playbooksPath
        webhookToken = text("PERFBOT_WEBHOOK_TOKEN")
        slackSigningSecret = text("SLACK_SIGNING_SECRET")
        slackBotToken = text("SLACK_BOT_TOKEN")
        slackAlertsChannel = text("SLACK_ALERTS_CHANNEL")
        slackAPIURL = text("SLACK_API_URL") ?? slackAPIURL
        smtpURL = text("SMTP_URL")
        smtpUser = text("SMTP_USER")
        smtpPassword = text("SMTP_PASSWORD")
        mailFrom = text("PERFBOT_MAIL_FROM")
        replyDomain = text("PERFBOT_REPLY_DOMAIN")
        mailgunSigningKey = text("MAILGUN_SIGNING_KEY")
        checkInterval = TimeInterval(try integer("PERFBOT_CHECK_INTERVAL", 5...3600) ?? 60)
        approvalTTL = TimeInterval(try integer("PERFBOT_APPROVAL_HOURS", 1...168) ?? 24) * 3600
        bodyLimit = try integer("PERFBOT_BODY_LIMIT", 1024...(64 << 20)) ?? bodyLimit
        drainSeconds = try integer("PERFBOT_DRAIN_SECONDS", 0...3600) ?? drainSeconds
        commandAddress = text("PERFBOT_COMMAND_ADDRESS")?.lowercased() ?? replyDomain.map { "perfbot@\($0.lowercased())" }
        if let address = commandAddress, address.split(separator: "@").count != 2 || address.contains("+") {
            throw ConfigurationError.invalid(key: "PERFBOT_COMMAND_ADDRESS", reason: "expected a plain address such as perfbot@fix.example.com")
        }
        publicURL = text("PERFBOT_PUBLIC_URL")
        if let url = publicURL, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw ConfigurationError.invalid(key: "PERFBOT_PUBLIC_URL", reason: "expected an http(s) URL")
        }
        linkSecret = text("PERFBOT_LINK_SECRET")
        if let secret = linkSecret, secret.count < 16 {
            throw ConfigurationError.invalid(key: "PERFBOT_LINK_SECRET", reason: "use at least 16 characters")
        }
        linkDays = try integer("PERFBOT_LINK_DAYS", 1...90) ?? linkDays
        linkActMinutes = try integer("PERFBOT_LINK_ACT_MINUTES", 1...1440) ?? linkActMinutes
        prometheusURL = text("PERFBOT_PROMETHEUS_URL")
        if let label = text("PERFBOT_PROMETHEUS_HOST_LABEL") {
            guard label.range(of: "^[a-zA-Z_][a-zA-Z0-9_]{0,63}$", options: .regularExpression) != nil else {
                throw ConfigurationError.invalid(key: "PERFBOT_PROMETHEUS_HOST_LABEL", reason: "a Prometheus label name")
            }
            resourceQueries.hostLabel = label
        }
        lighthouseCommand = text("PERFBOT_LIGHTHOUSE_COMMAND") ?? lighthouseCommand
        fragmentedBytes = try integer("PERFBOT_FRAGMENTED_BYTES", 1...(1 << 50)) ?? fragmentedBytes
        factorGrace = TimeInterval(try integer("PERFBOT_MFA_MINUTES", 0...60) ?? Int(factorGrace / 60)) * 60
        var templates: [HostCommands.Name: [String]] = [:]
        for name in HostCommands.Name.allCases {
            guard let command = text(name.variable) else { continue }
            switch HostCommands.parse(command, for: name) {
            case let .success(argv): templates[name] = argv
            case let .failure(error): throw ConfigurationError.invalid(key: name.variable, reason: error.userMessage)
            }
        }
        hostCommands = HostCommands(templates: templates)
        geoipDatabase = text("PERFBOT_GEOIP_DATABASE")
        switch PlanCatalog.parse(text("PERFBOT_PLANS") ?? "") {
        case let .success(catalog): plans = catalog
        case let .failure(error): throw ConfigurationError.invalid(key: "PERFBOT_PLANS", reason: error.userMessage)
        }
        if lighthouseCommand.hasPrefix("-") || lighthouseCommand.contains(where: \.isWhitespace) {
            throw ConfigurationError.invalid(key: "PERFBOT_LIGHTHOUSE_COMMAND", reason: "expected a program name or path, without arguments")
        }
        if let url = prometheusURL, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw ConfigurationError.invalid(key: "PERFBOT_PROMETHEUS_URL", reason: "expected an http(s) URL")
        }
        prometheusQueries.label = text("PERFBOT_PROMETHEUS_LABEL") ?? prometheusQueries.label
        prometheusQueries.memoryPercent = text("PERFBOT_PROMETHEUS_MEMORY_PERCENT") ?? prometheusQueries.memoryPercent
        prometheusQueries.cpuCores = text("PERFBOT_PROMETHEUS_CPU_CORES") ?? prometheusQueries.cpuCores
        prometheusQueries.oomKills = text("PERFBOT_PROMETHEUS_OOM_KILLS") ?? prometheusQueries.oomKills
        prometheusQueries.diskBytes = text("PERFBOT_PROMETHEUS_DISK_BYTES") ?? prometheusQueries.diskBytes
        mailAuthservIDs = Set((text("PERFBOT_MAIL_AUTHSERV_ID") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
        for (key, unit, keyPath) in Self.retentionKeys {
            if let value = try integer(key, 1...3650) { retention[keyPath: keyPath] = TimeInterval(value) * unit }
        }
        if let users = text("PERFBOT_SLACK_USERS") { slackUsers = try AccessList(parsing: users) }
        alertStoreLabel = text("PERFBOT_ALERT_STORE_LABEL") ?? alertStoreLabel
        grafanaSecret = text("GRAFANA_HMAC_SECRET")
        grafanaTimestampHeader = text("GRAFANA_TIMESTAMP_HEADER")
        if let token = webhookToken, token.count < 16 {
            throw ConfigurationError.invalid(key: "PERFBOT_WEBHOOK_TOKEN", reason: "use at least 16 characters")
        }
        for source in TokenSource.allCases {
            guard let token = text(source.settingKey) else { continue }
            guard token.count >= 16, token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw ConfigurationError.invalid(key: source.settingKey, reason: "use at least 16 visible ASCII characters")
            }
            sourceTokens[source] = token
        }
        let distinct = Set(sourceTokens.values)
        if distinct.count < sourceTokens.count {
            throw ConfigurationError.invalid(key: "PERFBOT_TOKEN_*", reason: "each sender needs a token of its own; two are the same")
        }
        for kind in RateKeyKind.allCases {
            guard let raw = text(kind.settingKey) else { continue }
            guard let limit = RateLimit(parsing: raw) else {
                throw ConfigurationError.invalid(key: kind.settingKey, reason: "expected a rate such as 30/min, 5/s or 200/h")
            }
            rateLimits[kind] = limit
        }
        guard slackAPIURL.hasPrefix("https://") || slackAPIURL.hasPrefix("http://") else {
            throw ConfigurationError.invalid(key: "SLACK_API_URL", reason: "expected an http(s) URL")
        }
    }

    static func fileValues(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError.invalid(key: "config file", reason: "cannot read \(path)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            throw ConfigurationError.invalid(key: "config file", reason: "\(path) is not valid YAML")
        }
        guard let mapping = node?.mapping else { return [:] }
        var values: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            // A section (`prometheus:`, `tokens:`, `rate_limits:`) holds the keys of its prefix in lower case.
            if let prefix = sections[name], let section = value.mapping {
                for (inner, innerValue) in section {
                    let flat = prefix + (inner.string ?? "").uppercased()
                    guard keys.contains(flat), let scalar = innerValue.scalar?.string else {
                        let known = keys.filter { $0.hasPrefix(prefix) }.map { $0.dropFirst(prefix.count).lowercased() }
                        throw ConfigurationError.invalid(key: "\(name).\(inner.string ?? "?")", reason:
                            "unknown or not a single value in \(path) (known: \(known.joined(separator: ", ")))")
                    }
                    values[flat] = scalar
                }
                continue
            }
            guard keys.contains(name) else {
                throw ConfigurationError.invalid(key: name, reason: "unknown key in \(path) (line \(key.mark?.line ?? 0))")
            }
            guard let scalar = value.scalar?.string else {
                throw ConfigurationError.invalid(key: name, reason: "expected a single value in \(path)")
            }
            values[name] = scalar
        }
        return values
    }

    /// Which optional entry points are on, for the start-up log; never the secrets themselves.
    public var summary: String {
        func on(_ value: String?) -> String { value == nil ? "off" : "on" }
        return "database=\(databasePath) listen=\(host):\(port) slack=\(on(slackSigningSecret)) "
            + "webhooks=\(webhookToken == nil && sourceTokens.isEmpty ? "off" : "on") slack_users=\(slackUsers.roles.count)"
    }
}
