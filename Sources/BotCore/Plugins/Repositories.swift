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
