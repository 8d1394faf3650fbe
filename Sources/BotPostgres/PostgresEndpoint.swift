import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is, read from a `postgres://` URL:
/// `postgres://user:password@host:5432/perfbot?sslmode=require`, or a Unix socket with
/// `postgres://user@/perfbot?host=/run/postgresql`.
public struct PostgresEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case socket(directory: String, port: Int)
    }

    /// How the connection is encrypted (libpq's `sslmode`, of which these three).
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    public var address: Address
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads a URL; the error says what is wrong without repeating the password.
    public init(url text: String) throws {
        guard Self.isURL(text), let url = URLComponents(string: text) else {
            throw PostgresEndpointError("a PostgreSQL URL starts with postgres:// (postgres://user:password@host:5432/database)")
        }
        guard let user = url.user, !user.isEmpty else { throw PostgresEndpointError("the URL names no user (postgres://user@host/database)") }
        let name = String(url.path.drop { $0 == "/" })
        guard !name.isEmpty, !name.contains("/") else { throw PostgresEndpointError("the URL names no database (postgres://user@host/database)") }
        var query: [String: String] = [:]
        for item in url.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let unknown = Set(query.keys).subtracting(["sslmode", "host"])
        guard unknown.isEmpty else {
            throw PostgresEndpointError("unknown URL option \(unknown.sorted().joined(separator: ", ")) (known: sslmode, host)")
        }
        guard let tls = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw PostgresEndpointError("sslmode is one of disable, prefer, require")
        }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw PostgresEndpointError("the port must lie between 1 and 65535") }
        if let directory = query["host"], directory.hasPrefix("/") {
            address = .socket(directory: directory, port: port)
        } else {
            guard let host = url.host, !host.isEmpty else { throw PostgresEndpointError("the URL names no host") }
            address = .tcp(host: host, port: port)
        }
        username = user.removingPercentEncoding ?? user
        password = url.password.map { $0.removingPercentEncoding ?? $0 }
        database = name.removingPercentEncoding ?? name
        self.tls = tls
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        let user = username + (password == nil ? "" : ":***")
        switch address {
        case let .tcp(host, port): return "postgres://\(user)@\(host):\(port)/\(database)"
        case let .socket(directory, port): return "postgres://\(user)@\(port == 5432 ? "" : ":\(port)")/\(database)?host=\(directory)"
        }
    }

    /// The client configuration: a pool of at most `connections`.
    /// - Parameter genericPlans: plan each prepared statement once per connection (`plan_cache_mode =
    ///   force_generic_plan`): only for connections that run nothing but perfbot's prepared statements, since it also
    ///   applies to every other statement, which then loses the plan its values would give it.
    func configuration(connections: Int, genericPlans: Bool = false) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch address {
        case let .tcp(host, port):
            let tls: PostgresClient.Configuration.TLS = switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        case let .socket(directory, port):
            configuration = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: username, password: password,
                                  database: database)
        }
        configuration.options.maximumConnections = connections
        configuration.options.minimumConnections = 0
        if genericPlans { configuration.options.additionalStartupParameters = [("plan_cache_mode", "force_generic_plan")] }
        return configuration
    }
}

/// A PostgreSQL URL that cannot be used, and why.
public struct PostgresEndpointError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = "PERFBOT_DATABASE: " + description }
}
