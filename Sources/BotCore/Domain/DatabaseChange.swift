import Foundation

/// A change to a store's database that perfbot builds itself (an index it suggests, tables to compact) and
/// runs like any playbook: as a job, through the store's executor, argv only. Its name says everything the
/// plan needs, so a job can be planned again and checked before it runs.
public enum DatabaseChange: Sendable, Equatable, Hashable {
    case createIndex(table: String, name: String, columns: [String])
    case dropIndex(table: String, name: String)
    case optimize(tables: [String])

    /// Job and playbook names start with this.
    public static let prefix = "db:"

    /// `db:create_index:<table>:<name>:<col,col>`, `db:drop_index:<table>:<name>`, `db:optimize:<t,t>`.
    public var name: String {
        switch self {
        case let .createIndex(table, name, columns): "db:create_index:\(table):\(name):\(columns.joined(separator: ","))"
        case let .dropIndex(table, name): "db:drop_index:\(table):\(name)"
        case let .optimize(tables): "db:optimize:\(tables.joined(separator: ","))"
        }
    }

    /// The change `name` describes, with every identifier checked; nil otherwise.
    public init?(name: String) {
        guard name.hasPrefix(Self.prefix) else { return nil }
        let parts = name.dropFirst(Self.prefix.count).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func identifiers(_ text: String) -> [String]? {
            let list = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return !list.isEmpty && list.count <= 16 && list.allSatisfy(Self.isIdentifier) ? list : nil
        }
        switch parts.first {
        case "create_index" where parts.count == 4:
            guard Self.isIdentifier(parts[1]), Self.isIdentifier(parts[2]), let columns = identifiers(parts[3]) else { return nil }
            self = .createIndex(table: parts[1], name: parts[2], columns: columns)
        case "drop_index" where parts.count == 3:
            guard Self.isIdentifier(parts[1]), Self.isIdentifier(parts[2]) else { return nil }
            self = .dropIndex(table: parts[1], name: parts[2])
        case "optimize" where parts.count == 2:
            guard let tables = identifiers(parts[1]) else { return nil }
            self = .optimize(tables: tables)
        default:
            return nil
        }
    }

    /// Letters, digits, `_` and `$`, 1–64 long, not only digits: safe between backquotes.
    public static func isIdentifier(_ text: String) -> Bool { SQLIdentifier.isValid(text) }

    /// The change that undoes it, recorded with it.
    public var revert: DatabaseChange? {
        if case let .createIndex(table, name, _) = self { return .dropIndex(table: table, name: name) }
        return nil
    }

    public var statement: String {
        switch self {
        case let .createIndex(table, name, columns):
            "ALTER TABLE `\(table)` ADD INDEX `\(name)` (\(columns.map { "`\($0)`" }.joined(separator: ", ")))"
        case let .dropIndex(table, name): "ALTER TABLE `\(table)` DROP INDEX `\(name)`"
        case let .optimize(tables): "OPTIMIZE TABLE \(tables.map { "`\($0)`" }.joined(separator: ", "))"
        }
    }

    public var title: String {
        switch self {
        case let .createIndex(table, _, columns): "Add an index on \(table) (\(columns.joined(separator: ", ")))"
        case let .dropIndex(table, name): "Drop the index \(name) of \(table)"
        case let .optimize(tables):
            "Optimize table\(tables.count == 1 ? "" : "s") " + tables.prefix(3).joined(separator: ", ")
                + (tables.count > 3 ? " and \(tables.count - 3) more" : "")
        }
    }
}
