import ArgumentParser
import BotChannels
import BotCore
import BotPlaybooks
import BotPostgres
import BotStore
import Foundation
import Logging
import PerfbotApp

@main
struct Perfbot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perfbot",
        abstract: "Keeps WooCommerce and Magento stores fast: Slack commands, monitor webhooks, safe fixes.",
        subcommands: [Serve.self, Check.self, Demo.self, Customers.self, Playbooks.self, Mail.self, Outbox.self, Database.self, BenchMail.self, StatusLinkCommand.self, Links.self, Tokens.self,
                      BenchCycle.self, BenchConsole.self, BenchIngestServer.self, SlowLog.self, AccessLog.self, Collectors.self, Admins.self],
        defaultSubcommand: Serve.self)
}

/// Options every command that touches the database shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "A perfbot.yaml with the same keys as the environment variables.")
    var config: String?

    @Option(name: .long, help: "The SQLite file (overrides PERFBOT_DATABASE).")
    var database: String?

    func load() throws -> PerfbotConfiguration {
        var configuration = try PerfbotConfiguration.load(
            environment: ProcessInfo.processInfo.environment,
            file: config ?? (FileManager.default.fileExists(atPath: "perfbot.yaml") ? "perfbot.yaml" : nil))
        if let database { configuration.databasePath = database }
        return configuration
    }

    /// The configuration, the database and the customer `store` names, for a command about one store.
    func openStore(named store: String) async throws -> (PerfbotConfiguration, SQLiteStore, Customer) {
        let configuration = try load()
        guard let id = StoreID(store) else { throw fail("'\(store.prefix(40))' is not a store name") }
        let database = try Runner.openStore(configuration)
        guard let customer = try await database.customer(id) else { throw fail("no store named \(id)") }
        return (configuration, database, customer)
    }
}

func makeLogger() -> Logger {
    var logger = Logger(label: "perfbot")
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}

/// Prints a configuration or file error the way a user can act on, then exits 1.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("perfbot: \(message)\n".utf8))
    return ExitCode(1)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server and background services.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration: PerfbotConfiguration
        do { configuration = try options.load() } catch { throw fail("\(error)") }
        let logger = makeLogger()
        do {
            if PostgresEndpoint.isURL(configuration.databasePath) {
                try await Runner.serveReplica(configuration, logger: logger) { store, leadership, metrics in
                    try Wiring(configuration: configuration, store: store, metrics: metrics, logger: logger, leadership: leadership)
                }
            } else {
                let store = try Runner.openStore(configuration)
                try await Runner.serve(try Wiring(configuration: configuration, store: store, logger: logger))
            }
        } catch let errors as PlaybookErrors {
            throw fail("refusing to start: invalid playbooks in \(configuration.playbooksPath)\n"
                + errors.problems.map(\.description).joined(separator: "\n"))
        } catch let error as PostgresStoreError {
            throw fail("perfbot serve: \(error)")
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the check cycle: rules, issues, automation per policy, alerts into the outbox.")

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Run one cycle, print what it found and did, and exit.") var once = false

    func run() async throws {
        let configuration = try options.load()
        let wiring: Wiring
        do {
            wiring = try Wiring(configuration: configuration, store: try Runner.openStore(configuration), logger: makeLogger())
        } catch let errors as PlaybookErrors {
            throw fail("invalid playbooks in \(configuration.playbooksPath)\n" + errors.description)
        }
        let cycle = wiring.checkCycle(inline: true)
        repeat {
            let report = try await cycle.run()
            print(report.lines.joined(separator: "\n"))
            if once { return }
            try await Task.sleep(for: .seconds(configuration.checkInterval))
        } while !Task.isCancelled
    }
}

struct Mail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Look at customers' e-mail.", subcommands: [Explain.self])

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What perfbot reads in a raw reply: sender, token, auto-reply verdict, the reply text and the decision.")

        @Argument(help: "A raw message (.eml).") var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw fail("cannot read \(file)") }
            let mail = InboundMail(raw: Array(data))
            let (text, decision) = ReplyReader.read(mail.text)
            let why = decision == .forwarded ? "it forwards another message" : ReplyReader.explain(text).reason
            print("""
                from:           \(mail.from)
                sender address: \(mail.fromAddress ?? "(none: not exactly one plain address)")
                recipient:      \(mail.recipient)
                token:          \(mail.token.map { "\($0.prefix(6))… (\($0.count) characters)" } ?? "(none: not a reply to a proposal)")
                auto-reply:     \(mail.isAutomatic ? "yes — ignored without an answer" : "no")
                authentication: \(mail.failedAuthentication ? "a failed SPF, DKIM or DMARC check — refused" : "no failure reported")
                reply text:
                \(text.isEmpty ? "  (nothing)" : text.split(separator: "\n", omittingEmptySubsequences: false).map { "  | \($0)" }.joined(separator: "\n"))
                decision:       \(mail.isAutomatic ? "none (auto-reply)" : "\(decision.rawValue): \(why)")
                """)
        }
    }
}

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What waits in the outbox: Slack messages and e-mails not yet sent, with their attempts and last error.")

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Include messages already sent.") var all = false
    @Option(help: "How many of the newest messages to show.") var limit = 50

    func run() async throws {
        let configuration = try options.load()
        let store = try Runner.openStore(configuration)
        let messages = try await store.outboxListing(includeSent: all, limit: max(1, min(limit, 1000)))
        guard !messages.isEmpty else {
            print(all ? "The outbox is empty." : "Nothing waits in the outbox: every message was sent.")
            return
        }
        let domain = configuration.replyDomain ?? "perfbot.invalid"
        let from = configuration.mailFrom ?? "perfbot <perfbot@\(domain)>"
        for message in messages {
            var lines = ["#\(message.id) \(message.channel) → \(message.destination) · \(message.status)"
                + " · \(message.attempts) attempt\(message.attempts == 1 ? "" : "s") · queued \(Wording.dayAndTime(message.createdAt))"]
            if case let .mail(customerMail)? = message.message {
                let mail = MailTemplates.message(customerMail, from: from, domain: domain, now: Date())
                lines.append("  subject:  \(mail.subject)")
                // The reply address is a one-time capability: shown without its token.
                if let replyTo = mail.replyTo {
                    lines.append("  reply-to: " + replyTo.replacingOccurrences(of: #"\+[a-z2-7]{32}@"#, with: "+…@",
                                                                               options: .regularExpression))
                }
            } else if let text = message.message?.reply?.plainText ?? message.message.flatMap({
                if case let .alertOutcome(outcome) = $0 { outcome } else { nil } }) {
                lines.append("  text:     \(text.split(separator: "\n").first.map { String($0.prefix(120)) } ?? "")")
            } else if message.message == nil {
                lines.append("  (unreadable)")
            }
            if let error = message.lastError { lines.append("  last error: \(error.prefix(200))") }
            print(lines.joined(separator: "\n"))
        }
        if configuration.smtpURL == nil, messages.contains(where: { $0.channel == "email" && $0.status != "sent" }) {
            print("\nE-mails wait until SMTP_URL is set.")
        }
    }
}

struct Playbooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with playbook files.", subcommands: [Validate.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every playbook; print file:line:column: message for each problem, exit 1 if any.")

        @Argument(help: "The playbooks directory (default: PERFBOT_PLAYBOOKS or Playbooks).") var directory: String?

        func run() async throws {
            let path = directory ?? ProcessInfo.processInfo.environment["PERFBOT_PLAYBOOKS"] ?? "Playbooks"
            do {
                let library = try Wiring.validatePlaybooks(in: path)
                let platforms = Dictionary(grouping: library.playbooks, by: \.platform)
                    .map { "\($0.value.count) \($0.key.displayName)" }.sorted().joined(separator: ", ")
                let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
                let own = library.playbooks.filter { URL(fileURLWithPath: $0.file).standardizedFileURL.path.hasPrefix(absolute + "/") }
                print("\(library.playbooks.count) playbooks OK (\(platforms)): the packs' own, with "
                    + (own.isEmpty ? "none from \(path)" : "\(own.count) from \(path) (\(own.map { "\($0.platform)/\($0.name)" }.joined(separator: ", ")))"))
            } catch {
                for problem in error.problems { print(problem.description) }
                throw ExitCode(1)
            }
        }
    }
}

struct Customers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import and list customers.", subcommands: [Import.self, List.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import customers from a YAML or CSV file; an id seen before is updated.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "customers.yaml or customers.csv") var file: String

        func run() async throws {
            let configuration = try options.load()
            guard let data = FileManager.default.contents(atPath: file) else { throw fail("cannot read \(file)") }
            let customers: [Customer]
            do {
                customers = try CustomerFile.parse(String(decoding: data, as: UTF8.self),
                                                   isCSV: file.lowercased().hasSuffix(".csv"), plans: configuration.plans)
            } catch {
                let lines = error.problems.map { "\(file):\($0.line): \($0.message)" }
                throw fail(lines.joined(separator: "\nperfbot: ") + "\nperfbot: nothing imported")
            }
            do {
                try await Runner.withStore(configuration, logger: makeLogger()) { try await $0.upsert(customers, at: Date()) }
            } catch let error as PostgresStoreError {
                throw fail("\(error)")
            }
            print("Imported \(customers.count) customer\(customers.count == 1 ? "" : "s") into \(configuration.databasePath).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List customers.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let customers = try await Runner.withStore(configuration, logger: makeLogger()) { try await $0.allCustomers() }
            guard !customers.isEmpty else {
                print("No customers. Import some with: perfbot customers import customers.yaml")
                return
            }
            let table = ReplyTable(
                columns: ["STORE", "PLATFORM", "PLAN", "LEVEL", "EXECUTOR", "CONTACT"],
                rows: customers.map {
                    [$0.id.rawValue, $0.platform.displayName, $0.plan.rawValue, "\($0.automationLevel.rawValue)",
                     $0.executor.rawValue, $0.contactEmail]
                })
            print(table.lines().joined(separator: "\n"))
        }
    }
}
