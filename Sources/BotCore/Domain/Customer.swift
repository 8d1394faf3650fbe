import Foundation

/// The e-commerce platform a store runs on: whichever platform pack declares it. The core names none; the packs
/// (WooCommerce, Magento, a third in a folder of its own) say which exist, and the wiring passes their list to what
/// checks input (the customers file, playbooks, command choices). No list of platforms is global.
public struct Platform: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name in the customers file, playbooks and the database (`woocommerce`).
    public let rawValue: String
    /// The name people use for it: the pack's (`WooCommerce`), or the raw name capitalised where only that is known.
    public let displayName: String

    /// A platform named `rawValue`: 1–32 lowercase letters, digits, `_` or `-`. Whether a pack handles it is for
    /// the packs' list to say, asked where input is checked.
    public init?(rawValue: String) {
        guard (1...32).contains(rawValue.utf8.count),
              rawValue.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }) else { return nil }
        self.rawValue = rawValue
        self.displayName = rawValue.capitalized
    }

    /// A platform a pack declares, with the name people use for it.
    public init(_ rawValue: String, displayName: String) {
        self.rawValue = rawValue
        self.displayName = displayName
    }

    /// This platform with the name its pack gives it, when `known` (the packs' platforms) holds it.
    public func named(among known: [Platform]) -> Platform { known.first { $0 == self } ?? self }

    public var description: String { rawValue }
    public static func < (lhs: Platform, rhs: Platform) -> Bool { lhs.rawValue < rhs.rawValue }
    public static func == (lhs: Platform, rhs: Platform) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

/// A hosting plan: a declared name (`basic`, `premium`, or one of `PERFBOT_PLANS`) and whether it has the
/// premium features. A plan perfbot was not told about is no plan at all, never premium by default.
public struct Plan: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    /// Premium-only features (database tools, the slow-log collector) are open to it.
    public let isPremium: Bool
    public static let basic = Plan(validated: "basic", premium: false)
    public static let premium = Plan(validated: "premium", premium: true)

    /// A plan name: 1–32 lowercase letters, digits, `-` or `_`.
    public static func isValidName(_ name: String) -> Bool {
        (1...32).contains(name.count) && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
    }

    /// A plan of that name and tier; nil when the name is not a plan name.
    public init?(_ name: String, premium: Bool) {
        guard Self.isValidName(name) else { return nil }
        self.init(validated: name, premium: premium)
    }

    private init(validated: String, premium: Bool) {
        rawValue = validated
        isPremium = premium
    }

    public var description: String { rawValue }
}

/// The plans perfbot knows: `basic` and `premium`, and those the operator declares (`PERFBOT_PLANS`,
/// `gold:premium,starter:basic`). The customers file may name only these.
public struct PlanCatalog: Sendable, Equatable {
    public private(set) var plans: [String: Plan]

    public static let standard = PlanCatalog(plans: [Plan.basic.rawValue: .basic, Plan.premium.rawValue: .premium])

    init(plans: [String: Plan]) { self.plans = plans }

    /// `name:tier` pairs separated by commas, tier `basic` or `premium`, over the two standard plans.
    /// - Returns: the catalog, or the entry at fault.
    public static func parse(_ text: String) -> Result<PlanCatalog, BotError> {
        var catalog = standard
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: ":").map(String.init)
            guard parts.count == 2, parts[1] == "basic" || parts[1] == "premium",
                  let plan = Plan(parts[0].lowercased(), premium: parts[1] == "premium") else {
                return .failure(.invalid("`\(entry.prefix(40))`: expected name:basic or name:premium"))
            }
            catalog.plans[plan.rawValue] = plan
        }
        return .success(catalog)
    }

    public func plan(named name: String) -> Plan? { plans[name.lowercased()] }
    public var names: [String] { plans.keys.sorted() }
}

/// How much perfbot may do on its own for a customer (ORIGINAL-DESIGN §2.1).
public enum AutomationLevel: Int, Sendable, CaseIterable, Comparable {
    /// Detect and alert, never act.
    case notifyOnly = 1
    /// Apply safe or reversible fixes, ask for the rest.
    case safeAutoFix = 2
    /// Apply everything, restarts included.
    case fullAuto = 3

    public var name: String {
        switch self {
        case .notifyOnly: "notify only"
        case .safeAutoFix: "safe auto-fix"
        case .fullAuto: "full auto"
        }
    }

    public static func < (lhs: AutomationLevel, rhs: AutomationLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where a store's commands run.
public enum ExecutorKind: String, Sendable, CaseIterable {
    case local, docker, ssh
}

/// A collector perfbot runs for a store each check cycle.
public enum ProbeKind: String, Sendable, CaseIterable, Comparable {
    /// A timed request to the store's URL (TTFB, availability).
    case http
    /// `redis-cli INFO` in the store's container (hit rate, memory).
    case redis
    /// `varnishstat -j` (hit rate).
    case varnish
    /// PHP-FPM's status page (busy workers).
    case phpFpm = "php_fpm"
    /// `SHOW GLOBAL STATUS` (connections, slow queries).
    case mysql
    /// The slow query log, read incrementally into `slow_queries` (premium; `slow_log` in the store's settings).
    case slowLog = "slow_log"
    /// The web server's access log, read incrementally into hourly traffic (premium; `access_log` in the settings).
    case accessLog = "access_log"
    /// The platform pack's own readings (WordPress autoload and cron; Magento indexers and cache types).
    case platform
    /// Lighthouse against the store's url, every 6 hours at a time of the store's own (from perfbot's host).
    case lighthouse
    /// `docker stats` of the store's container, on perfbot's host (where `docker exec` reaches it).
    case docker
    /// cgroup v2 inside the container (`memory.current`, `memory.max`, `memory.events`, `cpu.stat`) and `df` of the app path.
    case cgroup

    public static func < (lhs: ProbeKind, rhs: ProbeKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Resource limits of a customer's plan.
public struct ResourceLimits: Sendable, Equatable {
    public var memoryMB: Int?
    public var cpuCores: Double?
    public var diskGB: Int?

    public init(memoryMB: Int? = nil, cpuCores: Double? = nil, diskGB: Int? = nil) {
        self.memoryMB = memoryMB
        self.cpuCores = cpuCores
        self.diskGB = diskGB
    }
}

/// A hosted store and what perfbot knows about its owner.
public struct Customer: Sendable, Equatable, Identifiable {
    public var id: StoreID
    public var platform: Platform
    public var plan: Plan
    public var contactEmail: String
    public var url: String?
    public var container: String?
    public var host: String?
    public var executor: ExecutorKind
    public var automationLevel: AutomationLevel
    public var automationExceptions: [String]
    public var limits: ResourceLimits
    public var catalogSize: Int?
    public var ordersPerDay: Int?
    public var active: Bool
    /// The collectors to run for it each cycle.
    public var probes: Set<ProbeKind>
    /// Its own values for playbook placeholders (`app_path`, `db_name`, …), over the platform's defaults.
    public var settings: [String: String]
    /// Its weekly maintenance window, when configured (else derived from its traffic once measured).
    public var maintenanceWindow: MaintenanceWindow?

    public init(
        id: StoreID, platform: Platform, plan: Plan, contactEmail: String,
        url: String? = nil, container: String? = nil, host: String? = nil,
        executor: ExecutorKind = .docker, automationLevel: AutomationLevel = .safeAutoFix,
        automationExceptions: [String] = [], limits: ResourceLimits = .init(),
        catalogSize: Int? = nil, ordersPerDay: Int? = nil, active: Bool = true, probes: Set<ProbeKind> = [],
        settings: [String: String] = [:], maintenanceWindow: MaintenanceWindow? = nil
    ) {
        self.maintenanceWindow = maintenanceWindow
        self.probes = probes
        self.settings = settings
        self.id = id
        self.platform = platform
        self.plan = plan
        self.contactEmail = contactEmail
        self.url = url
        self.container = container
        self.host = host
        self.executor = executor
        self.automationLevel = automationLevel
        self.automationExceptions = automationExceptions
        self.limits = limits
        self.catalogSize = catalogSize
        self.ordersPerDay = ordersPerDay
        self.active = active
    }
}
