import ArgumentParser
import BotCore
import BotChannels
import BotStore
import CustomerChannels
import Foundation
import PerfbotApp

struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Look after perfbot's SQLite file.", subcommands: [Stats.self, Prune.self])

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
