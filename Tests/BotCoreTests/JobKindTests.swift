import BotCore
import Foundation
import Logging
import Testing

/// What a job does is a value that survives storage as it is; names are read into kinds only for rows written
/// before kinds were stored.
@Suite struct JobKindTests {
    static let kinds: [JobKind] = [
        .playbook("high_memory"),
        .setting(SettingChange(.level, "3", previous: "1")),
        .setting(SettingChange(.reports, "off")),
        .database(.createIndex(table: "wp_postmeta", name: "perfbot_meta_key", columns: ["meta_key", "post_id"])),
        .database(.optimize(tables: ["wp_options"])),
    ]

    @Test(arguments: kinds)
    func aKindIsStoredAndReadBackAsItWas(_ kind: JobKind) throws {
        let stored = try JSONEncoder().encode(kind)
        #expect(try JSONDecoder().decode(JobKind.self, from: stored) == kind)
        #expect(JobKind(legacyName: kind.name) == (kind == Self.kinds[1] ? .setting(SettingChange(.level, "3")) : kind))
    }

    @Test func aStoredDatabaseChangeIsCheckedAgainAsItIsRead() {
        let forged = Data(#"{"type":"database","database":{"change":"optimize","tables":["wp_options`; DROP TABLE x"]}}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JobKind.self, from: forged) }
        #expect(JobKind(legacyName: "setting:colour=blue") == .playbook("setting:colour=blue"))
    }

    @Test func aSettingKnowsItsRevert() {
        #expect(SettingChange(.level, "3", previous: "1").revert == SettingChange(.level, "1", previous: "3"))
        #expect(SettingChange(.skip, "skip_restarts").revert == nil)
    }
}

/// A contact is never a Slack user of some role: a team command reached by one is refused, not run as a viewer.
@Suite struct InvokerTests {
    @Test func aContactIsNoTeamMember() throws {
        let contact = CommandContext(invoker: .contact(Contact(email: "o@acme.example", stores: [StoreID("acme-store")!])),
                                     logger: Logger(label: "t"))
        #expect(throws: BotError.self) { try contact.member() }
        #expect(contact.invoker.contact?.email == "o@acme.example")
        let member = CommandContext(invoker: .member(TeamMember(user: SlackUserID("U0DEMOOPS")!, role: .operator)),
                                    logger: Logger(label: "t"))
        #expect(try member.member().role == .operator && member.invoker.contact == nil)
    }
}
