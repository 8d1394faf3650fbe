import BotCore
import Foundation
import GRDB

/// One stored value as SQLite holds it (the tables are STRICT, so each column holds one kind).
public enum StoredValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

/// A table as `perfbot db copy` moves it: its columns, the key it is read in order of, and the tables it refers to.
public struct ExportedTable: Sendable, Equatable {
    public var name: String
    public var columns: [String]
    /// The primary key's columns (the rowid when it has none).
    public var key: [String]
    public var references: [String]
}

/// A consistent view of the whole file, as of one moment, read in pages (the server may keep writing meanwhile).
public final class SQLiteExport: Sendable {
    let snapshot: DatabaseSnapshot

    init(_ snapshot: DatabaseSnapshot) { self.snapshot = snapshot }

    /// perfbot's tables, each after the tables it refers to.
    public func tables() throws -> [ExportedTable] {
        let tables = try snapshot.read { db in
            try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                AND name NOT IN ('sample_inbox', 'customers_version') ORDER BY name
                """).map { name -> ExportedTable in
                let info = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
                let key = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
                let references = try String.fetchAll(db, sql: "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", arguments: [name])
                return ExportedTable(name: name, columns: info.map { $0["name"] }, key: key.isEmpty ? ["rowid"] : key,
                                     references: references.filter { $0 != name })
            }
        }
        // Referred tables first.
        var ordered: [ExportedTable] = []
        var left = tables
        while !left.isEmpty {
            let done = Set(ordered.map(\.name))
            let ready = left.filter { $0.references.allSatisfy(done.contains) }
            guard !ready.isEmpty else { ordered += left; break }
            ordered += ready
            left.removeAll { table in ready.contains { $0.name == table.name } }
        }
        return ordered
    }

    /// Up to `limit` rows of `table` after `after` (its key's values, nil for the first page), in key order.
    /// - Returns: the rows' column values, and the key of the last row for the next page.
    public func rows(of table: ExportedTable, after: [StoredValue]?, limit: Int) throws -> (rows: [[StoredValue]], last: [StoredValue]?) {
        let quoted = table.key.map(Self.quote)
        let columns = (table.columns.map(Self.quote) + quoted).joined(separator: ", ")
        let keyList = quoted.joined(separator: ", ")
        let condition = after == nil ? "" : "WHERE (\(keyList)) > (\(Array(repeating: "?", count: quoted.count).joined(separator: ", ")))"
        let arguments = StatementArguments((after ?? []).map(\.databaseValue))
        return try snapshot.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT \(columns) FROM \(Self.quote(table.name)) \(condition) ORDER BY \(keyList) LIMIT ?",
                                        arguments: arguments + [limit])
            let values = rows.map { row in (0..<row.count).map { StoredValue(row[$0] as DatabaseValue) } }
            let width = table.columns.count
            return (values.map { Array($0.prefix(width)) }, values.last.map { Array($0.dropFirst(width)) })
        }
    }

    /// Rows per table, as of the snapshot.
    public func count(_ table: ExportedTable) throws -> Int {
        try snapshot.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(Self.quote(table.name))") ?? 0 }
    }

    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

extension SQLiteStore {
    /// A consistent view of the file as of now, for `perfbot db copy`.
    /// Files the inbox first: the copy holds every sample acknowledged before it began, and no inbox (PostgreSQL has none).
    public func export() throws -> SQLiteExport {
        try fileInboxNow()
        return SQLiteExport(try pool.makeSnapshot())
    }
}

extension StoredValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case let .int64(value): self = .integer(value)
        case let .double(value): self = .real(value)
        case let .string(value): self = .text(value)
        case let .blob(data): self = .blob(Array(data))
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case let .integer(value): value.databaseValue
        case let .real(value): value.databaseValue
        case let .text(value): value.databaseValue
        case let .blob(bytes): Data(bytes).databaseValue
        }
    }
}
