import BotCore
import Foundation

/// The one way perfbot starts a store's database client: argv only, the statement in one element, and a
/// client that interprets nothing of it. `--binary-mode` turns off the client's own commands (`\!` runs a
/// shell, `\.` reads a file) in `--execute` text; `--sandbox` (MariaDB) or `--skip-system-command` (MySQL
/// 8.0.40+) refuses them once more; `--no-defaults` (first, as the client requires) keeps it from reading any
/// option file in a HOME it does not own, unless the store names its own private one (`db_option_file`).
public enum DatabaseClient {
    /// The client's argv for `statement` as `user` on `database`, with the store's settings.
    public static func argv(_ statement: String, user: String? = nil, database: String? = nil,
                            settings: [String: String], extra: [String] = []) -> [String] {
        var argv = ["mysql"]
        if let file = settings[TemplateVariable.dbOptionFile.rawValue], TemplateVariable.dbOptionFile.accepts(file) {
            argv.append("--defaults-file=\(file)")
        } else {
            argv.append("--no-defaults")
        }
        argv += ["--binary-mode", settings[TemplateVariable.dbClient.rawValue] == "mysql" ? "--skip-system-command" : "--sandbox"]
        if let user { argv.append("--user=\(user)") }
        if let database { argv.append("--database=\(database)") }
        return argv + ["--batch"] + extra + ["--execute=\(statement)"]
    }
}
