import Foundation

/// A change to one of a store's own settings in perfbot, confirmed by its contact: the automation level, an
/// exception, the weekly report. The shape the advanced controls take: what, the new value, and the value before.
public struct SettingChange: Sendable, Equatable, Hashable, Codable {
    public enum Key: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
        /// The automation level, `1`–`3`.
        case level
        /// An exception added (`skip_restarts`).
        case skip
        /// An exception removed.
        case unskip
        /// The weekly report, `on` or `off`.
        case reports
    }

    public var key: Key
    public var value: String
    /// The value when it was proposed, to put back with a revert (nil: not known).
    public var previous: String?

    public init(_ key: Key, _ value: String, previous: String? = nil) {
        self.key = key
        self.value = value
        self.previous = previous
    }

    /// The job's name in lists and the audit log: `setting:level=3`.
    public var name: String { "setting:\(key.rawValue)=\(value)" }

    /// The change that puts the previous value back, when it is known.
    public var revert: SettingChange? { previous.map { SettingChange(key, $0, previous: value) } }
}

/// A change to a store's hosting that only the hosting company's own tooling can make (ORIGINAL-DESIGN §3.4): an
/// intervention playbook run with the value it carries, through a command the operator configured on perfbot's host,
/// and recorded on the store when it succeeds.
public struct HostingChange: Sendable, Equatable, Hashable, Codable {
    /// What it changes, to what.
    public enum Target: Sendable, Equatable, Hashable, Codable {
        /// Move the store to the plan of this name (`PERFBOT_PROVISION_COMMAND`).
        case plan(String)
        /// Give the store a cache of its own (`PERFBOT_CACHING_COMMAND`).
        case caching(PremiumCache)

        public var subject: Subject {
            switch self {
            case .plan: .plan
            case .caching: .cache
            }
        }

        /// The value as its argv placeholder takes it (`{plan}`, `{cache}`).
        public var value: String {
            switch self {
            case let .plan(name): name
            case let .caching(cache): cache.rawValue
            }
        }
    }

    /// Which part of a store a change moves: what an intervention playbook declares it carries (`changes:`).
    public enum Subject: String, Sendable, CaseIterable {
        case plan, cache
    }

    /// The intervention playbook that makes it.
    public var playbook: String
    public var target: Target

    public init(playbook: String, target: Target) {
        self.playbook = playbook
        self.target = target
    }

    /// The job's name in lists and the audit log: `migrate_plan:premium`.
    public var name: String { "\(playbook):\(target.value)" }
}

/// A setting of a store's service (ORIGINAL-DESIGN §1.4): which one (`redis.maxmemory`, declared by the store's
/// platform pack with its safe range), the value it is set to (as the pack normalises it), and the value it had,
/// which a revert puts back.
public struct TuningChange: Sendable, Equatable, Hashable, Codable {
    public var setting: String
    public var value: String
    public var previous: String?

    public init(setting: String, value: String, previous: String?) {
        self.setting = setting
        self.value = value
        self.previous = previous
    }

    /// The job's name in lists and the audit log: `tune:redis.maxmemory=256mb`.
    public var name: String { "tune:\(setting)=\(value)" }

    /// The change that puts the previous value back, when it is known.
    public var revert: TuningChange? { previous.map { TuningChange(setting: setting, value: $0, previous: value) } }
}

/// The caches Enable Premium Caching provisions.
public enum PremiumCache: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
    case redis, varnish

    /// The collector that measures it once it is there.
    public var probe: ProbeKind {
        switch self {
        case .redis: .redis
        case .varnish: .varnish
        }
    }
}

/// What a job does: run a playbook, change a setting, or change the store's database. Stored with the job (as
/// JSON), never read back out of its name.
public enum JobKind: Sendable, Equatable, Hashable {
    case playbook(String)
    case setting(SettingChange)
    case database(DatabaseChange)
    /// A change to the store's hosting that the hosting company's own tooling makes (its plan, its cache).
    case hosting(HostingChange)
    /// A setting of one of the store's services (PHP, MySQL, Redis, Varnish) changed, read back, revertible.
    case tuning(TuningChange)
    /// Something done once to a store's services: a Varnish purge, a cron event run or switched, a crawler turned away.
    case operation(ServiceOperation)

    /// The name a job of this kind is listed under.
    public var name: String {
        switch self {
        case let .playbook(name): name
        case let .setting(change): change.name
        case let .database(change): change.name
        case let .hosting(change): change.name
        case let .tuning(change): change.name
        case let .operation(operation): operation.name
        }
    }

    public var isSetting: Bool { if case .setting = self { true } else { false } }

    /// The kind a job or approval written before kinds were stored had, from its name: for the migration only.
    public init(legacyName name: String) {
        if name.hasPrefix("setting:"), let equals = name.firstIndex(of: "="),
           let key = SettingChange.Key(rawValue: String(name[name.index(name.startIndex, offsetBy: 8)..<equals])) {
            self = .setting(SettingChange(key, String(name[name.index(after: equals)...])))
        } else if let change = DatabaseChange(name: name) {
            self = .database(change)
        } else {
            self = .playbook(name)
        }
    }
}

extension JobKind: Codable {
    enum CodingKeys: String, CodingKey { case type, name, setting, database, hosting, tuning, operation }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "playbook": self = .playbook(try container.decode(String.self, forKey: .name))
        case "setting": self = .setting(try container.decode(SettingChange.self, forKey: .setting))
        case "database": self = .database(try container.decode(DatabaseChange.self, forKey: .database))
        case "hosting": self = .hosting(try container.decode(HostingChange.self, forKey: .hosting))
        case "tuning": self = .tuning(try container.decode(TuningChange.self, forKey: .tuning))
        case "operation": self = .operation(try container.decode(ServiceOperation.self, forKey: .operation))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown job kind \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .playbook(name):
            try container.encode("playbook", forKey: .type)
            try container.encode(name, forKey: .name)
        case let .setting(change):
            try container.encode("setting", forKey: .type)
            try container.encode(change, forKey: .setting)
        case let .database(change):
            try container.encode("database", forKey: .type)
            try container.encode(change, forKey: .database)
        case let .hosting(change):
            try container.encode("hosting", forKey: .type)
            try container.encode(change, forKey: .hosting)
        case let .tuning(change):
            try container.encode("tuning", forKey: .type)
            try container.encode(change, forKey: .tuning)
        case let .operation(operation):
            try container.encode("operation", forKey: .type)
            try container.encode(operation, forKey: .operation)
        }
    }
}

extension DatabaseChange: Codable {
    enum CodingKeys: String, CodingKey { case change, table, name, columns, tables }

    /// Read back with every identifier checked again: a stored change is held to the same rules as a new one.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let change: DatabaseChange
        switch try container.decode(String.self, forKey: .change) {
        case "create_index":
            change = .createIndex(table: try container.decode(String.self, forKey: .table),
                                  name: try container.decode(String.self, forKey: .name),
                                  columns: try container.decode([String].self, forKey: .columns))
        case "drop_index":
            change = .dropIndex(table: try container.decode(String.self, forKey: .table), name: try container.decode(String.self, forKey: .name))
        case "optimize":
            change = .optimize(tables: try container.decode([String].self, forKey: .tables))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .change, in: container, debugDescription: "unknown database change \(other)")
        }
        guard change.identifiers.allSatisfy(Self.isIdentifier), (1...16).contains(change.identifiers.count) else {
            throw DecodingError.dataCorruptedError(forKey: .change, in: container, debugDescription: "an identifier is not safe")
        }
        self = change
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .createIndex(table, name, columns):
            try container.encode("create_index", forKey: .change)
            try container.encode(table, forKey: .table)
            try container.encode(name, forKey: .name)
            try container.encode(columns, forKey: .columns)
        case let .dropIndex(table, name):
            try container.encode("drop_index", forKey: .change)
            try container.encode(table, forKey: .table)
            try container.encode(name, forKey: .name)
        case let .optimize(tables):
            try container.encode("optimize", forKey: .change)
            try container.encode(tables, forKey: .tables)
        }
    }

    /// Every identifier it names (tables, index, columns).
    var identifiers: [String] {
        switch self {
        case let .createIndex(table, name, columns): [table, name] + columns
        case let .dropIndex(table, name): [table, name]
        case let .optimize(tables): tables
        }
    }
}
