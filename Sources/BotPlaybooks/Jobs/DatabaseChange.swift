import BotCore
import Foundation

extension DatabaseChange {
    /// The change as a one-step playbook for `platform`: `mysql --database={db_name} --execute=<statement>`.
    public func playbook(for platform: Platform) -> Playbook {
        let action: PlaybookAction
        // The store's own account (its option files) makes the change; the client interprets nothing of the text.
        let argv = ["mysql", "--binary-mode", "--database={db_name}", "--batch", "--execute=\(statement)"]
        switch self {
        case .createIndex, .dropIndex:
            action = PlaybookAction(name: title, run: argv, target: .db, timeout: 1800, tags: [.rewrite], reversible: true, safe: false)
        case .optimize:
            action = PlaybookAction(name: title, run: argv, target: .db, timeout: 3600, tags: [.optimizeTables],
                                    reversible: false, safe: true)
        }
        var playbook = Playbook(name: name, title: title, platform: platform, trigger: .manual, actions: [action],
                                notifications: PlaybookNotifications(dashboard: title, slack: true), premiumOnly: true,
                                file: "(built by perfbot)")
        playbook.databaseChange = self
        return playbook
    }
}
