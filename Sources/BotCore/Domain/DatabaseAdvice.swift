import Foundation

/// A finding in plain words, with what to do about it.
public struct DatabaseFinding: Sendable, Equatable {
    public var problem: String
    public var suggestion: String

    public init(_ problem: String, _ suggestion: String) {
        self.problem = problem
        self.suggestion = suggestion
    }
}

/// An index perfbot may propose: a table, a name and its columns (identifiers already checked).
public struct IndexSuggestion: Sendable, Equatable {
    public var table: String
    public var columns: [String]

    public init(table: String, columns: [String]) {
        self.table = table
        self.columns = columns
    }

    /// `perfbot_<columns>`, at most 64 characters.
    public var name: String { String(("perfbot_" + columns.joined(separator: "_")).prefix(64)) }
    public var sql: String {
        "CREATE INDEX \(name) ON \(table) (\(columns.joined(separator: ", ")))"
    }
}

/// One table's access in a query plan.
public struct ExplainAccess: Sendable, Equatable {
    public var table: String
    public var type: String
    public var rows: Double
    public var key: String?
    public var possibleKeys: [String]
    public var condition: String?

    public init(table: String, type: String, rows: Double, key: String?, possibleKeys: [String], condition: String?) {
        self.table = table
        self.type = type
        self.rows = rows
        self.key = key
        self.possibleKeys = possibleKeys
        self.condition = condition
    }
}

/// What an EXPLAIN says: its findings in plain words, each table's access, and the index that would help most.
public struct ExplainAnalysis: Sendable, Equatable {
    public var findings: [DatabaseFinding]
    public var accesses: [ExplainAccess]
    public var index: IndexSuggestion?

    public init(findings: [DatabaseFinding], accesses: [ExplainAccess], index: IndexSuggestion?) {
        self.findings = findings
        self.accesses = accesses
        self.index = index
    }
}

/// `/perf tables`: one table's size from `information_schema.TABLES`.
public struct TableStats: Sendable, Equatable {
    public var name: String
    public var engine: String
    public var rows: Double
    public var dataBytes: Double
    public var indexBytes: Double
    public var freeBytes: Double

    public init(name: String, engine: String, rows: Double, dataBytes: Double, indexBytes: Double, freeBytes: Double) {
        self.name = name
        self.engine = engine
        self.rows = rows
        self.dataBytes = dataBytes
        self.indexBytes = indexBytes
        self.freeBytes = freeBytes
    }

    public var totalBytes: Double { dataBytes + indexBytes }

    /// Fragmented: free space inside the table of more than `share` of its size and more than `minimumBytes`.
    public func isFragmented(share: Double = 0.10, minimumBytes: Double = 64 * 1_048_576) -> Bool {
        freeBytes > minimumBytes && freeBytes > share * max(totalBytes, 1)
    }
}

/// The database advice the operations commands give: what may reach a client, what may be explained, what a plan
/// says, and a database's tables. The probes module implements it for MySQL and MariaDB (`MySQLAdvisor`).
public protocol DatabaseAdvisor: Sendable {
    /// Why `sql` may not be explained, or nil when it is exactly one SELECT.
    func refusal(_ sql: String) -> String?
    /// Why `text` may not be handed to a database client, or nil.
    func clientHazard(_ text: String) -> String?
    /// A statement to explain rebuilt from a fingerprint, or nil when it cannot be.
    func explainable(_ fingerprint: String) -> String?
    /// The statement without a final `;`.
    func statement(_ sql: String) -> String
    /// What `EXPLAIN FORMAT=JSON` of `sql` (its output `json`) says; nil when it cannot be read.
    func analyze(json: String, sql: String) -> ExplainAnalysis?
    /// The query the read-only account runs for the tables' sizes.
    var tablesQuery: String { get }
    /// The query for unused indexes (fails where performance_schema is off).
    var unusedIndexQuery: String { get }
    /// The tables in `tablesQuery`'s output.
    func tables(_ output: String) -> [TableStats]
}
