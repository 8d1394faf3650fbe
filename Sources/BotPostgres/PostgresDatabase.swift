import BotCore
import Logging
import PostgresNIO

/// A pool of connections to one PostgreSQL database, and the schema it must have.
public final class PostgresPool: Sendable {
    public let endpoint: PostgresEndpoint
    let client: PostgresClient
    /// The connections of the push path (the push, its answers, the inbox's filing), all prepared statements planned
    /// once per connection: three of their own, so a burst of pushes never takes the readers' connections.
    let pushes: PostgresClient
    let logger: Logger

    public init(endpoint: PostgresEndpoint, connections: Int = 8, logger: Logger) {
        self.endpoint = endpoint
        // Queries log at error level only: a failed query throws to its caller, which says what went wrong, and a
        // query asked for while the pool is still starting waits for it instead of warning.
        var queries = logger
        queries.logLevel = max(logger.logLevel, .error)
        self.logger = queries
        client = PostgresClient(configuration: endpoint.configuration(connections: connections), backgroundLogger: logger)
        pushes = PostgresClient(configuration: endpoint.configuration(connections: 3, genericPlans: true), backgroundLogger: logger)
    }

    /// Runs the pool until the task is cancelled; queries wait for it.
    public func run() async {
        async let running: Void = self.pushes.run()
        await client.run()
        await running
    }

    /// Opens `endpoint`, runs `body` with the pool running, and closes it.
    public static func with<Result: Sendable>(_ endpoint: PostgresEndpoint, connections: Int = 4, logger: Logger,
                                              _ body: @Sendable (PostgresPool) async throws -> Result) async throws -> Result {
        let database = PostgresPool(endpoint: endpoint, connections: connections, logger: logger)
        do {
            return try await withThrowingTaskGroup(of: Void.self) { group in
                let (started, starting) = AsyncStream<Void>.makeStream()
                group.addTask {
                    starting.finish()
                    await database.run()
                }
                defer { group.cancelAll() }
                // The pool takes queries once it runs: asked for earlier they would wait, with a warning in the log.
                for await _ in started {}
                try await Task.sleep(for: .milliseconds(20))
                return try await body(database)
            }
        } catch let error as PSQLError {
            throw PostgresStoreError("\(endpoint): " + Self.describe(error))
        } catch let error as PostgresStoreError {
            throw error
        } catch where "\(type(of: error))".hasPrefix("ConnectionPoolError") {
            throw PostgresStoreError("\(endpoint): could not connect (is the server running and the URL right?)")
        }
    }

    /// What went wrong, in the server's words where it gave some (never the query's values).
    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] { return message }
        if error.code == .connectionError { return "could not connect (is the server running and the URL right?)" }
        return "\(error.code)"
    }

    /// Applies the schema migrations not yet applied (`perfbot db migrate`, and every start).
    /// - Returns: the migrations applied now.
    @discardableResult
    public func migrate() async throws -> [String] {
        try await PostgresSchema.migrate(self)
    }

    /// The migrations applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await rows("SELECT identifier FROM perfbot_migrations ORDER BY applied_at, identifier").map { try $0.decode(String.self) }
    }

    /// Runs a statement of perfbot's own that takes no values (`CREATE DATABASE` in tests and tools).
    public func administer(_ sql: String) async throws {
        try await execute(PostgresQuery(unsafeSQL: sql))
    }

    /// Every column of the schema as `table.column type`, sorted (the schema check, `perfbot db stats`).
    public func columns() async throws -> [String] {
        try await rows("""
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
            """).map {
            let (table, column, type) = try $0.decode((String, String, String).self)
            return "\(table).\(column) \(type)"
        }
    }

    /// The rows of one of perfbot's tables.
    public func count(_ table: String) async throws -> Int {
        guard table.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { throw PostgresStoreError("no table \(table)") }
        return try await rows(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)")).first?.decode(Int.self) ?? 0
    }

    /// Runs `query` and returns its rows.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await client.query(query, logger: logger) { rows.append(row) }
        return rows
    }

    /// Runs a prepared statement of the push path on its own connections (prepared and planned once per connection)
    /// and returns its rows.
    func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await pushes.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }

    /// Runs a prepared statement of the readers on the pool (prepared once per connection, planned as PostgreSQL
    /// chooses) and returns its rows.
    func read<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }

    /// Runs `query` for its effect.
    func execute(_ query: PostgresQuery) async throws {
        _ = try await rows(query)
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withTransaction(logger: logger) { connection in try await body(connection) }
    }
}

/// A service of `perfbot serve`: the pool, running while the server runs.
public struct PostgresPoolService: BotService {
    public let name = "postgres-pool"
    let database: PostgresPool

    public init(_ database: PostgresPool) { self.database = database }

    public func run() async throws { await database.run() }
}

extension PostgresConnection {
    /// Runs `query` on this connection and returns its rows.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await self.query(query, logger: logger) { rows.append(row) }
        return rows
    }
}
