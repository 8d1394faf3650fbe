import Foundation

/// Reads the customers perfbot looks after.
public protocol CustomerDirectory: Sendable {
    /// Every customer, ordered by store name.
    func allCustomers() async throws -> [Customer]
    /// One customer, or nil.
    func customer(_ id: StoreID) async throws -> Customer?
}

/// Reads stored metric samples.
public protocol MetricReader: Sendable {
    /// The newest value of each metric per store, however old. - Parameter stores: nil for every store.
    func latestMetrics(stores: [StoreID]?) async throws -> [StoreID: MetricSnapshot]
    /// The newest value of each metric of `store` measured in `asOf - lookback ... asOf`.
    func metrics(of store: StoreID, asOf: Date, lookback: TimeInterval) async throws -> MetricSnapshot
    /// The mean of `metric` per store over the whole hours in `from..<to` (from hourly rollups).
    func average(_ metric: MetricName, stores: [StoreID]?, from: Date, to: Date) async throws -> [StoreID: Double]
}

/// Reads detected issues.
public protocol IssueReader: Sendable {
    /// Open issues, most severe and newest first. - Parameter store: nil for every store.
    func openIssues(store: StoreID?) async throws -> [IssueSummary]
}

/// Everything the store view needs, read in one consistent snapshot.
public struct StoreReadings: Sendable {
    public var customer: Customer
    /// The newest value of each metric.
    public var latest: MetricSnapshot
    /// The newest values as of 24 hours ago.
    public var dayAgo: MetricSnapshot
    public var uptime24h: Double?
    public var uptime24hDayAgo: Double?
    public var openIssues: [IssueSummary]

    public init(customer: Customer, latest: MetricSnapshot, dayAgo: MetricSnapshot, uptime24h: Double?,
                uptime24hDayAgo: Double?, openIssues: [IssueSummary]) {
        self.customer = customer
        self.latest = latest
        self.dayAgo = dayAgo
        self.uptime24h = uptime24h
        self.uptime24hDayAgo = uptime24hDayAgo
        self.openIssues = openIssues
    }
}

/// Everything the fleet view needs, read in one consistent snapshot.
public struct FleetReadings: Sendable {
    public var customers: [Customer]
    public var latest: [StoreID: MetricSnapshot]
    public var uptime24h: [StoreID: Double]
    public var openIssues: [IssueSummary]

    public init(customers: [Customer], latest: [StoreID: MetricSnapshot], uptime24h: [StoreID: Double],
                openIssues: [IssueSummary]) {
        self.customers = customers
        self.latest = latest
        self.uptime24h = uptime24h
        self.openIssues = openIssues
    }
}

/// Reads the console views in one transaction each (one round trip to the database).
public protocol ConsoleReader: Sendable {
    /// The fleet as of `asOf`.
    func fleetReadings(asOf: Date) async throws -> FleetReadings
    /// One store as of `asOf` and 24 hours before; nil when no such store exists.
    func storeReadings(_ store: StoreID, asOf: Date) async throws -> StoreReadings?
    /// Every store name, for suggestions.
    func storeNames() async throws -> [String]
}

/// One executed action, as written to `automation_actions`.
public struct ActionRecord: Sendable, Equatable {
    public var store: StoreID
    public var issueID: Int64?
    public var playbook: String
    public var action: String
    public var argv: [String]
    public var executedAt: Date
    public var duration: TimeInterval
    public var exitCode: Int32?
    /// Bounded output of the command.
    public var output: String
    public var succeeded: Bool

    public init(store: StoreID, issueID: Int64?, playbook: String, action: String, argv: [String], executedAt: Date,
                duration: TimeInterval, exitCode: Int32?, output: String, succeeded: Bool) {
        self.store = store
        self.issueID = issueID
        self.playbook = playbook
        self.action = action
        self.argv = argv
        self.executedAt = executedAt
        self.duration = duration
        self.exitCode = exitCode
        self.output = output
        self.succeeded = succeeded
    }
}

/// What the operations commands read and write.
public protocol OperationsStore: CustomerDirectory {
    /// Sets a customer's automation level and exceptions.
    func setAutomation(_ store: StoreID, level: AutomationLevel, exceptions: [String], at: Date) async throws
    /// Writes an executed action to `automation_actions`.
    func recordAction(_ record: ActionRecord) async throws
    /// Writes an admin-initiated run to `admin_interventions`.
    func recordIntervention(store: StoreID, admin: String, playbook: String, reason: String?, result: [String: String],
                            at: Date) async throws
    /// Appends to the audit log.
    func audit(actor: String, channel: String, action: String, store: StoreID?, details: [String: String],
               result: String?, at: Date) async throws
    /// The newest values of `store`'s metrics.
    func latestMetrics(stores: [StoreID]?) async throws -> [StoreID: MetricSnapshot]
}

/// Reads raw samples of one metric, for rule evaluation.
public protocol SampleReader: Sendable {
    /// Samples of `metric` for `store` in `from…to` (from excluded), oldest first.
    func samples(_ metric: MetricName, of store: StoreID, from: Date, to: Date) async throws -> [(at: Date, value: Double)]
}

/// An outgoing message waiting in the outbox.
public struct OutboxMessage: Sendable, Equatable {
    public enum Channel: String, Sendable {
        /// `chat.postMessage` to a Slack channel.
        case slack
        /// A POST to a slash command's `response_url`.
        case slackResponse = "slack_response"
        case email
    }

    public var id: Int64
    public var channel: Channel
    /// A Slack channel id, a response URL, or an e-mail address.
    public var destination: String
    /// The message, JSON.
    public var payload: String
    public var attempts: Int

    public init(id: Int64, channel: Channel, destination: String, payload: String, attempts: Int) {
        self.id = id
        self.channel = channel
        self.destination = destination
        self.payload = payload
        self.attempts = attempts
    }
}

/// The durable outbox: messages are written first and delivered by a background service.
public protocol OutboxStore: Sendable {
    /// Queues a message.
    @discardableResult
    func enqueue(_ channel: OutboxMessage.Channel, to destination: String, payload: String, at: Date) async throws -> Int64
    /// Messages due at `now`, oldest first.
    func dueMessages(now: Date, limit: Int) async throws -> [OutboxMessage]
    /// Marks a message delivered.
    func markSent(_ id: Int64, at: Date) async throws
    /// Schedules another attempt, or gives up when `nextAttempt` is nil.
    func markAttempt(_ id: Int64, error: String, nextAttempt: Date?) async throws
}
