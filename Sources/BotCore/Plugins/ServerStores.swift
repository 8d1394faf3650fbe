import Foundation

/// The delivery log: every accepted delivery is recorded, so a retry is recognised and never acts twice.
public protocol DeliveryLog: Sendable {
    /// Records an accepted delivery; a key seen before is a retry, not acted on again unless its first handling failed.
    func admitDelivery(_ record: DeliveryRecord) async throws -> DeliveryAdmission
    /// Marks a delivery handled and keeps the answer given.
    func finishDelivery(key: String, succeeded: Bool, response: StoredResponse, at: Date) async throws
    /// Marks a delivery handled and queues the messages it caused, in one transaction.
    func finishDelivery(key: String, succeeded: Bool, response: StoredResponse, messages: [Addressed], at: Date) async throws
    /// Records a delivery already answered (work without side effects) with its answer, in one transaction.
    func recordDelivery(_ record: DeliveryRecord, response: StoredResponse) async throws -> DeliveryResult
    /// Records deliveries already answered, each with its answer; a key seen before stays as first recorded.
    func recordDeliveries(_ answered: [(record: DeliveryRecord, response: StoredResponse)]) async throws
}

extension DeliveryLog {
    /// One after the other; an engine that can write them in one transaction does.
    public func recordDeliveries(_ answered: [(record: DeliveryRecord, response: StoredResponse)]) async throws {
        for (record, response) in answered { _ = try await recordDelivery(record, response: response) }
    }
}

/// Pushed samples: stored with their delivery, exactly once.
public protocol SampleIngestStore: Sendable {
    /// Records the delivery and stores the samples of known stores in one transaction.
    /// - Parameter answer: builds the answer to record from what was stored.
    func ingest(_ samples: [MetricSample], delivery: DeliveryRecord,
                answer: @escaping @Sendable (SampleIngest) -> StoredResponse) async throws -> DeliveryResult
    /// The store a store-scoped metrics token (its SHA-256) may push for, unless it was revoked.
    func storeForToken(digest: String) async throws -> StoreID?
}

/// What monitors report: alerts that open and resolve issues, and Lighthouse runs.
public protocol MonitorStore: Sendable {
    /// Records a delivery's alerts and opens or resolves the stores' issues for them, with their Slack messages, in
    /// one transaction. - Returns: each alert's effect, in order.
    func ingest(_ alerts: [ExternalAlert], at: Date,
                notify: @escaping @Sendable (_ alert: ExternalAlert, _ opened: Bool) -> Addressed?) async throws -> [AlertEffect]
    /// The store whose site is at `host` (its `url`), for a Lighthouse report that names no store.
    func store(forHost host: String) async throws -> StoreID?
    /// Keeps a Lighthouse run.
    func recordLighthouse(store: StoreID, at: Date, score: Int?, fcp: Double?, lcp: Double?, cls: Double?,
                          tbt: Double?, ttfb: Double?, report: String?) async throws
}

/// The gauges `/metrics` shows.
public protocol ServerGauges: Sendable {
    /// Jobs by state.
    func jobCounts() async throws -> [JobState: Int]
    /// Messages waiting to be sent, per channel.
    func outboxPending() async throws -> [String: Int]
}

/// What the HTTP server reads and writes: the delivery log, pushed samples, monitors' alerts, the customers it
/// checks deliveries against, later replies, and its gauges.
public protocol ServerStore: DeliveryLog, SampleIngestStore, MonitorStore, ServerGauges, CustomerDirectory, OutboxWriter, SilenceReader,
    StoredChanges {}

/// Whether what perfbot has stored may have changed since an answer was built from it.
public protocol StoredChanges: Sendable {
    /// A count that grows with every committed change to what is stored, delivery records aside; nil where changes
    /// made by another process (another replica) cannot be counted, so no answer built from the store may be reused.
    var storedChanges: UInt64? { get }
}
