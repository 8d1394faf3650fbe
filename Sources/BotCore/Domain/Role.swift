import Foundation

/// What a Slack user may do with perfbot: each role includes the ones below it.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// Read-only views.
    case viewer
    /// Runs playbooks and optimizations, decides approvals.
    case `operator`
    /// Changes automation settings and runs risky playbooks.
    case admin

    private var rank: Int { self == .viewer ? 0 : self == .operator ? 1 : 2 }
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    /// `a viewer`, `an operator`, `an admin`.
    public var withArticle: String { (self == .viewer ? "a " : "an ") + rawValue }
}

/// The Slack users allowed to talk to perfbot, with their roles.
public struct AccessList: Sendable, Equatable {
    public private(set) var roles: [SlackUserID: Role]

    public init(_ roles: [SlackUserID: Role] = [:]) { self.roles = roles }

    /// Parses `U0ADMIN01:admin,U0OPS0001:operator`.
    /// - Throws: `ConfigurationError.invalid` naming the first bad entry.
    public init(parsing text: String) throws {
        var roles: [SlackUserID: Role] = [:]
        for rawEntry in text.split(separator: ",") {
            let entry = rawEntry.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let user = SlackUserID(String(parts[0])),
                  let role = Role(rawValue: String(parts[1]).lowercased())
            else {
                throw ConfigurationError.invalid(
                    key: "PERFBOT_SLACK_USERS",
                    reason: "'\(entry.prefix(40))' is not SLACKUSERID:role (roles: viewer, operator, admin)")
            }
            roles[user] = role
        }
        self.roles = roles
    }

    /// The role of `user`, or nil when the user is not listed.
    public func role(of user: SlackUserID) -> Role? { roles[user] }
}

/// A configuration value that perfbot cannot use.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// `key` holds a value that does not fit; `reason` says why.
    case invalid(key: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(key, reason): "\(key): \(reason)"
        }
    }
}
