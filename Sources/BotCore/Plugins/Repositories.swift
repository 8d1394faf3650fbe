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
