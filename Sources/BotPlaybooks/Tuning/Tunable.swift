import BotCore
import Foundation

/// The service a setting belongs to.
public enum TunedService: String, Sendable, CaseIterable {
    case php, mysql, redis, varnish

    public var displayName: String {
        switch self {
        case .php: "PHP"
        case .mysql: "MySQL/MariaDB"
        case .redis: "Redis"
        case .varnish: "Varnish"
        }
    }
}

/// One setting of a store's service that perfbot can change (ORIGINAL-DESIGN §1.4), as a platform pack declares it:
/// its safe range, how to read it, how to apply a value (argv only, with the validated value placed in), and how the
/// service writes it back. The ranges live in the packs, not in the core.
public struct Tunable: Sendable {
    /// What a value may be.
    public enum Domain: Sendable {
        /// A size in bytes, written `256mb`, `1gb`, `128M` or a number of bytes, within these bounds.
        case bytes(ClosedRange<Int64>)
        case integer(ClosedRange<Int64>)
        /// A number of seconds with up to 3 decimals.
        case seconds(ClosedRange<Double>)
        case choice([String])
    }

    /// `redis.maxmemory`.
    public var id: String
    public var service: TunedService
    /// `maxmemory`, as the service names it.
    public var key: String
    /// What it does, in words.
    public var help: String
    public var domain: Domain
    /// Reads the value now (one line of output holds it).
    public var read: [String]
    /// Applies `{value}`: one or more argv, run in order.
    public var apply: [[String]]
    /// The value in the service's own answer to `read`, normalised like a value given; nil when it is not there.
    public var parse: @Sendable (String) -> String?
    /// The names of the application steps, where the default ("Set …", then "Keep it across restarts") does not fit;
    /// `{value}` is the value as a person reads it.
    public var stepNames: [String] = []
    /// A normalised value as the service's own configuration writes it (`256M` for PHP's 268435456 bytes).
    public var written: @Sendable (String) -> String

    public init(id: String, service: TunedService, key: String, help: String, domain: Domain, read: [String], apply: [[String]],
                parse: @escaping @Sendable (String) -> String?, written: @escaping @Sendable (String) -> String = { $0 }) {
        self.written = written
        self.id = id
        self.service = service
        self.key = key
        self.help = help
        self.domain = domain
        self.read = read
        self.apply = apply
        self.parse = parse
    }

    /// The range or choices, in words: `1mb–2gb`, `allkeys-lru, volatile-lru, …`.
    public var allowed: String {
        switch domain {
        case let .bytes(range): "\(Self.bytesText(range.lowerBound))–\(Self.bytesText(range.upperBound))"
        case let .integer(range): "\(range.lowerBound)–\(range.upperBound)"
        case let .seconds(range): "\(Wording.number(range.lowerBound, decimals: 3))–\(Wording.number(range.upperBound, decimals: 3)) s"
        case let .choice(values): values.joined(separator: ", ")
        }
    }

    /// The value as perfbot applies and compares it (`268435456` for `256mb`), or why it is refused.
    public func normalise(_ text: String) -> Result<String, TuningRefusal> {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch domain {
        case let .bytes(range):
            guard let bytes = Self.bytes(trimmed) else {
                return .failure(.init("`\(text.prefix(20))` is not a size: write it like 256mb or 1gb"))
            }
            guard range.contains(bytes) else {
                return .failure(.init("\(id) must lie between \(allowed); \(Self.bytesText(bytes)) is outside that range"))
            }
            return .success("\(bytes)")
        case let .integer(range):
            guard let number = Int64(trimmed) else { return .failure(.init("`\(text.prefix(20))` is not a whole number")) }
            guard range.contains(number) else {
                return .failure(.init("\(id) must lie between \(allowed); \(number) is outside that range"))
            }
            return .success("\(number)")
        case let .seconds(range):
            guard let number = Double(trimmed), number.isFinite else { return .failure(.init("`\(text.prefix(20))` is not a number of seconds")) }
            guard range.contains(number) else {
                return .failure(.init("\(id) must lie between \(allowed); \(Wording.number(number, decimals: 3)) s is outside that range"))
            }
            return .success(String(format: "%.6f", (number * 1000).rounded() / 1000))
        case let .choice(values):
            guard values.contains(trimmed) else { return .failure(.init("\(id) is one of \(allowed), not `\(text.prefix(30))`")) }
            return .success(trimmed)
        }
    }

    /// The value as a person reads it (`256mb`).
    public func shown(_ value: String) -> String {
        if case .bytes = domain, let bytes = Int64(value) { return bytes < 0 ? "unlimited" : Self.bytesText(bytes) }
        if case .seconds = domain, let seconds = Double(value) { return "\(Wording.number(seconds, decimals: 3)) s" }
        return value
    }

    /// Every argv of an application of `value` (validated: digits, or one of the declared choices).
    public func applying(_ value: String) -> [[String]] {
        let value = written(value)
        return apply.map { argv in argv.map { $0.replacingOccurrences(of: "{value}", with: value) } }
    }

    static func bytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("gb", 1 << 30), ("g", 1 << 30), ("mb", 1 << 20), ("m", 1 << 20), ("kb", 1 << 10), ("k", 1 << 10)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Int64(text.dropLast(suffix.count)), number >= 0, number <= Int64.max / factor else { return nil }
            return number * factor
        }
        return Int64(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    public static func bytesText(_ bytes: Int64) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30)gb" }
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20)mb" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10)kb" }
        return "\(bytes) bytes"
    }
}

/// Why a value or a combination is refused, in words.
public struct TuningRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// What a combination guardrail sees: the store's limits and the current values of its other settings.
public struct TuningContext: Sendable {
    public var customer: Customer
    /// Current values by setting id (normalised), where they could be read.
    public var current: [String: String]

    /// The PHP-FPM pool's `pm.max_children`, as the customers file gives it.
    public var phpMaxChildren: Int64? {
        customer.settings[TemplateVariable.phpMaxChildren.rawValue].flatMap(Int64.init).flatMap { $0 > 0 ? $0 : nil }
    }

    public init(customer: Customer, current: [String: String]) {
        self.customer = customer
        self.current = current
    }
}

/// A rule over a combination of settings: the reason a change is refused, or nil.
public struct TuningGuardrail: Sendable {
    public var name: String
    public var check: @Sendable (_ setting: String, _ value: String, _ context: TuningContext) -> String?

    public init(name: String, check: @escaping @Sendable (_ setting: String, _ value: String, _ context: TuningContext) -> String?) {
        self.name = name
        self.check = check
    }
}

/// The settings a pack offers and the rules over their combinations.
public struct TuningCatalogue: Sendable {
    public var settings: [Tunable]
    public var guardrails: [TuningGuardrail]
    /// How the platform's cron is listed, run and switched; nil where the pack declares none.
    public var cron: CronSupport?

    public init(settings: [Tunable], guardrails: [TuningGuardrail], cron: CronSupport? = nil) {
        self.settings = settings
        self.guardrails = guardrails
        self.cron = cron
    }

    public static let empty = TuningCatalogue(settings: [], guardrails: [])

    public func setting(_ id: String) -> Tunable? { settings.first { $0.id == id.lowercased() } }

    /// `value` checked against the setting's range and every combination rule. - Returns: the normalised value.
    public func check(_ id: String, _ value: String, context: TuningContext) -> Result<String, TuningRefusal> {
        guard let setting = setting(id) else {
            return .failure(.init("there is no setting `\(id.prefix(40))`; settings: " + settings.map(\.id).joined(separator: ", ")))
        }
        switch setting.normalise(value) {
        case let .failure(refusal): return .failure(refusal)
        case let .success(normalised):
            for rule in guardrails {
                if let reason = rule.check(setting.id, normalised, context) { return .failure(.init(reason)) }
            }
            return .success(normalised)
        }
    }

    /// The job's playbook for `change`: each application step, then the value read back (which must match).
    public func playbook(for change: TuningChange, platform: Platform) -> Playbook? {
        guard let setting = setting(change.setting) else { return nil }
        let steps = setting.applying(change.value)
        var actions = steps.enumerated().map { index, argv in
            PlaybookAction(name: index < setting.stepNames.count
                               ? setting.stepNames[index].replacingOccurrences(of: "{value}", with: setting.shown(change.value))
                               : index == 0 ? "Set \(setting.service.displayName) \(setting.key) to \(setting.shown(change.value))"
                                            : "Keep it across restarts",
                           run: argv, target: setting.service == .mysql ? .db : setting.service == .redis ? .cache : .app,
                           timeout: 30, tags: [.rewrite], reversible: true, safe: false)
        }
        actions.append(PlaybookAction(name: "Read \(setting.key) back", run: setting.read,
                                      target: setting.service == .mysql ? .db : setting.service == .redis ? .cache : .app,
                                      timeout: 30, tags: [.readOnly], reversible: true, safe: true))
        let was = change.previous.map { " (was \(setting.shown($0)))" } ?? ""
        var playbook = Playbook(name: change.name, title: "Set \(setting.id) to \(setting.shown(change.value))\(was)", platform: platform,
                                trigger: .manual, actions: actions,
                                notifications: PlaybookNotifications(dashboard: "\(setting.service.displayName) \(setting.key) set to "
                                    + setting.shown(change.value), slack: true),
                                premiumOnly: true, file: "(built by perfbot)")
        playbook.tuningChange = change
        return playbook
    }
}
