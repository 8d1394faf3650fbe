import Foundation

/// Where a job is in its life: requested → held → approved → queued → running → one of the ends.
public enum JobState: String, Sendable, CaseIterable, Equatable {
    case requested, held, approved, queued, running
    case succeeded, failed, interrupted, cancelled, expired

    /// The job will not change any more.
    public var isFinal: Bool {
        switch self {
        case .succeeded, .failed, .interrupted, .cancelled, .expired: true
        default: false
        }
    }

    public var symbol: String {
        switch self {
        case .requested, .approved, .queued: "⏳"
        case .held: "✋"
        case .running: "▶️"
        case .succeeded: "✅"
        case .failed: "❌"
        case .interrupted: "⚠️"
        case .cancelled: "🚫"
        case .expired: "⌛"
        }
    }
}

/// Who asked for a job.
public enum Requester: Sendable, Equatable {
    /// A Slack user with a role.
    case slack(SlackUserID, Role)
    /// A store's contact, by e-mail (approving their own store's fix).
    case customer(String)
    /// The automation policy, acting on an issue.
    case policy

    /// A team member asking in Slack.
    public init(_ member: TeamMember) { self = .slack(member.user, member.role) }

    /// The actor as the audit log and job records write it.
    public var actor: String {
        switch self {
        case let .slack(user, _): user.rawValue
        case let .customer(address): address
        case .policy: "perfbot"
        }
    }

    /// `slack`, `email` or `policy`.
    public var channel: String {
        switch self {
        case .slack: "slack"
        case .customer: "email"
        case .policy: "policy"
        }
    }
}

/// One step of a job's plan, as shown before it runs.
public struct PlannedStep: Sendable, Equatable, Codable {
    public var name: String
    /// The argv as it will be started (after docker/ssh wrapping).
    public var argv: [String]
    /// Set when the policy leaves the step out, with the reason.
    public var held: String?

    public init(name: String, argv: [String], held: String? = nil) {
        self.name = name
        self.argv = argv
        self.held = held
    }
}

/// How a recorded step ended.
public enum StepState: String, Sendable, Equatable, CaseIterable {
    case succeeded, skipped, failed

    /// Its mark in chat: ✅, ⏭️ or ❌.
    public var symbol: String {
        switch self {
        case .succeeded: "✅"
        case .skipped: "⏭️"
        case .failed: "❌"
        }
    }
}

/// How a step of a job ended, as recorded.
public struct JobStepRecord: Sendable, Equatable {
    public var index: Int
    public var name: String
    public var status: StepState
    public var reason: String?
    public var startedAt: Date
    public var duration: TimeInterval

    public init(index: Int, name: String, status: StepState, reason: String?, startedAt: Date, duration: TimeInterval) {
        self.index = index
        self.name = name
        self.status = status
        self.reason = reason
        self.startedAt = startedAt
        self.duration = duration
    }
}

/// A job to write before anything runs.
public struct JobDraft: Sendable, Equatable {
    public var store: StoreID
    /// Its name in lists (the playbook's, or the kind's).
    public var playbook: String
    /// What it does, as a value.
    public var kind: JobKind
    public var requester: Requester
    /// Why: the issue it answers, if any.
    public var issueID: Int64?
    /// The approval that holds it, if any.
    public var approvalID: String?
    /// The plan: every step with its rendered argv.
    public var plan: [PlannedStep]
    /// The playbook's content hash when planned.
    public var planHash: String
    /// `requested`-to-`queued` runs start `queued`; proposals start `held`.
    public var state: JobState
    /// Words for the record ("requested in Slack", "high_memory detected").
    public var reason: String
    /// Not started before this time (a scheduled intervention, a maintenance window's start); nil: as soon as its turn comes.
    public var notBefore: Date?

    public init(store: StoreID, kind: JobKind, requester: Requester, issueID: Int64? = nil, approvalID: String? = nil,
                plan: [PlannedStep], planHash: String, state: JobState = .queued, reason: String, notBefore: Date? = nil) {
        self.notBefore = notBefore
        self.store = store
        self.playbook = kind.name
        self.kind = kind
        self.requester = requester
        self.issueID = issueID
        self.approvalID = approvalID
        self.plan = plan
        self.planHash = planHash
        self.state = state
        self.reason = reason
    }
}

/// A job as stored.
public struct JobRecord: Sendable, Equatable {
    public var id: Int64
    public var store: StoreID
    public var playbook: String
    /// What it does, as stored with it.
    public var kind: JobKind
    /// The actor (a Slack user id, a contact's address, or `perfbot`).
    public var requestedBy: String
    /// `slack`, `email` or `policy`.
    public var channel: String
    public var issueID: Int64?
    public var approvalID: String?
    public var plan: [PlannedStep]
    public var planHash: String
    public var state: JobState
    public var reason: String
    public var createdAt: Date
    public var startedAt: Date?
    public var endedAt: Date?
    /// A short outcome ("3 of 3 steps done", "interrupted by a restart").
    public var summary: String?
    public var steps: [JobStepRecord]
    /// Not started before this time; nil when it runs as soon as its turn comes.
    public var notBefore: Date?

    public init(id: Int64, store: StoreID, playbook: String, requestedBy: String, channel: String, issueID: Int64?,
                approvalID: String?, plan: [PlannedStep], planHash: String, state: JobState, reason: String,
                createdAt: Date, startedAt: Date?, endedAt: Date?, summary: String?, steps: [JobStepRecord], kind: JobKind? = nil, notBefore: Date? = nil) {
        self.notBefore = notBefore
        self.id = id
        self.store = store
        self.playbook = playbook
        self.kind = kind ?? .playbook(playbook)
        self.requestedBy = requestedBy
        self.channel = channel
        self.issueID = issueID
        self.approvalID = approvalID
        self.plan = plan
        self.planHash = planHash
        self.state = state
        self.reason = reason
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.summary = summary
        self.steps = steps
    }

    /// The record of an id that names no job (asked for after it was pruned, say).
    public static func missing(_ id: Int64, at: Date) -> JobRecord {
        JobRecord(id: id, store: StoreID("unknown")!, playbook: "", requestedBy: "", channel: "policy", issueID: nil,
                  approvalID: nil, plan: [], planHash: "", state: .cancelled, reason: "", createdAt: at, startedAt: nil,
                  endedAt: at, summary: "no such job", steps: [])
    }

    /// The actor as Slack shows it.
    public var requesterLabel: String {
        if SlackUserID(requestedBy) != nil { return "<@\(requestedBy)>" }
        if channel == "policy" { return "automation" }
        return Wording.escapedForSlack(requestedBy)
    }
}

/// What writing a job led to.
public enum JobAdmission: Sendable, Equatable {
    /// Written; `ahead` jobs of the same store run or wait before it (0: it may start now).
    case admitted(JobRecord, ahead: Int)
    /// An identical job (same store and playbook) already waits: nothing new was written.
    case duplicate(JobRecord)
}

/// Where jobs are kept: every transition is written before it takes effect.
public protocol JobStore: Sendable {
    /// Writes a new job, unless the same playbook already waits for the same store.
    func admitJob(_ draft: JobDraft, at: Date) async throws -> JobAdmission
    /// Moves the oldest queued job of `store` to `running`, unless one runs already. - Returns: the job.
    func claimNextJob(of store: StoreID, at: Date) async throws -> JobRecord?
    /// Moves job `id` from `from` to `to` in one statement (a requested intervention once its second factor holds,
    /// a held one once a second admin confirms), only if it was written at or after `createdSince`.
    /// - Returns: the job as it is now, or nil when it was not in `from` (or too old).
    func moveJob(_ id: Int64, from: JobState, to: JobState, createdSince: Date) async throws -> JobRecord?
    /// Records one step's outcome (and its `automation_actions` row).
    func recordJobStep(_ job: JobRecord, step: JobStepRecord, argv: [String], exitCode: Int32?, output: String,
                       at: Date) async throws
    /// Ends a job (`succeeded`, `failed`, `interrupted`, `cancelled`), writing its audit entry and, for a
    /// person's request, its `admin_interventions` row, in one transaction.
    func finishJob(_ id: Int64, state: JobState, summary: String, at: Date) async throws
    /// Marks every `running` job `interrupted` (at start, after a crash). - Returns: them, with their steps.
    func interruptRunningJobs(at: Date) async throws -> [JobRecord]
    /// Stores with queued jobs.
    func storesWithQueuedJobs() async throws -> [StoreID]
    /// One job with its steps.
    func job(_ id: Int64) async throws -> JobRecord?
    /// Running and queued jobs, and the newest others, newest first.
    func jobs(store: StoreID?, limit: Int) async throws -> [JobRecord]
    /// Cancels a job that has not started: `queued`, `held` or `approved`. - Returns: whether it was.
    func cancelJob(_ id: Int64, by: String, at: Date) async throws -> Bool
    /// How many jobs are in each state.
    func jobCounts() async throws -> [JobState: Int]
}

extension Wording {
    /// Text from outside perfbot made safe for Slack mrkdwn: `&`, `<` and `>` escaped (Slack's rules), so
    /// `<!channel>`, `<@U…>` and `<url|label>` arrive as plain text.
    public static func escapedForSlack(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
