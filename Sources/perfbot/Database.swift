import ArgumentParser
import BotCore
import BotChannels
import BotPostgres
import BotStore
import CustomerChannels
import Foundation
import Logging
import PerfbotApp

struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Look after perfbot's database.", subcommands: [Stats.self, Prune.self, Migrate.self, Copy.self])

    /// The pool's own notices (a connection leased while it starts) are not the user's business; errors are thrown.
    static var quietLogger: Logger {
        var logger = Logger(label: "perfbot")
        logger.logLevel = .error
        return logger
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring the database's schema up to date (SQLite file or postgres:// URL); perfbot serve does it too.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let target = configuration.databasePath
            if PostgresEndpoint.isURL(target) {
                let endpoint = try PostgresEndpoint(url: target)
                let applied = try await PostgresPool.with(endpoint, logger: Database.quietLogger) { database in
                    (try await database.migrate(), try await database.appliedMigrations())
                }
                print("\(endpoint): " + (applied.0.isEmpty ? "up to date" : "applied \(applied.0.joined(separator: ", "))")
                      + " (\(applied.1.count) migrations in all)")
            } else {
                let applied = try await Runner.openStore(configuration).appliedMigrations()
                print("\(target): up to date (\(applied.count) migrations in all, the last \(applied.last ?? "none"))")
            }
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an installation's SQLite file into an empty PostgreSQL database.",
            discussion: """
                Reads one consistent snapshot of the file, so it can run while perfbot serves; what arrives after the \
                snapshot is not copied. For the final move, stop perfbot, copy, then start it on the new database.
                """)

        @Option(name: .long, help: "The source: sqlite:FILE.") var from: String
        @Option(name: .long, help: "The target: postgres://user:password@host:port/database.") var to: String

        func run() async throws {
            guard from.hasPrefix("sqlite:"), from.count > 7 else { throw fail("--from is sqlite:FILE (for example sqlite:perfbot.sqlite)") }
            let path = String(from.dropFirst(7))
            guard FileManager.default.fileExists(atPath: path) else { throw fail("no SQLite file at \(path)") }
            let endpoint = try PostgresEndpoint(url: to)
            let export = try SQLiteStore(path: path, metrics: Wiring.metricCatalogue).export()
            let started = Date()
            let report = try await PostgresPool.with(endpoint, logger: Database.quietLogger) { database in
                try await DatabaseCopy.copy(export, to: database) { table, rows in
                    if rows > 0 { print("\(table): \(rows) rows") }
                }
            }
            print("Copied \(report.total) rows in \(report.tables.count) tables from \(path) to \(endpoint) in "
                  + "\(Wording.number(Date().timeIntervalSince(started), decimals: 1)) s.")
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rows and bytes per table, each table's retention, and when the next pruning runs.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let store = try Runner.openStore(configuration)
            let (tables, lastPrune) = try await store.tableStats()
            let rules = configuration.retention.rules
            // The retention service runs hourly while `perfbot serve` runs.
            let next = lastPrune.map { "next pruning at \(Wording.dayAndTime($0.addingTimeInterval(3600))) "
                + "(last \(Wording.dayAndTime($0)))" } ?? "next pruning within an hour of `perfbot serve` starting (never pruned yet)"
            func size(_ bytes: Int?) -> String {
                guard let bytes else { return "?" }
                if bytes >= 1 << 20 { return "\(Wording.number(Double(bytes) / 1048576)) MiB" }
                return "\(Wording.number(Double(bytes) / 1024)) KiB"
            }
            let width = tables.map(\.name.count).max() ?? 10
            print("\(configuration.databasePath): \(next)")
            print("table".padding(toLength: width, withPad: " ", startingAt: 0) + "        rows        size  retention")
            for table in tables {
                print(table.name.padding(toLength: width, withPad: " ", startingAt: 0)
                      + String(repeating: " ", count: max(1, 12 - "\(table.rows)".count)) + "\(table.rows)"
                      + String(repeating: " ", count: max(1, 12 - size(table.bytes).count)) + size(table.bytes)
                      + "  " + (rules[table.name] ?? "kept"))
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prune now, as the hourly retention service does.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let store = try Runner.openStore(configuration)
            let removed = try await store.prune(configuration.retention, now: Date())
            print(removed.isEmpty ? "Nothing to prune." : removed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                .joined(separator: "\n"))
        }
    }
}

/// `perfbot status-link <store>`: a fresh signed link to a store's status page (as the e-mails carry), recorded so
/// `perfbot links revoke` can withdraw it.
struct StatusLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status-link",
                                                    abstract: "Print a fresh signed link to a store's status page.")

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The store.") var store: String

    func run() async throws {
        let (configuration, database, customer) = try await options.openStore(named: store)
        let id = customer.id
        guard let secret = configuration.linkSecret else { throw fail("PERFBOT_LINK_SECRET is not set: there are no status pages") }
        let link = StatusLink(secret: secret, publicURL: configuration.publicURL ?? "http://\(configuration.host):\(configuration.port)",
                              days: configuration.linkDays, actMinutes: configuration.linkActMinutes)
        print(try await StatusLinkIssuer(link: link, store: database).issue(for: id, contact: customer.contactEmail, now: Date()))
    }
}

/// `perfbot links revoke <store> [--contact <address>]`: withdraws a store's status page links at once.
struct Links: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Status page links.", subcommands: [Revoke.self])

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw every live status page link of a store (only those mailed to one contact with --contact).")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The store.") var store: String
        @Option(help: "Only the links mailed to this address.") var contact: String?

        func run() async throws {
            if let contact, contact.split(separator: "@").count != 2 { throw fail("'\(contact.prefix(60))' is not an e-mail address") }
            let (_, database, customer) = try await options.openStore(named: store)
            let id = customer.id
            let count = try await database.revokeStatusLinks(store: id, contact: contact, at: Date())
            try await database.audit(actor: "cli", channel: "cli", action: "links.revoke", store: id,
                                     details: contact.map { ["contact": $0] } ?? [:], result: "\(count) revoked", at: Date())
            print("Revoked \(count) live link\(count == 1 ? "" : "s") of \(id)\(contact.map { " mailed to \($0)" } ?? ""). "
                + "Pages opened with them now say the link was withdrawn.")
        }
    }
}

/// `perfbot tokens issue|revoke <store>`: metrics tokens that may push one store's samples only.
struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store-scoped metrics tokens (POST /webhooks/metrics for one store only).",
        subcommands: [Issue.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new metrics token for one store; it is printed once and only its digest is kept.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The store.") var store: String

        func run() async throws {
            let (_, database, customer) = try await options.openStore(named: store)
            let id = customer.id
            let token = WebhookToken.generate()
            try await database.issueStoreToken(digest: WebhookToken.digest(token), store: id, at: Date())
            try await database.audit(actor: "cli", channel: "cli", action: "tokens.issue", store: id, details: [:],
                                     result: "issued", at: Date())
            print(token)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw every metrics token of a store at once.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The store.") var store: String

        func run() async throws {
            let (_, database, customer) = try await options.openStore(named: store)
            let id = customer.id
            let count = try await database.revokeStoreTokens(store: id, at: Date())
            try await database.audit(actor: "cli", channel: "cli", action: "tokens.revoke", store: id, details: [:],
                                     result: "\(count) revoked", at: Date())
            print("Revoked \(count) metrics token\(count == 1 ? "" : "s") of \(id); pushes with them now get 401.")
        }
    }
}
