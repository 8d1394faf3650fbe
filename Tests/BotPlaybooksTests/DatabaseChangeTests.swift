import BotCore
import BotPlaybooks
import Testing
import TestSupport

@Suite struct DatabaseChangeTests {
    @Test func namesRoundTripAndCarryEveryIdentifier() throws {
        let create = DatabaseChange.createIndex(table: "wp_postmeta", name: "perfbot_meta_key", columns: ["meta_key", "post_id"])
        #expect(create.name == "db:create_index:wp_postmeta:perfbot_meta_key:meta_key,post_id")
        #expect(DatabaseChange(name: create.name) == create)
        #expect(create.revert == .dropIndex(table: "wp_postmeta", name: "perfbot_meta_key"))
        #expect(DatabaseChange(name: "db:optimize:wp_options,wp_posts") == .optimize(tables: ["wp_options", "wp_posts"]))
        #expect(DatabaseChange.optimize(tables: ["a"]).revert == nil)
    }

    @Test func anythingButPlainIdentifiersIsRefused() {
        for name in ["db:create_index:wp_posts`; DROP TABLE x; --:i:c", "db:optimize:wp options", "db:optimize:",
                     "db:drop_index:t:../x", "db:create_index:t:i:", "db:optimize:123", "db:optimize:t\nDROP", "db:unknown:t",
                     "db:optimize:" + String(repeating: "a", count: 65)] {
            #expect(DatabaseChange(name: name) == nil, "\(name)")
        }
    }

    @Test func thePlaybookIsOneMysqlStepWithItsStatementInOneArgvElement() throws {
        let playbook = DatabaseChange.createIndex(table: "wp_postmeta", name: "perfbot_meta_key", columns: ["meta_key"])
            .playbook(for: .woocommerce)
        #expect(playbook.actions.map(\.run) == [["mysql", "--binary-mode", "--database={db_name}", "--batch",
                                                 "--execute=ALTER TABLE `wp_postmeta` ADD INDEX `perfbot_meta_key` (`meta_key`)"]])
        #expect(playbook.actions[0].reversible && !playbook.actions[0].safe && playbook.premiumOnly)
        let optimize = DatabaseChange.optimize(tables: ["wp_options"]).playbook(for: .magento)
        #expect(optimize.actions[0].tags == [.optimizeTables] && optimize.actions[0].safe)
        #expect(optimize.actions[0].run.last == "--execute=OPTIMIZE TABLE `wp_options`")
        // Resolved by the library like any playbook, so jobs plan and check it the same way.
        let library = PlaybookLibrary([])
        #expect(library.playbook("db:optimize:wp_options", for: .magento) == optimize)
        #expect(library.playbook("db:optimize:wp options", for: .magento) == nil)
    }
}
