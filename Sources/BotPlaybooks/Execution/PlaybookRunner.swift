import BotCore
import Foundation

/// Reads a store's current value of a metric, for `when` conditions.
public protocol CurrentMetrics: Sendable {
    /// The newest value of `metric` for `store` that is still current, or nil.
    func current(_ metric: MetricName, of store: StoreID) async throws -> Double?
}

/// Waits; tests pass one that returns at once.
public protocol Sleeper: Sendable {
    func sleep(seconds: TimeInterval) async throws
}

/// Sleeps for real.
public struct TaskSleeper: Sleeper {
    public init() {}
    public func sleep(seconds: TimeInterval) async throws { try await Task.sleep(for: .seconds(seconds)) }
}

/// What happened to one step.
public enum StepStatus: Sendable, Equatable {
    /// Dry run: what would run.
    case planned
    case succeeded
    /// Not run: its `when` condition does not hold now (why, in words).
    case skipped(String)
    /// Held back by the automation policy (an exception the customer set, a plan gate), with the policy's reason.
    case held(String)
    /// Not started because the run stopped before it: a cancel, a shutdown, a store that could not be reached.
    case notRun(String)
    /// Run and failed, and why.
    case failed(String)
    /// Ended while it ran, by a stop (a cancel, the end of a drain window); its process was ended where it ran.
    case stopped(String)
    /// Could not reach the store at all (no container, no host, no client): nothing after it is tried.
    case unreachable(String)
}

/// One step of a run, as reported and recorded.
public struct StepResult: Sendable, Equatable {
    public var action: PlaybookAction
    /// The argv as started (after docker/ssh wrapping), or as it would be.
    public var argv: [String]
    public var status: StepStatus
    public var outcome: CommandOutcome?
    public var startedAt: Date

    public init(action: PlaybookAction, argv: [String], status: StepStatus, outcome: CommandOutcome? = nil, startedAt: Date) {
        self.action = action
        self.argv = argv
        self.status = status
        self.outcome = outcome
        self.startedAt = startedAt
    }
}

extension StepResult {
    /// The step as the store owner reads it in an e-mail: no metric names, no command output (the admins
    /// have those in the run's record). `held` are the steps the policy skipped, with their reasons.
    public func customerLine(held: [Int: String]) -> String {
        let name = action.name
        switch status {
        case .succeeded:
            return "\(name): done"
        case let .skipped(reason):
            guard let condition = action.when, !held.values.contains(reason) else { return "\(name): skipped (\(reason))" }
            let side = switch condition.op {
            case .above, .atLeast: "above"
            case .below, .atMost: "below"
            }
            return "\(name): not needed (\(condition.metric.plainName) is no longer \(side) "
                + "\(Wording.measure(condition.threshold, unit: condition.metric.unit)))"
        case let .held(reason):
            return "\(name): skipped (\(reason))"
        case .notRun:
            return "\(name): not run"
        case .stopped:
            return "\(name): stopped before it finished"
        case .unreachable:
            return "\(name): we could not reach your store, so it did not run"
        case .failed:
            return "\(name): did not work; our team has been told and will look at it"
        case .planned:
            return name
        }
    }
}

/// The result of running (or planning) a playbook for a store.
public struct RunReport: Sendable, Equatable {
    public var playbook: Playbook
    public var store: StoreID
    public var dryRun: Bool
    /// Where it ran ("docker exec acme-app").
    public var executorLabel: String
    public var steps: [StepResult]

    /// No step failed.
    public var succeeded: Bool {
        !steps.contains { $0.status.recorded.state == .failed }
    }
}

/// Watches a run between its steps: may stop it before the next one, and hears of each step as it ends.
public protocol StepControl: Sendable {
    /// Why the step at `index` must not start (the job was cancelled, perfbot is shutting down), or nil.
    func stopReason(before index: Int) async -> String?
    /// A step ended (succeeded, skipped or failed).
    func ended(_ step: StepResult, index: Int) async
    /// A step's command started; `stop` ends it (wherever it runs) — nil once it has ended.
    func running(index: Int, stop: (@Sendable () -> Void)?) async
}

extension StepControl {
    public func running(index: Int, stop: (@Sendable () -> Void)?) async {}
}

extension StepStatus {
    /// Whether this step was stopped, or not run because the run was.
    public var endedByStop: Bool {
        switch self {
        case .notRun, .stopped: true
        default: false
        }
    }

    /// Whether this step could not reach the store.
    public var unreachable: Bool {
        if case .unreachable = self { true } else { false }
    }

    /// The recorded state and reason: what a job's step history keeps.
    public var recorded: (state: StepState, reason: String?) {
        switch self {
        case .succeeded: (.succeeded, nil)
        case let .skipped(why), let .held(why): (.skipped, why)
        case let .notRun(why): (.skipped, "not run: \(why)")
        case .planned: (.skipped, "planned only")
        case let .failed(why): (.failed, why)
        case let .stopped(why): (.failed, "stopped: \(why)")
        case let .unreachable(why): (.failed, "unreachable: \(why)")
        }
    }
}

/// Runs a playbook's actions in order: renders argv from validated values, waits, checks conditions,
/// skips what policy holds back, runs through the executor, and reports every step.
public struct PlaybookRunner: Sendable {
    let metrics: any CurrentMetrics
    let sleeper: any Sleeper
    let clock: any BotClock

    public init(metrics: any CurrentMetrics, sleeper: any Sleeper = TaskSleeper(), clock: any BotClock) {
        self.metrics = metrics
        self.sleeper = sleeper
        self.clock = clock
    }

    /// Runs (or, with `dryRun`, plans) `playbook` on `target`.
    /// - Parameter held: actions (by index) that must not run, with the reason shown for each.
    public func run(_ playbook: Playbook, on target: StoreTarget, dryRun: Bool, held: [Int: String] = [:],
                    control: (any StepControl)? = nil) async throws -> RunReport {
        let store = target.store
        // Render everything first: a bad value stops the run before any process starts.
        var commands: [(request: CommandRequest, executor: any CommandExecutor)] = []
        for action in playbook.actions { commands.append(try target.command(for: action, stoppable: control != nil)) }
        var steps: [StepResult] = []
        var stopped: String?
        for (index, action) in playbook.actions.enumerated() {
            let (request, executor) = commands[index]
            let argv = executor.effectiveArgv(request)
            if stopped == nil, !dryRun, let control { stopped = await control.stopReason(before: index) }
            if let reason = stopped {
                steps.append(StepResult(action: action, argv: argv, status: .notRun(reason),
                                        startedAt: clock.now))
                continue
            }
            if let reason = held[index] {
                steps.append(StepResult(action: action, argv: argv, status: .held(reason), startedAt: clock.now))
                await control?.ended(steps[steps.count - 1], index: index)
                continue
            }
            if dryRun {
                steps.append(StepResult(action: action, argv: argv, status: .planned, startedAt: clock.now))
                continue
            }
            if action.wait > 0 {
                // A wait runs no process: a stop (a cancel, a shutdown) ends it at once, and the step does not start.
                if let reason = try await wait(action.wait, control: control, before: index) {
                    stopped = reason
                    steps.append(StepResult(action: action, argv: argv, status: .notRun(reason),
                                            startedAt: clock.now))
                    continue
                }
            }
            if let condition = action.when, let reason = try await unmet(condition, store: store) {
                steps.append(StepResult(action: action, argv: argv, status: .skipped(reason), startedAt: clock.now))
                await control?.ended(steps[steps.count - 1], index: index)
                continue
            }
            let started = clock.now
            var step: StepResult
            // The command runs in a task of its own, so a stop can end this step (and only it) while it runs.
            let work = Task { try await executor.run(request) }
            await control?.running(index: index, stop: { work.cancel() })
            do {
                let outcome = try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
                step = StepResult(action: action, argv: argv,
                                  status: outcome.succeeded ? .succeeded : .failed(outcome.failureReason),
                                  outcome: outcome, startedAt: started)
            } catch where !work.isCancelled && executor.unreachable(error: error) != nil {
                // Nothing could be started this way (no docker or ssh client, no container): nor can the next step.
                step = StepResult(action: action, argv: argv,
                                  status: .unreachable(executor.unreachable(error: error) ?? "\(error)"),
                                  startedAt: started)
                stopped = "the store could not be reached"
            } catch {
                step = StepResult(action: action, argv: argv, status: .failed("\(error)"), startedAt: started)
            }
            await control?.running(index: index, stop: nil)
            if let outcome = step.outcome, case .failed = step.status, let reason = executor.unreachable(outcome) {
                // Nothing after it could reach the store either: the run stops here, and says so.
                step.status = .unreachable(reason)
                stopped = "the store could not be reached"
            }
            if work.isCancelled {
                let reason = await control?.stopReason(before: index + 1) ?? "perfbot was stopping"
                stopped = reason
            }
            // A step that ended on its own before the stop reached it stays as it ended: only the steps after it
            // are left out. One the stop cut short says so.
            if work.isCancelled, step.status != .succeeded {
                let reason = stopped ?? "perfbot was stopping"
                step.status = .stopped(reason
                    + ((step.outcome?.output.contains("not confirmed") ?? false)
                        ? "; its process could not be confirmed ended, and its own time limit has passed"
                        : "; its process was ended"))
            }
            steps.append(step)
            await control?.ended(step, index: index)
        }
        return RunReport(playbook: playbook, store: store, dryRun: dryRun, executorLabel: target.executor.label, steps: steps)
    }

    /// Waits `seconds`, in slices of a second when a control may stop the run. - Returns: why it stopped, or nil.
    func wait(_ seconds: TimeInterval, control: (any StepControl)?, before index: Int) async throws -> String? {
        guard let control else {
            try await sleeper.sleep(seconds: seconds)
            return nil
        }
        var left = seconds
        while left > 0 {
            if let reason = await control.stopReason(before: index) { return reason }
            try await sleeper.sleep(seconds: min(1, left))
            left -= 1
        }
        return await control.stopReason(before: index)
    }

    /// Why `condition` does not hold now, or nil when it does.
    func unmet(_ condition: MetricCondition, store: StoreID) async throws -> String? {
        guard let value = try await metrics.current(condition.metric, of: store) else {
            return "no recent \(condition.metric.rawValue) reading to check \(condition)"
        }
        guard !condition.holds(for: value) else { return nil }
        let unit = condition.metric.isPercent ? "%" : ""
        return "\(condition.metric.rawValue) is \(Wording.number(value))\(unit), not \(condition.op.rawValue) "
            + "\(Wording.number(condition.threshold))\(unit)"
    }
}
