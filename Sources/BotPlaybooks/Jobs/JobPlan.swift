import BotCore
import Crypto
import Foundation

extension Playbook {
    /// SHA-256 of everything that decides what the playbook does (names, argv templates, targets, waits,
    /// conditions, tags, safety): an approval approves this, and a change voids it.
    public var contentHash: String {
        var canonical = "\(name)\n\(title)\n\(platform.rawValue)\n\(premiumOnly)\n"
            + (intervention.map { "intervention \($0.mfa) \($0.twoPerson)\n" } ?? "")
            + (changes.map { "changes \($0.rawValue)\n" } ?? "") + checklist.map { "check \($0)\n" }.joined()
        for action in actions {
            canonical += [action.name, action.hostCommand.map { "configured:\($0.rawValue)" } ?? action.run.joined(separator: "\u{1F}"),
                          action.target.rawValue,
                          action.when.map(\.description) ?? "", "\(action.wait)", "\(action.timeout)",
                          action.tags.sorted().map(\.rawValue).joined(separator: ","), "\(action.reversible)",
                          "\(action.safe)"].joined(separator: "\u{1E}") + "\n"
        }
        return SHA256.hash(data: Data(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// What the gate needs to know of it.
    public func actionPlan(battery: Bool) -> ActionPlan {
        ActionPlan(name: name, actions: actions.map(\.traits), premiumOnly: premiumOnly, isBattery: battery)
    }
}

/// Renders a playbook into a job's plan for one store: each step's argv as it will start.
public struct JobPlanner: Sendable {
    let executors: ExecutorFactory
    let platforms: [Platform: any PlatformPlugin]

    public init(executors: ExecutorFactory, platforms: [any PlatformPlugin]) {
        self.executors = executors
        self.platforms = Dictionary(platforms.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func platform(of customer: Customer) -> (any PlatformPlugin)? { platforms[customer.platform] }

    /// The store made ready for runs of `playbook` (with the value of the hosting change it was made for).
    /// - Throws: `BotError.invalid` naming what is wrong.
    public func target(_ customer: Customer, for playbook: Playbook? = nil) throws -> StoreTarget {
        guard let platform = platforms[customer.platform] else {
            throw BotError.invalid("No plugin handles \(customer.platform.displayName) stores.")
        }
        do {
            return try StoreTarget(customer, platform: platform, executors: executors, change: playbook?.hostingChange)
        } catch let error as PlaybookError {
            throw BotError.invalid("Cannot run on \(customer.id): \(error).")
        } catch let error as ExecutorError {
            throw BotError.invalid("Cannot reach \(customer.id): \(error).")
        }
    }

    /// Each step with its argv, and those the policy holds back.
    public func plan(_ playbook: Playbook, for customer: Customer, held: [Int: String]) throws -> [PlannedStep] {
        let target = try target(customer, for: playbook)
        let argvs: [[String]]
        do {
            argvs = try playbook.actions.map { action in
                let (request, executor) = try target.command(for: action)
                return executor.effectiveArgv(request)
            }
        } catch {
            throw BotError.invalid("Cannot run `\(playbook.name)` on \(customer.id): \(error).")
        }
        return playbook.actions.enumerated().map { index, action in
            PlannedStep(name: action.name, argv: argvs[index], held: held[index])
        }
    }

    /// Whether the battery of `customer`'s platform is `playbook`.
    public func isBattery(_ playbook: Playbook, for customer: Customer) -> Bool {
        platforms[customer.platform]?.batteryPlaybook == playbook.name
    }
}
