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
    /// Hourly means of `metric` for `store` over `from..<to`, oldest first (from the rollups).
    func hourlyMeans(_ metric: MetricName, of store: StoreID, from: Date, to: Date) async throws -> [(at: Date, value: Double)]
}

/// What the admin console's fleet analytics read: the fleet's samples of a period, aggregated per store in the
/// database, one query per metric.
public protocol FleetAnalyticsReader: CustomerDirectory, MetricReader {
    /// Per store, `metric`'s samples in `from..<to` aggregated, counting those at or above `threshold`.
    func fleetAggregates(_ metric: MetricName, from: Date, to: Date, threshold: Double) async throws -> [StoreID: MetricAggregate]
    /// Per store, how many `active_connections` samples in `from..<to` reached `share` of its newest `max_connections`.
    func connectionsNearLimit(from: Date, to: Date, share: Double) async throws -> [StoreID: Int]
    /// Per store, `metric`'s mean per UTC day over the whole days in `from..<to` (from the hourly rollups), by day start.
    func dailyMeans(_ metric: MetricName, from: Date, to: Date) async throws -> [StoreID: [Date: Double]]
    /// Works out the fleet's average health score of the UTC day starting at `day` from its snapshots and keeps it
    /// (again when asked again). - Returns: the average and how many stores it covers; nil without snapshots.
    func keepFleetHealth(day: Date) async throws -> (average: Double, stores: Int)?
    /// The kept daily averages of the days in `from..<to`, oldest first.
    func fleetHealth(from: Date, to: Date) async throws -> [(day: Date, average: Double, stores: Int)]
}

/// Reads detected issues.
public protocol IssueReader: Sendable {
    /// Open issues, most severe and newest first. - Parameter store: nil for every store.
    func openIssues(store: StoreID?) async throws -> [IssueSummary]
    /// Issues resolved since `since`, newest first. - Parameter store: nil for every store.
    func resolvedIssues(store: StoreID?, since: Date) async throws -> [IssueSummary]
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

/// One line of the audit log.
public struct AuditEntry: Sendable, Equatable {
    public var at: Date
    public var actor: String
    public var channel: String
    public var action: String
    public var store: StoreID?
    public var result: String?
    public var details: [String: String]

    public init(at: Date, actor: String, channel: String, action: String, store: StoreID?, result: String?,
                details: [String: String]) {
        self.at = at
        self.actor = actor
        self.channel = channel
        self.action = action
        self.store = store
        self.result = result
        self.details = details
    }
}

/// Reads silences.
public protocol SilenceReader: Sendable {
    /// The silence covering `store` at `at`, if any.
    func activeSilence(_ store: StoreID, at: Date) async throws -> Silence?
    /// Every silence in force at `at`, the soonest to end first.
    func activeSilences(at: Date) async throws -> [Silence]
}

/// Writes the audit log.
public protocol AuditLog: Sendable {
    /// Appends to the audit log.
    func audit(actor: String, channel: String, action: String, store: StoreID?, details: [String: String],
               result: String?, at: Date) async throws
}

/// Proposals and their decisions, with the held jobs they carry and the messages they send.
public protocol ApprovalStore: JobStore, OutboxStore, CustomerDirectory, SilenceReader, AuditLog {
    /// Stores a proposal with its held job (and e-mail, when customers get mail), unless the same one waits.
    @discardableResult func propose(_ draft: ApprovalDraft, at: Date) async throws -> ProposalOutcome
    /// The approval `id`.
    func approval(id: String) async throws -> Approval?
    /// The approval whose reply token hashes to `tokenHash`.
    func approval(tokenHash: String) async throws -> Approval?
    /// Pending approvals, and those proposed since `since` whatever became of them, newest first.
    func approvals(store: StoreID?, since: Date, limit: Int) async throws -> [Approval]
    /// Replaces a pending proposal whose plan no longer holds by a new one, in one transaction.
    func supersede(_ old: String, with draft: ApprovalDraft, alert: Addressed?, thread: ThreadKey?, at: Date) async throws
    /// Decides a pending approval once: refused when decided before, expired, or its issue resolved.
    func decideApproval(_ id: String, approve: Bool, by: String, channel: ApprovalChannel, at: Date) async throws -> ApprovalResult
}

/// What the operations commands read and write.
public protocol OperationsStore: ApprovalStore, SlowQueryStore, IssueReader {
    /// The figures of `/perf report` since `since`.
    func report(since: Date) async throws -> OperationsReport
    /// Sets a customer's automation level and exceptions.
    func setAutomation(_ store: StoreID, level: AutomationLevel, exceptions: [String], at: Date) async throws
    /// The newest values of `store`'s metrics.
    func latestMetrics(stores: [StoreID]?) async throws -> [StoreID: MetricSnapshot]
    /// The latest audit entries, newest first: (at, actor, channel, action, store, result, details).
    func auditEntries(store: StoreID?, limit: Int) async throws -> [AuditEntry]
}

/// One entry of a store's insights feed (ORIGINAL-DESIGN §1.2).
public struct FeedEntry: Sendable, Equatable {
    public var at: Date
    /// `issue`, `resolved`, `action`, `prediction` or `recommendation`.
    public var kind: String
    public var title: String
    public var body: String

    public init(at: Date, kind: String, title: String, body: String) {
        self.at = at
        self.kind = kind
        self.title = title
        self.body = body
    }
}

/// What a store's contact may read and ask for by e-mail.
public protocol CustomerStore: ConsoleReader, CustomerDirectory, JobStore, SlowQueryStore, FeedReader, TrafficStore {
    /// Stores a proposal the contact asked for (no issue behind it) with its held job and e-mail, unless the
    /// same one already waits for a decision (then nothing is stored or mailed again).
    @discardableResult func propose(_ draft: ApprovalDraft, at: Date) async throws -> ProposalOutcome
    /// The figures of the report since `since`, of one store or all.
    func report(since: Date, store: StoreID?) async throws -> OperationsReport
    /// Turns the weekly report e-mail of `store` off or on.
    func setWeeklyReport(_ store: StoreID, enabled: Bool, at: Date) async throws
    /// Whether `store`'s contact gets the weekly report.
    func weeklyReport(of store: StoreID) async throws -> Bool
}

/// The seed's success metrics (ORIGINAL-DESIGN §7) over a period.
public struct OperationsReport: Sendable, Equatable {
    public var issuesOpened = 0
    public var issuesResolved = 0
    /// Resolved issues a job of the automation fixed without anyone's yes.
    public var autoFixed = 0
    public var medianResolveSeconds: Double?
    public var medianDetectSeconds: Double?
    /// Proposals by outcome: approved, rejected, expired, cancelled, pending.
    public var proposals: [String: Int] = [:]
    /// Jobs by end state.
    public var jobs: [String: Int] = [:]
    /// The stores with the most issues, most first.
    public var topStores: [(store: String, issues: Int)] = []

    public init() {}

    public static func == (lhs: OperationsReport, rhs: OperationsReport) -> Bool {
        lhs.issuesOpened == rhs.issuesOpened && lhs.autoFixed == rhs.autoFixed && lhs.proposals == rhs.proposals
            && lhs.topStores.map(\.store) == rhs.topStores.map(\.store)
    }
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
    /// The message; its channel renders it when it is sent.
    public var message: Outbound
    public var attempts: Int
    /// Messages with the same thread go into one Slack thread; the first starts it.
    public var thread: ThreadKey?

    public init(id: Int64, channel: Channel, destination: String, message: Outbound, attempts: Int, thread: ThreadKey? = nil) {
        self.id = id
        self.channel = channel
        self.destination = destination
        self.message = message
        self.attempts = attempts
        self.thread = thread
    }
}

/// Queues messages in the durable outbox: written first, delivered by a background service.
public protocol OutboxWriter: Sendable {
    /// Queues a message.
    @discardableResult
    func enqueue(_ message: Addressed, at: Date) async throws -> Int64
    /// Queues a Slack message in `thread`: the first message of a thread starts it, later ones reply in it (an
    /// alert's update waits for the alert).
    func enqueue(_ message: Addressed, thread: ThreadKey, at: Date) async throws
}

/// The outbox as its deliverer reads it.
public protocol OutboxStore: OutboxWriter {
    /// Messages due at `now`, oldest first.
    func dueMessages(now: Date, limit: Int) async throws -> [OutboxMessage]
    /// Holds a due message for the send about to start: false when it is no longer this sender's to send (another
    /// replica took it after this one's heartbeat lapsed, or it is no longer pending), and then it must not go.
    func keepClaim(_ id: Int64) async throws -> Bool
    /// Marks a message delivered.
    func markSent(_ id: Int64, at: Date) async throws
    /// Schedules another attempt, or gives up when `nextAttempt` is nil.
    func markAttempt(_ id: Int64, error: String, nextAttempt: Date?) async throws
    /// Moves a message's next attempt without counting one (it waits for its thread's first message).
    func postpone(_ id: Int64, until: Date) async throws
    /// Records why a message cannot go yet (its channel is not configured) without counting an attempt.
    func wait(_ id: Int64, reason: String, until: Date) async throws
    /// Whether the first message of `thread` was given up.
    func threadHeadFailed(_ thread: ThreadKey) async throws -> Bool
    /// The `ts` of the Slack message that started `thread`, once sent.
    func threadTS(_ thread: ThreadKey) async throws -> String?
    /// The outbox id of the first message of `thread`.
    func threadStarter(_ thread: ThreadKey) async throws -> Int64?
    /// Remembers the Slack message that started `thread`.
    func rememberThread(_ thread: ThreadKey, channel: String, ts: String) async throws
    /// The message that started `thread` (to update it in place).
    func threadStarterMessage(_ thread: ThreadKey) async throws -> Outbound?
}

/// An open issue as the check cycle tracks it.
public struct TrackedIssue: Sendable, Equatable {
    public var id: Int64
    public var type: String
    public var severity: Severity
    public var title: String
    public var detectedAt: Date
    /// When the condition was first seen clear, if it is clear now.
    public var clearSince: Date?

    public init(id: Int64, type: String, severity: Severity, title: String, detectedAt: Date, clearSince: Date?) {
        self.id = id
        self.type = type
        self.severity = severity
        self.title = title
        self.detectedAt = detectedAt
        self.clearSince = clearSince
    }
}

/// A window in which a store's alerts and automation are muted.
public struct Silence: Sendable, Equatable {
    public var id: Int64
    public var store: StoreID
    public var startsAt: Date
    public var endsAt: Date
    public var reason: String?
    public var createdBy: String

    /// Who starts the silences of maintenance windows.
    public static let windowActor = "perfbot:window"
    /// Whether it is the opening of a maintenance window (not an admin's silence).
    public var isMaintenanceWindow: Bool { createdBy == Self.windowActor }

    public init(id: Int64, store: StoreID, startsAt: Date, endsAt: Date, reason: String?, createdBy: String) {
        self.id = id
        self.store = store
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.reason = reason
        self.createdBy = createdBy
    }
}

/// Everything the check cycle reads about one store, in one transaction.
public struct StoreState: Sendable {
    /// Samples per metric since the rules' lookback, oldest first.
    public var series: [MetricName: [(at: Date, value: Double)]]
    public var tracked: [TrackedIssue]
    public var silence: Silence?

    public init(series: [MetricName: [(at: Date, value: Double)]], tracked: [TrackedIssue], silence: Silence?) {
        self.series = series
        self.tracked = tracked
        self.silence = silence
    }
}

/// A health snapshot to write.
public struct SnapshotRecord: Sendable {
    public var store: StoreID
    public var score: Int
    public var metrics: MetricSnapshot

    public init(store: StoreID, score: Int, metrics: MetricSnapshot) {
        self.store = store
        self.score = score
        self.metrics = metrics
    }
}

/// An insights-feed entry written with the change it reports.
public struct InsightEntry: Sendable {
    public var kind: String
    public var title: String
    public var body: String

    public init(kind: String, title: String, body: String) {
        self.kind = kind
        self.title = title
        self.body = body
    }
}

/// A proposal to store with the issue it is for: the approval, its token's hash, and the customer's
/// proposal e-mail (queued in the same transaction).
/// What became of a proposal: stored (and mailed), or the same one already waits for a decision.
public enum ProposalOutcome: Sendable, Equatable {
    case proposed
    case alreadyWaiting(Approval)
}

public struct ApprovalDraft: Sendable {
    public var approval: Approval
    public var tokenHash: String
    /// The proposal e-mail, if the customer gets one.
    public var proposal: CustomerMail?
    /// The held job with the plan the proposal shows.
    public var job: JobDraft?

    public init(approval: Approval, tokenHash: String, proposal: CustomerMail?,
                job: JobDraft? = nil) {
        self.job = job
        self.approval = approval
        self.tokenHash = tokenHash
        self.proposal = proposal
    }
}

/// A pending approval being closed without a decision (expired, or its issue resolved), with the
/// customer's e-mail and the admins' note that say so (queued in the same transaction).
public struct ApprovalClosing: Sendable {
    public var id: String
    public var status: ApprovalStatus
    /// The customer's e-mail.
    public var mail: CustomerMail?
    /// The note for the alerts channel, in the issue's thread when `thread` is set.
    public var alert: Addressed?
    public var thread: ThreadKey?
    /// The line that replaces the alert's Approve/Reject buttons (with `alert`'s channel and `thread`).
    public var outcome: String?

    public init(id: String, status: ApprovalStatus, mail: CustomerMail?, alert: Addressed?, thread: ThreadKey?,
                outcome: String? = nil) {
        self.id = id
        self.status = status
        self.mail = mail
        self.alert = alert
        self.thread = thread
        self.outcome = outcome
    }
}

/// Proposals that lapse: the check cycle closes them.
public protocol ProposalLapses: Sendable {
    /// Pending approvals past their expiry (→ `expired`) or whose issue was resolved (→ `cancelled`) at `at`.
    func lapsedApprovals(at: Date) async throws -> [(approval: Approval, status: ApprovalStatus)]
    /// Closes each approval that is still pending and queues its messages, in one transaction.
    /// - Returns: the ids closed now (one decided meanwhile is left as it is, its messages dropped).
    func close(_ closings: [ApprovalClosing], at: Date) async throws -> [String]
}

/// The issues the rules open and resolve, each with its insight and alert written in the same transaction.
public protocol IssueStore: Sendable {
    /// Opens an issue unless one of that type is open. - Returns: its id when it was opened now.
    func openIssue(store: StoreID, type: String, severity: Severity, title: String, details: [String: String],
                   at: Date) async throws -> Int64?
    /// Opens an issue with its insight, its alert (threaded under the issue) and, when a fix waits for
    /// a yes, its approval and proposal, in one transaction, unless one of that type is open.
    /// - Returns: the new issue's id.
    func openIssue(store: StoreID, type: String, severity: Severity, title: String, details: [String: String],
                   insight: InsightEntry, alert: Addressed?, approval: ApprovalDraft?, at: Date) async throws -> Int64?
    /// Records that the issue still holds at `at` (clearing any quiet period).
    func touchIssue(_ id: Int64, at: Date) async throws
    /// Records that the issue's condition has been clear since `since`.
    func markClear(_ id: Int64, since: Date) async throws
    /// Resolves the issue.
    func resolveIssue(_ id: Int64, at: Date, autoFixed: Bool) async throws
    /// Resolves an issue with its insight and its alert (in the issue's thread) in one transaction.
    func resolveIssue(_ id: Int64, store: StoreID, insight: InsightEntry, alert: Addressed?, at: Date) async throws
}

/// A store's insights feed.
public protocol InsightStore: Sendable {
    /// Writes a store's insight and queues its messages in one transaction.
    func record(_ insight: InsightEntry, for store: StoreID, messages: [Addressed], at: Date) async throws
    /// Adds an entry to the store's insights feed.
    func addInsight(_ store: StoreID, at: Date, kind: String, title: String, body: String) async throws
    /// The newest evidence of each recommendation in the store's feed (title → evidence).
    func shownRecommendations(of store: StoreID) async throws -> [String: String]
    /// The same for many stores in one read (a cycle that meets them for the first time); a store with none is left out.
    func shownRecommendations(of stores: [StoreID]) async throws -> [StoreID: [String: String]]
}

/// Samples as the fleet's rules see them at one time, read once to rebuild an evaluator's memory.
public struct FleetSamples: Sendable {
    /// Per store, every sample since the asked time, per metric, oldest first.
    public var series: [StoreID: [MetricName: [(at: Date, value: Double)]]]
    /// Per store, the newest sample of each metric (whenever it was taken).
    public var latest: [StoreID: MetricSnapshot]
    /// Per store, the hourly rollups (sum and count, oldest first) of the metric asked for, since the hour asked.
    public var hourly: [StoreID: [(hour: Date, sum: Double, count: Int)]]
    /// Where the sample journal ended when this was read: samples stored later come after it.
    public var mark: Int64

    public init(series: [StoreID: [MetricName: [(at: Date, value: Double)]]], latest: [StoreID: MetricSnapshot],
                hourly: [StoreID: [(hour: Date, sum: Double, count: Int)]], mark: Int64) {
        self.series = series
        self.latest = latest
        self.hourly = hourly
        self.mark = mark
    }
}

/// What the rules of every store need besides samples: open rule issues and active silences.
public struct FleetRuleContext: Sendable {
    public var tracked: [StoreID: [TrackedIssue]]
    public var silences: [StoreID: Silence]

    public init(tracked: [StoreID: [TrackedIssue]], silences: [StoreID: Silence]) {
        self.tracked = tracked
        self.silences = silences
    }
}

/// The rules' state per store: what each cycle reads, and the health it writes back.
public protocol RuleStateStore: Sendable {
    /// Samples since `since`, open rule issues and the active silence of `store`, in one read.
    func state(of store: StoreID, since: Date, at: Date) async throws -> StoreState
    /// Every store's samples since `since`, newest values and hourly rollups of `hourly` from `hoursFrom`, with the
    /// journal's mark, in one read.
    func fleetSamples(since: Date, hourly: MetricName, hoursFrom: Date) async throws -> FleetSamples
    /// Samples stored after `mark`, in the order they were stored, at most `limit`, with the mark of the last.
    func journal(after mark: Int64, limit: Int) async throws -> (samples: [MetricSample], mark: Int64)
    /// Forgets the journal up to `mark`, which the cycle has read.
    func forgetJournal(through mark: Int64) async throws
    /// Open rule issues and active silences of every store at `at`, in one read.
    func ruleContext(at: Date) async throws -> FleetRuleContext
    /// Writes many health snapshots (and each customer's last score) in one transaction.
    func writeSnapshots(_ snapshots: [SnapshotRecord], at: Date) async throws
}

/// Silences: started by an admin, their end announced once.
public protocol SilenceStore: SilenceReader {
    /// Starts a silence. - Returns: its id.
    func addSilence(_ store: StoreID, until: Date, reason: String?, by: String, at: Date) async throws -> Int64
    /// Silences that ended before `at` and were not announced yet.
    func endedSilences(at: Date) async throws -> [Silence]
    /// Marks a silence's end as announced.
    func markSilenceAnnounced(_ id: Int64) async throws
    /// Ends `store`'s silences in force at `at` (their end is then announced as any other's). - Returns: how many.
    func endSilences(of store: StoreID, at: Date) async throws -> Int
    /// Silences `store` for the opening of its maintenance window that starts at `opening`, once however often
    /// asked. - Returns: the silence's id when it was started now.
    func startWindow(_ store: StoreID, opening: Date, until: Date, reason: String) async throws -> Int64?
    /// Every store's mean of `metric` per hour of the week (0 = Sunday 00:00 UTC … 167) over the rollups from `from`
    /// to `to`, in one read.
    func weeklyProfile(_ metric: MetricName, from: Date, to: Date) async throws -> [StoreID: [Int: Double]]
}

/// Stores samples.
public protocol SampleWriter: Sendable {
    /// Stores collected samples. - Returns: how many were new.
    @discardableResult
    func insert(_ samples: [MetricSample]) async throws -> Int
}

/// Tasks run once a day (or a week) across restarts.
public protocol DailyRuns: Sendable {
    /// Claims the daily task `name` at `at`: true when it last ran at least `interval` ago (or never).
    func claimDailyRun(_ name: String, at: Date, interval: TimeInterval) async throws -> Bool
}

/// What the scheduler plugin reads and writes: each part is a small protocol with its own callers.
public protocol SchedulerStore: RuleStateStore, IssueStore, InsightStore, ProposalLapses, SilenceStore, SampleWriter,
    DailyRuns, OutboxWriter, CustomerDirectory, MetricReader, IssueReader, AuditLog {
    /// Stores a proposal for an issue that opened during a silence, once the silence is over.
    @discardableResult func propose(_ draft: ApprovalDraft, at: Date) async throws -> ProposalOutcome
}
