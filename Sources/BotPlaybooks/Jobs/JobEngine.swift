import BotCore
import Foundation
import Logging

/// How a job ended, with the run's report when it ran in this process.
public struct JobOutcome: Sendable {
    public var job: JobRecord
    public var report: RunReport?

    public init(job: JobRecord, report: RunReport?) {
        self.job = job
        self.report = report
    }
}

/// What asking to cancel a job did.
public enum JobCancellation: Sendable, Equatable {
    /// It had not started; it never will.
    case cancelled
    /// It is running: it stops before its next step.
    case stopping
    case unknown
    /// It had ended already, in this state.
    case alreadyEnded(JobState)
}

/// Runs jobs: at most one per store at a time (the rest wait in order), every transition written before it
/// takes effect, each step recorded as it ends. At start it marks what a crash left running `interrupted`
/// (never re-running it) and resumes what was queued; on shutdown it lets the running step finish within
/// a drain window before anything is killed.
public actor JobEngine: BotService {
    public nonisolated let name = "jobs"
    let store: any JobStore
    let customers: any CustomerDirectory
    /// Asked before each action: a silenced store is touched only when a person asks for it.
    let silences: any SilenceReader
    let gate = ActionGate()
    let library: PlaybookLibrary
    let planner: JobPlanner
    let runner: PlaybookRunner
    let clock: any BotClock
    let logger: Logger
    /// Reports a job that ended with nobody in this process waiting for it (resumed after a restart,
    /// interrupted), and tells whoever must know.
    let reporter: @Sendable (JobOutcome) async -> Void
    let drainWindow: Duration
    /// Applies a setting job (`setting:…`: an automation level or exception a contact confirmed);
    /// returns what changed, in words.
    let applySetting: @Sendable (JobRecord) async throws -> String
    /// Records on the store a hosting change whose job succeeded (its new plan, its new cache); returns what
    /// changed, in words.
    let recordHosting: @Sendable (JobRecord, HostingChange) async throws -> String

    private var running: [StoreID: (id: Int64, task: Task<Void, Never>)] = [:]
    private var listeners: [Int64: [@Sendable (JobOutcome) async -> Void]] = [:]
    private var waiters: [Int64: [UUID: CheckedContinuation<JobOutcome, Never>]] = [:]
    private var stopRequests: [Int64: String] = [:]
    private var draining = false
    /// The drain window has passed: steps still running are stopped.
    private var drainExpired = false
    /// How to end the step each running job is in (set while a step's command runs).
    private var stepStops: [Int64: @Sendable () -> Void] = [:]
    /// The outcomes of the jobs that ended last, for a waiter that read the job just before it ended.
    private var recentlyEnded: [Int64: JobOutcome] = [:]

    public init(store: any JobStore, customers: any CustomerDirectory, silences: any SilenceReader, library: PlaybookLibrary,
                planner: JobPlanner,
                runner: PlaybookRunner, clock: any BotClock, logger: Logger, drainWindow: Duration = .seconds(60),
                applySetting: @escaping @Sendable (JobRecord) async throws -> String = { _ in
                    throw BotError.invalid("setting changes are not wired")
                },
                recordHosting: @escaping @Sendable (JobRecord, HostingChange) async throws -> String = { _, _ in
                    throw BotError.invalid("hosting changes are not wired")
                },
                reporter: @escaping @Sendable (JobOutcome) async -> Void = { _ in }) {
        self.applySetting = applySetting
        self.recordHosting = recordHosting
        self.store = store
        self.customers = customers
        self.silences = silences
        self.library = library
        self.planner = planner
        self.runner = runner
        self.clock = clock
        self.logger = logger
        self.drainWindow = drainWindow
        self.reporter = reporter
    }

    // MARK: Submitting

    /// What the gate says of `request` now (role, plan, the store's silence, its exceptions and automation level),
    /// with the silence it saw. Nothing is queued.
    public func check(_ request: ActionRequest) async throws -> (decision: PolicyDecision, silence: Silence?) {
        let silence = try await silences.activeSilence(request.customer.id, at: clock.now)
        return (gate.decide(request.playbook.actionPlan(battery: request.battery), customer: request.customer,
                            requester: request.requester, entry: request.entry, silence: silence, now: clock.now), silence)
    }

    /// Admits an action: gated here (so no caller can forget a check), planned for the store, and queued as a job.
    /// - Parameter listener: told when the job ends (instead of the reporter).
    public func admit(_ request: ActionRequest, listener: (@Sendable (JobOutcome) async -> Void)? = nil) async throws -> ActionAdmission {
        let (decision, silence) = try await check(request)
        switch decision {
        case let .refuse(reason): return .refused(reason)
        case let .holdForApproval(reason): return .heldForApproval(reason)
        case let .run(held):
            let playbook = request.playbook
            // Every step held back by the store's exceptions: a job would do nothing.
            if !playbook.actions.isEmpty, held.count == playbook.actions.count { return .excluded(held) }
            let plan = try planner.plan(playbook, for: request.customer, held: held)
            let draft = JobDraft(store: request.customer.id, kind: playbook.kind, requester: request.requester,
                                 issueID: request.issueID, plan: plan, planHash: playbook.contentHash,
                                 state: request.initialState,
                                 reason: request.reason + (silence == nil ? "" : " during a silence"),
                                 notBefore: request.notBefore)
            return .queued(try await submit(draft, listener: listener))
        }
    }

    /// Writes the job and starts it when its store is free; otherwise it waits its turn.
    /// - Parameter listener: told when the job ends (instead of the reporter).
    func submit(_ draft: JobDraft, listener: (@Sendable (JobOutcome) async -> Void)? = nil) async throws -> JobAdmission {
        let admission = try await store.admitJob(draft, at: clock.now)
        if case let .admitted(job, _) = admission {
            if let listener { listeners[job.id, default: []].append(listener) }
            logger.info("job queued", metadata: ["job": "\(job.id)", "store": "\(job.store)", "playbook": "\(job.playbook)",
                                                 "by": "\(job.requestedBy)"])
            await kick(job.store)
        }
        return admission
    }

    /// Listens for the end of a job already written (an approved proposal's), then starts its store's queue.
    public func follow(_ id: Int64, store: StoreID, listener: (@Sendable (JobOutcome) async -> Void)? = nil) async {
        if let listener { listeners[id, default: []].append(listener) }
        await kick(store)
    }

    /// Waits for the job to end. A cancelled waiter stops waiting (the job goes on) and gets the job as it is.
    /// An id that names no job ends at once, with a record that says so.
    public func outcome(of id: Int64) async -> JobOutcome {
        guard let known = try? await store.job(id) else { return JobOutcome(job: .missing(id, at: clock.now), report: nil) }
        if known.state.isFinal { return JobOutcome(job: known, report: nil) }
        let key = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // The job may have ended while it was being read: then there is nothing left to wait for.
                if let ended = recentlyEnded[id] {
                    continuation.resume(returning: ended)
                } else if Task.isCancelled {
                    Task { await self.abandon(known, key: key, continuation: continuation) }
                } else {
                    waiters[id, default: [:]][key] = continuation
                }
            }
        } onCancel: {
            Task { await self.abandon(known, key: key, continuation: nil) }
        }
    }

    /// A waiter that gave up gets the job as it stands now.
    private func abandon(_ known: JobRecord, key: UUID, continuation: CheckedContinuation<JobOutcome, Never>?) async {
        guard let waiting = continuation ?? waiters[known.id]?.removeValue(forKey: key) else { return }
        waiting.resume(returning: JobOutcome(job: (try? await store.job(known.id)) ?? known, report: nil))
    }

    /// Starts the next queued job of `store` if none runs.
    public func kick(_ id: StoreID) async {
        guard !draining, running[id] == nil else { return }
        let job: JobRecord
        do {
            guard let next = try await store.claimNextJob(of: id, at: clock.now) else { return }
            job = next
        } catch {
            logger.error("could not start a job", metadata: ["store": "\(id)", "error": "\(error)"])
            return
        }
        let task = Task { await self.execute(job) }
        running[id] = (job.id, task)
    }

    // MARK: Cancelling

    public func cancel(_ id: Int64, by: String) async throws -> JobCancellation {
        guard let job = try await store.job(id) else { return .unknown }
        if job.state.isFinal { return .alreadyEnded(job.state) }
        if job.state == .running {
            stopRequests[id] = "cancelled by \(by)"
            // The step under way is ended too (in its container or on its host), and the job is recorded only once
            // its process is gone.
            stepStops[id]?()
            return .stopping
        }
        return try await store.cancelJob(id, by: by, at: clock.now) ? .cancelled
            : .alreadyEnded((try await store.job(id))?.state ?? .cancelled)
    }

    // MARK: Running

    func stopReason(_ id: Int64) -> String? {
        if let reason = stopRequests[id] { return reason }
        if drainExpired { return "perfbot stopped and the step outlasted the drain window" }
        return draining ? "perfbot was stopping" : nil
    }

    /// A job's step started (with how to end it) or ended (nil). A stop already asked for ends it at once.
    func stepRunning(_ id: Int64, stop: (@Sendable () -> Void)?) {
        stepStops[id] = stop
        if let stop, stopRequests[id] != nil || drainExpired { stop() }
    }

    private func execute(_ job: JobRecord) async {
        var report: RunReport?
        var state: JobState = .failed
        var summary: String
        do {
            report = try await run(job)
            let steps = report?.steps ?? []
            let stopped = steps.contains { $0.status.endedByStop }
            let done = steps.filter { $0.status == .succeeded }.count
            let failed = steps.filter { $0.status.recorded.state == .failed }.count
            if let index = steps.firstIndex(where: \.status.unreachable), case let .unreachable(reason) = steps[index].status {
                state = .failed
                summary = "could not reach the store at step \(index + 1) of \(steps.count) (\(reason)); nothing after it ran"
            } else if stopped {
                state = stopRequests[job.id] != nil ? .cancelled : .interrupted
                summary = "stopped after \(done) of \(steps.count) steps (\(stopReason(job.id) ?? "stopped")); the rest did not run"
            } else {
                state = failed == 0 ? .succeeded : .failed
                summary = failed == 0 ? "\(done) of \(steps.count) steps done" : "\(failed) of \(steps.count) steps failed"
            }
            if state == .succeeded, case let .tuning(change) = job.kind, let reason = readBackMismatch(change, job: job, steps: steps) {
                // The service said yes but holds another value: the change did not take.
                state = .failed
                summary = reason
            }
            if state == .succeeded, case let .operation(operation) = job.kind,
               let reason = ServiceOperations.mismatch(operation, lastOutput: steps.last?.outcome?.output ?? "") {
                state = .failed
                summary = reason
            }
            if state == .succeeded, case let .hosting(change) = job.kind {
                // The tool made the change: the store's record follows, so perfbot judges it by its new plan or cache.
                do {
                    summary += "; " + (try await recordHosting(job, change))
                } catch {
                    logger.error("could not record a hosting change", metadata: ["job": "\(job.id)", "error": "\(error)"])
                    summary += "; the change was made but could not be recorded (\((error as? BotError)?.userMessage ?? "\(error)")): "
                        + "update the customers file"
                }
            }
        } catch {
            summary = (error as? BotError)?.userMessage ?? "could not run: \(error)"
        }
        if Task.isCancelled {
            state = .interrupted
            summary = "interrupted: perfbot stopped during a step"
        }
        do {
            try await store.finishJob(job.id, state: state, summary: summary, at: clock.now)
        } catch {
            logger.error("could not record a job's end", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
        logger.info("job ended", metadata: ["job": "\(job.id)", "store": "\(job.store)", "state": "\(state.rawValue)",
                                            "summary": "\(summary)"])
        let ended = (try? await store.job(job.id)) ?? job
        await finished(JobOutcome(job: ended, report: report), store: job.store)
    }

    private func finished(_ outcome: JobOutcome, store id: StoreID) async {
        let jobID = outcome.job.id
        if recentlyEnded.count >= 1000 { recentlyEnded.removeAll() }
        recentlyEnded[jobID] = outcome
        running[id] = nil
        stopRequests[jobID] = nil
        stepStops[jobID] = nil
        // Listeners (or the reporter) first: whoever waits finds the result already queued.
        let told = listeners.removeValue(forKey: jobID) ?? []
        if told.isEmpty {
            await reporter(outcome)
        } else {
            for listener in told { await listener(outcome) }
        }
        for waiter in (waiters.removeValue(forKey: jobID) ?? [:]).values { waiter.resume(returning: outcome) }
        await kick(id)
    }

    /// Why a setting's read-back differs from the value set, or nil when the service holds it.
    private func readBackMismatch(_ change: TuningChange, job: JobRecord, steps: [StepResult]) -> String? {
        // Every pack reads a setting of the same id the same way; only their ranges differ.
        guard let setting = library.tuning.values.lazy.compactMap({ $0.setting(change.setting) }).first,
              let output = steps.last?.outcome?.output else { return "\(change.setting) could not be read back" }
        guard let held = setting.parse(output) else { return "\(change.setting) could not be read back from: \(output.prefix(80))" }
        return held == change.value ? nil
            : "\(setting.service.displayName) reports \(setting.key) = \(setting.shown(held)), not \(setting.shown(change.value)): the change did not take"
    }

    /// Runs the job's plan, refusing when the playbook or the store's values changed since it was planned.
    private func run(_ job: JobRecord) async throws -> RunReport {
        guard let customer = try await customers.customer(job.store) else {
            throw BotError.invalid("\(job.store) is no longer a customer; nothing ran.")
        }
        if job.kind.isSetting { return try await changeSetting(job, platform: customer.platform) }
        guard let playbook = library.playbook(for: job.kind, platform: customer.platform) else {
            throw BotError.invalid("the playbook `\(job.playbook)` no longer exists; nothing ran.")
        }
        var held: [Int: String] = [:]
        for (index, step) in job.plan.enumerated() { if let reason = step.held { held[index] = reason } }
        let plan = try planner.plan(playbook, for: customer, held: held)
        guard playbook.contentHash == job.planHash, plan.map(\.argv) == job.plan.map(\.argv) else {
            throw BotError.invalid("`\(job.playbook)` changed after this job was planned, so nothing ran; ask again to see the new plan.")
        }
        let target = try planner.target(customer, for: playbook)
        return try await runner.run(playbook, on: target, dryRun: false, held: held,
                                    control: JobStepControl(engine: self, job: job, store: store, clock: clock))
    }

    /// A setting change as a one-step run, recorded like any step.
    private func changeSetting(_ job: JobRecord, platform: Platform) async throws -> RunReport {
        let name = job.plan.first?.name ?? job.playbook
        let action = PlaybookAction(name: name, run: [], tags: [.rewrite], reversible: true, safe: true)
        let playbook = Playbook(name: job.playbook, title: name, platform: platform, trigger: .manual, actions: [action])
        let started = clock.now
        var step = StepResult(action: action, argv: [], status: .succeeded, startedAt: started)
        do {
            _ = try await applySetting(job)
        } catch {
            step.status = .failed((error as? BotError)?.userMessage ?? "\(error)")
        }
        await JobStepControl(engine: self, job: job, store: store, clock: clock).ended(step, index: 0)
        return RunReport(playbook: playbook, store: job.store, dryRun: false, executorLabel: "perfbot", steps: [step])
    }

    // MARK: Start and stop

    /// At start: jobs a crash left `running` become `interrupted` and are reported (never re-run); queued
    /// and approved jobs resume.
    @discardableResult
    public func recover() async throws -> [JobRecord] {
        let interrupted = try await store.interruptRunningJobs(at: clock.now)
        for job in interrupted {
            logger.warning("job interrupted: the process that ran it stopped", metadata: ["job": "\(job.id)", "store": "\(job.store)"])
            await reporter(JobOutcome(job: job, report: nil))
        }
        for id in try await store.storesWithQueuedJobs() { await kick(id) }
        return interrupted
    }

    /// Stops taking steps: the running ones get `window` to finish; a step still running then is stopped where it
    /// runs (its local process group, and its process in the container or on the host), and its job is recorded
    /// `interrupted` once that is gone. Queued jobs stay queued for the next start.
    public func drain(window: Duration? = nil) async {
        draining = true
        let window = window ?? drainWindow
        let active = running
        guard !active.isEmpty else { return }
        logger.notice("draining jobs", metadata: ["running": "\(active.count)", "window": "\(window)"])
        let deadline = ContinuousClock.now + window
        while !running.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        // Past the window: each step still running is stopped where it runs; its job records itself `interrupted`
        // once the process is gone (or its own time limit has passed).
        drainExpired = true
        for (_, entry) in running { stepStops[entry.id]?() }
        for (_, entry) in running { await entry.task.value }
    }

    /// How often the engine looks for scheduled jobs whose time has come.
    public static let schedulePoll: Duration = .seconds(30)

    /// The service: resumes at start (a scheduled job that fell due while perfbot was down runs now), starts each
    /// scheduled job once its time has come, drains at shutdown (the lifecycle calls `drain` on graceful shutdown).
    public func run() async throws {
        try await recover()
        while !Task.isCancelled {
            try? await clock.sleep(for: Self.schedulePoll)
            guard !Task.isCancelled else { break }
            await startDue()
        }
    }

    /// Starts the next job of every store that has a queued one and none running (a claim skips jobs not yet due).
    public func startDue() async {
        do {
            for id in try await store.storesWithQueuedJobs() where running[id] == nil { await kick(id) }
        } catch {
            logger.error("could not look for scheduled jobs", metadata: ["error": "\(error)"])
        }
    }

    public var isDraining: Bool { draining }
}

/// Connects a run's steps to its job: stops between steps when asked, records each step as it ends.
struct JobStepControl: StepControl {
    let engine: JobEngine
    let job: JobRecord
    let store: any JobStore
    let clock: any BotClock

    func stopReason(before index: Int) async -> String? { await engine.stopReason(job.id) }

    func running(index: Int, stop: (@Sendable () -> Void)?) async { await engine.stepRunning(job.id, stop: stop) }

    func ended(_ step: StepResult, index: Int) async {
        let (status, reason) = step.status.recorded
        try? await store.recordJobStep(job, step: JobStepRecord(index: index, name: step.action.name, status: status,
                                                                reason: reason, startedAt: step.startedAt,
                                                                duration: step.outcome?.duration ?? 0),
                                       argv: step.argv, exitCode: step.outcome?.exitCode,
                                       output: step.outcome?.output ?? "", at: clock.now)
    }
}

/// An action asked of a store, by a person or by the automation policy.
public struct ActionRequest: Sendable {
    public var playbook: Playbook
    public var customer: Customer
    public var requester: Requester
    public var entry: ActionEntry
    /// Asked as the platform's one-click battery (an operator's tool by design).
    public var battery: Bool
    /// The issue it fixes, for its thread.
    public var issueID: Int64?
    /// Why it runs, for the job's record.
    public var reason: String
    /// Not started before this time (an intervention scheduled for later).
    public var notBefore: Date?
    /// How the job is written: `queued` (runs in its turn), `requested` (waits for its requester's second factor) or
    /// `held` (waits for a second admin).
    public var initialState: JobState = .queued

    public init(_ playbook: Playbook, on customer: Customer, requester: Requester, entry: ActionEntry, battery: Bool = false,
                issueID: Int64? = nil, reason: String, notBefore: Date? = nil) {
        self.notBefore = notBefore
        self.playbook = playbook
        self.customer = customer
        self.requester = requester
        self.entry = entry
        self.battery = battery
        self.issueID = issueID
        self.reason = reason
    }
}

/// What became of an action request.
public enum ActionAdmission: Sendable {
    /// Not allowed now, and why in words.
    case refused(String)
    /// The automation level asks for a yes first.
    case heldForApproval(String)
    /// Every step is held back by the store's exceptions (step index → why): nothing was queued.
    case excluded([Int: String])
    /// Queued as a job (or the same one already waits).
    case queued(JobAdmission)
}
