import BotCore
import BotPlaybooks
import Foundation

extension OperationsPlugin {
    func automation(_ id: StoreID, command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        let customer = try await customer(id)
        var level = customer.automationLevel
        var exceptions = customer.automationExceptions
        if let value = command.integer("value"), let chosen = AutomationLevel(rawValue: value) {
            level = chosen
        } else if command.value("skip") != nil || command.value("unskip") != nil {
            let names = try command.values("tags").map(Self.exceptionName)
            if command.value("skip") != nil {
                for name in names where !exceptions.contains(name) { exceptions.append(name) }
            } else {
                exceptions.removeAll { names.contains($0) }
            }
        } else {
            return describe(customer)
        }
        try await store.setAutomation(id, level: level, exceptions: exceptions, at: clock.now)
        try await store.audit(
            actor: try context.member().user.rawValue, channel: "slack", action: "automation.change", store: id,
            details: ["level": "\(customer.automationLevel.rawValue) → \(level.rawValue)",
                      "exceptions": exceptions.joined(separator: ",")],
            result: "changed", at: clock.now)
        var updated = customer
        updated.automationLevel = level
        updated.automationExceptions = exceptions
        return BotReply(describe(updated).blocks + [.context("Changed by <@\(try context.member().user)>; recorded in the audit log.")],
                        visibility: .inChannel)
    }

    /// `skip_restarts`, `restart` or `restarts` → `skip_restarts`.
    static func exceptionName(_ word: String) throws -> String {
        guard let name = ActionTag.exception(named: word) else {
            throw BotError.invalid("`\(word.prefix(40))` is not an exception. Known: "
                + ActionTag.exceptionNames.map { "`\($0)`" }.joined(separator: ", ") + ".")
        }
        return name
    }

    func describe(_ customer: Customer) -> BotReply {
        let level = customer.automationLevel
        let meaning = switch level {
        case .notifyOnly: "perfbot alerts and proposes fixes; nothing runs without a yes."
        case .safeAutoFix: "safe or reversible fixes run on their own; the rest wait for a yes."
        case .fullAuto: "every fix runs on its own, restarts included."
        }
        let exceptions = customer.automationExceptions.isEmpty ? "none"
            : customer.automationExceptions.map { "`\($0)`" }.joined(separator: ", ")
        return BotReply([
            .header("Automation · \(customer.id)"),
            .text("*Level \(level.rawValue) — \(level.name)*: \(meaning)"),
            .fields([("Exceptions", exceptions), ("Plan", customer.plan.rawValue)]),
            .context("Admins: `/perf automation \(customer.id) level 1|2|3`, `… skip <exception>`, `… unskip <exception>`."),
        ])
    }
}
