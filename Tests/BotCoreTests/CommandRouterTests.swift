import BotCore
import Logging
import Testing

/// A plugin that answers what it is asked and can fail on demand.
struct EchoPlugin: BotPlugin {
    let name = "echo"
    var commands: [CommandSpec] {
        [CommandSpec("echo", arguments: [ArgumentSpec("store", .store)], summary: "Echo a store.", examples: ["echo a"]),
         CommandSpec("boom", role: .operator, summary: "Fail.", examples: ["boom"]),
         CommandSpec("lookup", arguments: [ArgumentSpec("store", .store)], summary: "Look up.", examples: ["lookup a"])]
    }

    func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        switch command.name {
        case "boom": throw CancellationError()
        case "lookup": throw BotError.unknownStore(command.value("store") ?? "", suggestions: ["acme-store"])
        default: return .text("echo \(command.value("store") ?? "") for \(try context.member().role.rawValue)")
        }
    }
}

@Suite struct CommandRouterTests {
    let viewer = SlackUserID("U0VIEWER1")!
    let ops = SlackUserID("U0OPS0001")!
    let stranger = SlackUserID("U0STRANGE")!
    let logger = Logger(label: "test")

    func router() throws -> CommandRouter {
        try CommandRouter(plugins: [EchoPlugin()], access: AccessList([viewer: .viewer, ops: .operator]))
    }

    @Test func routesToThePluginWithTheCallersRole() async throws {
        let reply = try await router().route("echo acme", user: viewer, channel: nil, logger: logger)
        #expect(reply.plainText == "echo acme for viewer")
    }

    @Test func refusesUnlistedUsersPolitely() async throws {
        let reply = try await router().route("echo acme", user: stranger, channel: nil, logger: logger)
        #expect(reply.plainText.contains("not on perfbot's list"))
        #expect(reply.plainText.contains("U0STRANGE"))
    }

    @Test func refusesCommandsAboveTheRole() async throws {
        let reply = try await router().route("boom", user: viewer, channel: nil, logger: logger)
        #expect(reply.plainText == "Sorry, `/perf boom` needs the operator role; you are a viewer.")
    }

    @Test func badArgumentsAnswerWithUsage() async throws {
        let reply = try await router().route("echo", user: viewer, channel: nil, logger: logger)
        #expect(reply.plainText.contains("missing <store>"))
        #expect(reply.plainText.contains("Usage: `/perf echo <store>`"))
    }

    @Test func unknownCommandSuggestsTheClosest() async throws {
        let reply = try await router().route("ecko acme", user: viewer, channel: nil, logger: logger)
        #expect(reply.plainText.contains("Did you mean `echo`?"))
    }

    @Test func unexpectedErrorsBecomeAnApologyWithReference() async throws {
        let reply = try await router().route("boom", user: ops, channel: nil, logger: logger)
        #expect(reply.plainText.hasPrefix("Sorry, something went wrong on my side (reference `"))
        #expect(!reply.plainText.contains("CancellationError"))
    }

    @Test func domainErrorsShowTheirMessage() async throws {
        let reply = try await router().route("lookup acme", user: viewer, channel: nil, logger: logger)
        #expect(reply.plainText == "No store named `acme`. Did you mean `acme-store`?")
    }

    @Test func helpListsEveryCommandFromTheGrammar() async throws {
        let router = try router()
        let reply = await router.route("help", user: viewer, channel: nil, logger: logger)
        for spec in router.specs {
            #expect(reply.plainText.contains("`/perf \(spec.usage)`"))
        }
        let detail = await router.route("help echo", user: viewer, channel: nil, logger: logger)
        #expect(detail.plainText.contains("Examples: `/perf echo a`"))
        let empty = await router.route("   ", user: viewer, channel: nil, logger: logger)
        #expect(empty.plainText.contains("perfbot commands"))
    }

    @Test func duplicateCommandsAreRefusedAtStart() {
        #expect(throws: CommandRouter.DuplicateCommand.self) {
            try CommandRouter(plugins: [EchoPlugin(), EchoPlugin()], access: AccessList())
        }
    }

    @Test func accessListParsesAndRejectsBadEntries() throws {
        let list = try AccessList(parsing: "U0ADMIN01:admin, U0OPS0001:operator")
        #expect(list.role(of: SlackUserID("U0ADMIN01")!) == .admin)
        #expect(throws: ConfigurationError.self) { try AccessList(parsing: "U0ADMIN01:root") }
        #expect(throws: ConfigurationError.self) { try AccessList(parsing: "alice:admin") }
    }

    @Test func suggesterFindsPrefixesAndTypos() {
        let names = ["acme-store", "widgets-inc", "northwind-outfitters"]
        #expect(NameSuggester.closest(to: "acme", in: names) == ["acme-store"])
        #expect(NameSuggester.closest(to: "widgets-icn", in: names) == ["widgets-inc"])
        #expect(NameSuggester.closest(to: "zzz", in: names).isEmpty)
    }
}
