import Foundation

/// What the delivery log says about an arriving delivery.
public enum DeliveryAdmission: Sendable, Equatable {
    /// First time this key was seen; act on it.
    case fresh(id: Int64)
    /// Seen before: do not act again. `response` is what was answered the first time, if finished.
    case duplicate(id: Int64, response: StoredResponse?)
}

/// The outcome of recording and handling a delivery in one transaction.
public enum DeliveryResult: Sendable, Equatable {
    /// Handled now; the answer to send.
    case fresh(StoredResponse)
    /// A repeat: nothing was done; the first answer, if it is known.
    case duplicate(StoredResponse?)
}

/// An HTTP answer kept with its delivery, to answer a retry the same way.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    /// Whether the delivery it answers was handled (a status below 400); a failed one is taken afresh when retried.
    public var succeeded: Bool { status < 400 }

    /// The delivery's status as its record gives it, for `succeeded`.
    public static func recordedStatus(succeeded: Bool) -> String { succeeded ? "processed" : "failed" }
}

/// An accepted inbound delivery, as it is recorded.
public struct DeliveryRecord: Sendable {
    public var source: String
    /// What makes a retry recognisable (`slack-event:Ev…`).
    public var key: String
    public var contentType: String?
    public var body: [UInt8]
    public var at: Date

    public init(source: String, key: String, contentType: String?, body: [UInt8], at: Date) {
        self.source = source
        self.key = key
        self.contentType = contentType
        self.body = body
        self.at = at
    }
}

/// What storing a pushed batch did.
public struct SampleIngest: Sendable {
    public init(inserted: Int, duplicates: Int, unknownStores: Set<StoreID>) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.unknownStores = unknownStores
    }

    /// Samples stored for the first time.
    public var inserted: Int
    /// Samples already stored (same store, metric and second).
    public var duplicates: Int
    /// Stores in the batch that perfbot does not know; their samples were not stored.
    public var unknownStores: Set<StoreID>
}

/// One alert as received from a monitor.
public struct ExternalAlert: Sendable {
    public var source: String
    public var identity: String
    public var firing: Bool
    public var startsAt: String
    public var storeLabel: String?
    public var store: StoreID?
    public var name: String
    public var severity: Severity
    public var summary: String

    public init(source: String, identity: String, firing: Bool, startsAt: String, storeLabel: String?, store: StoreID?,
                name: String, severity: Severity, summary: String) {
        self.source = source
        self.identity = identity
        self.firing = firing
        self.startsAt = startsAt
        self.storeLabel = storeLabel
        self.store = store
        self.name = name
        self.severity = severity
        self.summary = summary
    }
}

/// What recording an alert did.
public enum AlertEffect: Sendable, Equatable {
    /// Seen before (same fingerprint, status and start): nothing done.
    case duplicate
    /// Kept, but its store is unknown.
    case unknownStore
    /// Opened this issue.
    case opened(Int64)
    /// Firing for an issue already open.
    case alreadyOpen
    /// Resolved this issue.
    case resolved(Int64)
    /// Resolved, but no issue was open.
    case nothingToResolve
}

