import BotPostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// A new, empty database on the test PostgreSQL server that `scripts/test` starts (`PERFBOT_TEST_POSTGRES` is its
/// URL). Each test gets its own, so tests run side by side.
public enum PostgresTestDatabase {
    public static let logger = Logger(label: "perfbot-postgres-test")

    public struct NoServer: Error, CustomStringConvertible {
        public var description: String { "PERFBOT_TEST_POSTGRES is not set: run the tests with scripts/test, which starts PostgreSQL" }
    }

    /// The server's URL; without one the test fails and says how to get one.
    public static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["PERFBOT_TEST_POSTGRES"], !url.isEmpty else { throw NoServer() }
        return url
    }

    /// Creates a database named after `label` and returns its endpoint.
    public static func create(_ label: String) async throws -> PostgresEndpoint {
        let server = try PostgresEndpoint(url: try serverURL())
        let name = "t_" + label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30) + "_"
            + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try await PostgresPool.with(server, connections: 1, logger: logger) { database in
            try await database.administer("CREATE DATABASE \(name)")
        }
        var endpoint = server
        endpoint.database = name
        return endpoint
    }

    /// Creates a database named after `label` and returns its URL (for a `perfbot` process's PERFBOT_DATABASE).
    public static func createURL(_ label: String) async throws -> String {
        let endpoint = try await create(label)
        var url = URLComponents(string: try serverURL())!
        url.path = "/" + endpoint.database
        return url.string!
    }

    /// Runs `body` with a migrated database of its own, the pool running.
    public static func with<Result: Sendable>(_ label: String, connections: Int = 4,
                                       _ body: @Sendable (PostgresPool) async throws -> Result) async throws -> Result {
        let endpoint = try await create(label)
        return try await PostgresPool.with(endpoint, connections: connections, logger: logger) { database in
            try await database.migrate()
            return try await body(database)
        }
    }
}
