import BotCore
import Testing

@Suite struct CommandParserTests {
    let store = CommandSpec("store", arguments: [ArgumentSpec("store", .store)], summary: "s", examples: ["store a"])
    let fleet = CommandSpec(
        "fleet",
        flags: [FlagSpec("sort", values: ["health", "cpu"], help: "h"), FlagSpec("dry-run", help: "d")],
        summary: "f", examples: ["fleet"])
    let automation = CommandSpec(
        "automation",
        arguments: [ArgumentSpec("store", .store), ArgumentSpec("level", .keyword("level")),
                    ArgumentSpec("value", .integer(1...3))],
        role: .admin, summary: "a", examples: ["automation a level 2"])
    let silence = CommandSpec(
        "silence",
        arguments: [ArgumentSpec("store", .store), ArgumentSpec("duration", .duration), ArgumentSpec("reason", .rest, optional: true)],
        summary: "s", examples: ["silence a 2h deploy"])

    @Test func storeArgumentIsLowercasedAndTyped() throws {
        let parsed = try CommandParser.parse(["Acme-Store"], as: store).get()
        #expect(parsed.store()?.rawValue == "acme-store")
    }

    @Test func invalidStoreNameIsRefusedWithReason() {
        guard case let .failure(error) = CommandParser.parse(["acme;rm"], as: store) else {
            Issue.record("accepted a store name with ;")
            return
        }
        #expect(error.message.contains("not a store name"))
    }

    @Test func missingArgumentNamesIt() {
        guard case let .failure(error) = CommandParser.parse([], as: store) else { Issue.record("parsed"); return }
        #expect(error.message == "missing <store>.")
    }

    @Test func extraWordIsRefused() {
        guard case let .failure(error) = CommandParser.parse(["a", "b"], as: store) else { Issue.record("parsed"); return }
        #expect(error.message.contains("unexpected `b`"))
    }

    @Test func flagsTakeValuesInBothForms() throws {
        #expect(try CommandParser.parse(["--sort", "CPU"], as: fleet).get().option("sort") == "cpu")
        #expect(try CommandParser.parse(["--sort=health", "--dry-run"], as: fleet).get().isSet("dry-run"))
    }

    @Test func unknownFlagAndBadChoiceAreRefused() {
        guard case let .failure(unknown) = CommandParser.parse(["--color"], as: fleet),
              case let .failure(choice) = CommandParser.parse(["--sort", "speed"], as: fleet),
              case let .failure(missing) = CommandParser.parse(["--sort"], as: fleet) else {
            Issue.record("parsed")
            return
        }
        #expect(unknown.message.contains("no option `--color`"))
        #expect(choice.message.contains("takes one of health, cpu"))
        #expect(missing.message.contains("needs a value"))
    }

    @Test func keywordsAndIntegerRanges() throws {
        #expect(try CommandParser.parse(["a", "LEVEL", "3"], as: automation).get().integer("value") == 3)
        guard case .failure = CommandParser.parse(["a", "level", "4"], as: automation) else { Issue.record("4 accepted"); return }
    }

    @Test func restTakesTheRemainingWordsAndDurationsParse() throws {
        let parsed = try CommandParser.parse(["a", "2h", "deploy", "--of", "v2"], as: silence).get()
        #expect(parsed.value("reason") == "deploy --of v2")
        #expect(BotDuration("2h")?.seconds == 7200)
        #expect(BotDuration("0m") == nil)
        #expect(BotDuration("5y") == nil)
        #expect(BotDuration("91d") == nil)
    }

    @Test func tokenizerKeepsQuotedTextAndUnwrapsSlackLinks() {
        #expect(CommandTokenizer.words(#"explain acme "SELECT 1  FROM t""#) == ["explain", "acme", "SELECT 1  FROM t"])
        #expect(CommandTokenizer.words("explain acme “a b”") == ["explain", "acme", "a b"])
        #expect(CommandTokenizer.words("store <http://acme.example|acme.example>") == ["store", "acme.example"])
        #expect(CommandTokenizer.words("a &amp;&amp; b") == ["a", "&&", "b"])
    }

    @Test func usageIsGeneratedFromTheSpec() {
        #expect(fleet.usage == "fleet [--sort health|cpu] [--dry-run]")
        #expect(automation.usage == "automation <store> level 1|2|3")
        #expect(silence.usage == "silence <store> <duration> [<reason>]")
    }
}
