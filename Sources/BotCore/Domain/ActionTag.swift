import Foundation

/// What an action does, for policy and exceptions (`skip_restarts` holds every `restart` action).
public enum ActionTag: String, Sendable, CaseIterable, Hashable, Comparable {
    case cacheClear = "cache_clear"
    case restart
    case killQuery = "kill_query"
    case deleteFiles = "delete_files"
    case reindex
    case purge
    case rewrite
    case optimizeTables = "optimize_tables"
    case readOnly = "read_only"

    public static func < (lhs: ActionTag, rhs: ActionTag) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Every exception a customer can set, one per kind of action.
    public static let exceptionNames = allCases.filter { $0 != .readOnly }.map(\.exceptionName)

    /// The exception `word` names: `skip_restarts`, `restart` or `restarts` → `skip_restarts`; nil for no exception.
    public static func exception(named word: String) -> String? {
        let lowered = word.lowercased()
        if exceptionNames.contains(lowered) { return lowered }
        if let tag = ActionTag(rawValue: lowered) ?? ActionTag(rawValue: String(lowered.dropLast())), tag != .readOnly {
            return tag.exceptionName
        }
        return exceptionNames.contains("skip_" + lowered) ? "skip_" + lowered : nil
    }

    /// The customer exception that excludes this tag from automation (`skip_restarts`).
    public var exceptionName: String {
        switch self {
        case .restart: "skip_restarts"
        case .killQuery: "skip_kill_queries"
        case .deleteFiles: "skip_delete_files"
        case .optimizeTables: "skip_optimize_tables"
        case .purge: "skip_purges"
        case .reindex: "skip_reindex"
        default: "skip_\(rawValue)"
        }
    }

    /// What such an action does, in words for chat and e-mail ("restarts a service").
    public var effect: String {
        switch self {
        case .cacheClear: "clears a cache"
        case .restart: "restarts a service"
        case .killQuery: "kills running queries"
        case .deleteFiles: "deletes files"
        case .reindex: "rebuilds indexes"
        case .purge: "purges the page cache"
        case .rewrite: "rewrites configuration"
        case .optimizeTables: "optimizes database tables"
        case .readOnly: "only reads"
        }
    }

    /// What a store owner notices when such an action runs, for the proposal e-mail.
    public var consequence: String {
        switch self {
        case .cacheClear: "empties a cache; pages may load a little slower for a few minutes while it refills"
        case .restart: "restarts a service; visitors may see an error for a few seconds"
        case .killQuery: "stops database queries that have run for too long"
        case .deleteFiles: "deletes files the store no longer needs"
        case .reindex: "rebuilds the catalogue indexes; search results may be incomplete while it runs"
        case .purge: "purges the page cache; each page is rebuilt on its next visit"
        case .rewrite: "changes a configuration setting"
        case .optimizeTables: "compacts database tables, which are locked for a moment"
        case .readOnly: "only looks; changes nothing"
        }
    }
}
