import BotStore
import Foundation
import Logging
import PostgresNIO

/// `perfbot db copy`: moves an installation's SQLite file into an empty PostgreSQL database, table by table in
/// one transaction, from one consistent snapshot of the file. Ids are kept, so links, approvals and threads
/// still match, and the identity sequences continue after them.
public enum DatabaseCopy {
    /// Rows copied per table, in the order they were copied.
    public struct Report: Sendable {
        public var tables: [(name: String, rows: Int)] = []
        public var total: Int { tables.reduce(0) { $0 + $1.rows } }
    }

    /// Copies `export` into `database`, which is migrated first and must hold no rows of perfbot's yet.
    /// - Parameter progress: told after each table.
    public static func copy(_ export: SQLiteExport, to database: PostgresPool,
                            progress: @Sendable (String, Int) -> Void = { _, _ in }) async throws -> Report {
        _ = try await database.migrate()
        let tables = try export.tables()
        let logger = database.logger
        let target = Set(try await database.rows("""
            SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
            """).map { try $0.decode(String.self) })
        if let missing = tables.first(where: { !target.contains($0.name) }) {
            throw PostgresStoreError("the SQLite file has a table PostgreSQL's schema lacks (\(missing.name)): upgrade perfbot first")
        }
        for table in tables where target.contains(table.name) {
            let rows = try await database.rows(PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(quote(table.name)))"))
            if try rows.first?.decode(Bool.self) == true {
                throw PostgresStoreError("the PostgreSQL database already holds perfbot's data (\(table.name) has rows): copy into an empty database")
            }
        }
        let report = try await database.transaction { connection in
            var report = Report()
            for table in tables {
                // PostgreSQL takes at most 65,535 parameters per statement.
                let page = max(1, min(1000, 65535 / max(1, table.columns.count)))
                let columns = table.columns.map(quote).joined(separator: ", ")
                var after: [StoredValue]?
                var copied = 0
                while true {
                    let (rows, last) = try export.rows(of: table, after: after, limit: page)
                    guard !rows.isEmpty else { break }
                    var bindings = PostgresBindings(capacity: rows.count * table.columns.count)
                    var values: [String] = []
                    values.reserveCapacity(rows.count)
                    var index = 0
                    for row in rows {
                        var placeholders: [String] = []
                        for value in row {
                            index += 1
                            placeholders.append("$\(index)")
                            try bindings.append(value)
                        }
                        values.append("(" + placeholders.joined(separator: ", ") + ")")
                    }
                    let sql = "INSERT INTO \(quote(table.name)) (\(columns)) VALUES " + values.joined(separator: ", ")
                    _ = try await connection.rows(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
                    copied += rows.count
                    after = last
                    if rows.count < page { break }
                }
                // Identity columns continue after the copied ids.
                for column in try await identityColumns(of: table.name, connection: connection, logger: logger) {
                    var bindings = PostgresBindings()
                    bindings.append(quote(table.name))
                    bindings.append(column)
                    _ = try await connection.rows(PostgresQuery(unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(\(quote(column))), 0) + 1, false)
                        FROM \(quote(table.name))
                        """, binds: bindings), logger: logger)
                }
                report.tables.append((table.name, copied))
                progress(table.name, copied)
            }
            return report
        }
        // A bulk load leaves PostgreSQL without statistics or a visibility map for the new rows: autovacuum would
        // catch up while the replicas serve, over millions of rows. Done here, the first queries are planned and
        // served as they will be later.
        for table in tables {
            try await database.execute(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE) \(quote(table.name))"))
        }
        return report
    }

    static func identityColumns(of table: String, connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.rows("""
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table) AND is_identity = 'YES'
            """, logger: logger).map { try $0.decode(String.self) }
    }

    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
