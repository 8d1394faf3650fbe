import BotCore
import Foundation

/// The closed set of values a playbook may place into an argv element, each with a strict pattern.
public enum TemplateVariable: String, Sendable, CaseIterable {
    case store
    case container
    case host
    case appPath = "app_path"
    case dbName = "db_name"
    case phpFpmService = "php_fpm_service"
    case varnishURL = "varnish_url"
    /// The MySQL/MariaDB slow query log, read by the slow-log collector (premium).
    case slowLog = "slow_log"
    /// The nginx or Apache access log (combined or common format), read by the traffic collector (premium).
    case accessLog = "access_log"
    /// The database account `/perf explain` and `/perf tables` use: it should only have SELECT.
    case dbReadonlyUser = "db_readonly_user"
    /// The account the store's application uses: slow-log entries of other accounts are not the store's, and
    /// `pt-kill` matches only it.
    case dbUser = "db_user"
    /// An option file on the store's side for the database reads (credentials of `db_readonly_user`); without
    /// one, the client reads no option file at all (`--no-defaults`).
    case dbOptionFile = "db_option_file"
    /// The store's database client: `mariadb` (default; `--sandbox`) or `mysql` (8.0.40+; `--skip-system-command`).
    case dbClient = "db_client"
    /// The directory PHP-FPM reads extra ini files from (its conf.d), where perfbot writes the PHP settings it changes.
    case phpIniDir = "php_ini_dir"
    /// Where the store's PHP-FPM pool takes FastCGI requests: `127.0.0.1:9000` or a socket's path.
    case phpFpmListen = "php_fpm_listen"
    /// The pool's `pm.max_children`: how many PHP workers may run at once (the memory guardrail multiplies by it).
    case phpMaxChildren = "php_max_children"
    /// `yes` when the store's deploys reset OPcache (`opcache_reset()` or a PHP-FPM reload), so timestamps may go unchecked.
    case deployResetsOpcache = "deploy_resets_opcache"
    /// The directory the web server serves the store from (its `robots.txt`): the app for WordPress, `pub/` for Magento.
    case webRoot = "web_root"
    /// An nginx file included in the store's `server` block, where perfbot adds the denies of abusive crawlers.
    case nginxDenyFile = "nginx_deny_file"
    /// How a database setting is made: `PERSIST` on MySQL 8 (it survives a restart), `GLOBAL` on MariaDB (which has no
    /// `SET PERSIST`). Derived from `db_client`, never set by hand.
    case dbSetScope = "db_set_scope"
    /// The plan an intervention moves the store to (a declared plan name).
    case plan
    /// The cache an intervention provisions: `redis` or `varnish`.
    case cache

    /// The variables a store may set for itself in the customers file (`settings:`); the others come from
    /// the store's own fields.
    public static let storeSettings: [TemplateVariable] = [.appPath, .dbName, .phpFpmService, .varnishURL, .slowLog, .accessLog,
                                                           .dbReadonlyUser, .dbOptionFile, .dbClient, .dbUser, .phpIniDir, .phpFpmListen,
                                                           .phpMaxChildren, .deployResetsOpcache, .webRoot, .nginxDenyFile]

    /// Whether `value` may be placed into an argv element for this variable.
    ///
    /// Every pattern refuses a leading `-` (it would read as an option), whitespace, quotes,
    /// `;`, `&`, `|`, `$`, backticks, newlines and `..`.
    public func accepts(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 255, !value.hasPrefix("-"), !value.contains("..") else { return false }
        let scalars = value.unicodeScalars
        func only(_ extra: String) -> Bool {
            scalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || extra.unicodeScalars.contains($0)) }
        }
        switch self {
        case .store: return StoreID.isValid(value)
        case .container: return only("_.-")
        case .host: return only(".-") && !value.hasPrefix(".")
        case .appPath, .slowLog, .accessLog, .dbOptionFile, .phpIniDir, .webRoot, .nginxDenyFile: return value.hasPrefix("/") && only("/_.-") && !value.contains("//")
        case .dbReadonlyUser, .dbUser: return only("_") && value.count <= 80
        case .dbClient: return value == "mariadb" || value == "mysql"
        case .phpFpmListen:
            if value.hasPrefix("/") { return only("/_.-") && !value.contains("//") }
            return only(".-:") && value.contains(":") && value.count <= 100
        case .phpMaxChildren: return value.count <= 4 && value.allSatisfy(\.isASCII) && Int(value).map { $0 > 0 } == true
        case .deployResetsOpcache: return value == "yes" || value == "no"
        case .dbSetScope: return value == "PERSIST" || value == "GLOBAL"
        case .plan: return Plan.isValidName(value)
        case .cache: return PremiumCache(rawValue: value) != nil
        case .dbName: return only("_") && value.count <= 64
        case .phpFpmService: return only(".-@") && value.count <= 64
        case .varnishURL:
            guard value.hasPrefix("http://") || value.hasPrefix("https://") else { return false }
            return only(":/._-")
        }
    }
}

/// Values for a playbook's placeholders, validated when they are set.
public struct TemplateValues: Sendable, Equatable {
    public private(set) var values: [TemplateVariable: String] = [:]

    public init() {}

    /// Sets `variable` to `value` after checking its pattern.
    /// - Throws: `PlaybookError.unsafeValue` naming the variable (never echoing the value into a command).
    public mutating func set(_ variable: TemplateVariable, _ value: String) throws(PlaybookError) {
        guard variable.accepts(value) else { throw .unsafeValue(variable: variable.rawValue) }
        values[variable] = value
    }

    public subscript(_ variable: TemplateVariable) -> String? { values[variable] }
}

/// Places values into argv templates; the template's shape was checked when the playbook was loaded.
public enum ArgvTemplate {
    /// The `{name}` placeholders in `element`; nil when braces are unbalanced or nested.
    public static func placeholders(in element: String) -> [String]? {
        var names: [String] = []
        var current: String?
        for character in element {
            switch character {
            case "{":
                guard current == nil else { return nil }
                current = ""
            case "}":
                guard let name = current else { return nil }
                names.append(name)
                current = nil
            default:
                current?.append(character)
            }
        }
        return current == nil ? names : nil
    }

    /// The argv with every placeholder replaced by its validated value.
    /// - Throws: `PlaybookError.missingValue` when a placeholder has no value for this store.
    public static func render(_ template: [String], with values: TemplateValues) throws(PlaybookError) -> [String] {
        var argv: [String] = []
        for element in template {
            var output = ""
            var name: String?
            for character in element {
                if character == "{" {
                    name = ""
                } else if character == "}", let placeholder = name {
                    guard let variable = TemplateVariable(rawValue: placeholder), let value = values[variable] else {
                        throw .missingValue(variable: placeholder)
                    }
                    output += value
                    name = nil
                } else if name != nil {
                    name?.append(character)
                } else {
                    output.append(character)
                }
            }
            argv.append(output)
        }
        return argv
    }
}

/// Why a playbook cannot run for a store, in words safe for chat.
public enum PlaybookError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A value failed its variable's pattern.
    case unsafeValue(variable: String)
    /// The store has no value for a placeholder the playbook uses.
    case missingValue(variable: String)
    /// No playbook of that name for the platform.
    case unknownPlaybook(String)
    /// The store's executor cannot reach it (no container, no host).
    case unreachable(String)
    /// A step runs one of the hosting company's tools, and the operator configured none (its setting's name).
    case notConfigured(String)

    public var description: String {
        switch self {
        case let .unsafeValue(variable): "the store's \(variable) is not a safe value for a command; fix it in the customers file"
        case let .missingValue(variable): "the store has no \(variable); set it in the customers file"
        case let .unknownPlaybook(name): "there is no playbook named \(name)"
        case let .unreachable(reason): reason
        case let .notConfigured(variable): "it runs the hosting company's own tool, and \(variable) is not set on perfbot's host"
        }
    }
}
