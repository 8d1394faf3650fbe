import BotCore
import Foundation
import GRDB

extension SQLiteStore: CustomerDirectory {
    /// Inserts `customer`, or updates the row with the same store name.
    public func upsert(_ customer: Customer, at now: Date) async throws {
        try await upsert([customer], at: now)
    }

    /// Inserts or updates every customer in one transaction.
    public func upsert(_ customers: [Customer], at now: Date) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: CustomerRow.upsertSQL(placeholders: Array(repeating: "?", count: CustomerRow.upsertColumns.count)))
            for customer in customers {
                try statement.execute(arguments: StatementArguments(try CustomerRow.values(of: customer, at: now).map(\.databaseValue)))
            }
        }
    }

    /// Every store, read again only when `customers_version` moved since the last read (in this process or another).
    public func allCustomers() async throws -> [Customer] {
        try await pool.read { [customerCache] db in
            let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM customers_version")) ?? -1
            if let held = customerCache.customers(at: version) { return held }
            let customers = try Self.allCustomers(db)
            customerCache.keep(customers, at: version)
            return customers
        }
    }

    public func customer(_ id: StoreID) async throws -> Customer? {
        try await pool.read { db in try Self.customer(db, id) }
    }

    static func allCustomers(_ db: Database) throws -> [Customer] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(customerColumns) FROM customers ORDER BY id")).compactMap(customer(from:))
    }

    static func customer(_ db: Database, _ id: StoreID) throws -> Customer? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(customerColumns) FROM customers WHERE id = ?"), arguments: [id.rawValue])
            .flatMap(customer(from:))
    }

    /// The store names that exist, for validating pushed samples.
    public func knownStores() async throws -> Set<StoreID> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM customers").compactMap(StoreID.init))
        }
    }

    /// The columns `customer(from:)` reads, in its order (by position: a check cycle reads every store each time).
    static let customerColumns = """
        id, platform, plan, plan_premium, automation_exceptions, probes, settings, platform_name, contact_email, url,
        container, host, executor, automation_level, memory_limit_mb, cpu_cores, disk_limit_gb, catalog_size,
        orders_per_day, active, maintenance_window
        """

    static func customer(from row: Row) -> Customer? {
        CustomerRow(id: row[0], platform: row[1], plan: row[2], premium: row[3], exceptions: row[4], probes: row[5],
                    settings: row[6], platformName: row[7], contactEmail: row[8], url: row[9], container: row[10], host: row[11],
                    executor: row[12], automationLevel: row[13], memoryMB: row[14], cpuCores: row[15], diskGB: row[16],
                    catalogSize: row[17], ordersPerDay: row[18], active: row[19], maintenanceWindow: row[20]).customer
    }
}

/// A `customers` row as either engine reads it (`SQLiteStore.customerColumns`, in that order), and the customer it
/// holds: one reading of its JSON columns for both engines.
public struct CustomerRow: Sendable {
    public var id: String, platform: String, plan: String, premium: Bool?, exceptions: String, probes: String?
    public var settings: String?, platformName: String?, contactEmail: String, url: String?, container: String?, host: String?
    public var executor: String, automationLevel: Int, memoryMB: Int?, cpuCores: Double?, diskGB: Int?
    public var catalogSize: Int?, ordersPerDay: Int?, active: Bool, maintenanceWindow: String?

    public init(id: String, platform: String, plan: String, premium: Bool?, exceptions: String, probes: String?,
                settings: String?, platformName: String?, contactEmail: String, url: String?, container: String?, host: String?,
                executor: String, automationLevel: Int, memoryMB: Int?, cpuCores: Double?, diskGB: Int?,
                catalogSize: Int?, ordersPerDay: Int?, active: Bool, maintenanceWindow: String? = nil) {
        self.maintenanceWindow = maintenanceWindow
        (self.id, self.platform, self.plan, self.premium, self.exceptions, self.probes, self.settings) =
            (id, platform, plan, premium, exceptions, probes, settings)
        (self.platformName, self.contactEmail, self.url, self.container, self.host, self.executor) =
            (platformName, contactEmail, url, container, host, executor)
        (self.automationLevel, self.memoryMB, self.cpuCores, self.diskGB, self.catalogSize, self.ordersPerDay, self.active) =
            (automationLevel, memoryMB, cpuCores, diskGB, catalogSize, ordersPerDay, active)
    }

    /// The columns, in the order the initialiser takes them.
    public static let columns = SQLiteStore.customerColumns

    /// The customer, or nil when the row names no valid store, platform or plan.
    public var customer: Customer? {
        guard let id = StoreID(id), let raw = Platform(rawValue: platform), let plan = Plan(plan, premium: premium ?? false) else {
            return nil
        }
        // Most stores have no exceptions and the default probes: the empty lists are read without a decoder.
        func list(_ text: String) -> [String] {
            text == "[]" ? [] : (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
        }
        let probes = Set(list(probes ?? "[]").compactMap(ProbeKind.init(rawValue:)))
        let settingsText = settings ?? "{}"
        let settings = settingsText == "{}" ? [:]
            : (try? JSONDecoder().decode([String: String].self, from: Data(settingsText.utf8))) ?? [:]
        // The name people use for the platform was kept with the store (the packs' list is not the database's).
        let platform = platformName.map { Platform(raw.rawValue, displayName: $0) } ?? raw
        return Customer(
            id: id, platform: platform, plan: plan, contactEmail: contactEmail, url: url, container: container, host: host,
            executor: ExecutorKind(rawValue: executor) ?? .docker,
            automationLevel: AutomationLevel(rawValue: automationLevel) ?? .safeAutoFix,
            automationExceptions: list(exceptions),
            limits: ResourceLimits(memoryMB: memoryMB, cpuCores: cpuCores, diskGB: diskGB),
            catalogSize: catalogSize, ordersPerDay: ordersPerDay, active: active, probes: probes, settings: settings,
            maintenanceWindow: maintenanceWindow.flatMap(MaintenanceWindow.init))
    }

    /// The values `upsert` writes for `customer`, in `upsertColumns` order.
    public static func values(of customer: Customer, at now: Date) throws -> [StoredValue] {
        func optional(_ value: Int?) -> StoredValue { value.map { .integer(Int64($0)) } ?? .null }
        return [
            .text(customer.id.rawValue), .text(customer.platform.rawValue), .text(customer.plan.rawValue),
            .integer(customer.plan.isPremium ? 1 : 0), .text(customer.contactEmail), customer.url.map(StoredValue.text) ?? .null,
            customer.container.map(StoredValue.text) ?? .null, customer.host.map(StoredValue.text) ?? .null,
            .text(customer.executor.rawValue), .integer(Int64(customer.automationLevel.rawValue)),
            .text(try jsonText(customer.automationExceptions)), optional(customer.limits.memoryMB),
            customer.limits.cpuCores.map(StoredValue.real) ?? .null, optional(customer.limits.diskGB),
            optional(customer.catalogSize), optional(customer.ordersPerDay), .integer(customer.active ? 1 : 0),
            .integer(now.unixSeconds), .integer(now.unixSeconds), .text(try jsonText(customer.probes.map(\.rawValue).sorted())),
            .text(try jsonText(customer.settings)), .text(customer.platform.displayName),
            customer.maintenanceWindow.map { .text($0.description) } ?? .null,
        ]
    }

    /// Inserts a customer, or updates every column but its creation time when the store exists.
    public static func upsertSQL(placeholders: [String]) -> String {
        """
        INSERT INTO customers (\(upsertColumns.joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", ")))
        ON CONFLICT (id) DO UPDATE SET
        \(upsertColumns.filter { $0 != "id" && $0 != "created_at" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        """
    }

    /// The columns `values(of:at:)` fills.
    public static let upsertColumns = [
        "id", "platform", "plan", "plan_premium", "contact_email", "url", "container", "host", "executor", "automation_level",
        "automation_exceptions", "memory_limit_mb", "cpu_cores", "disk_limit_gb", "catalog_size", "orders_per_day", "active",
        "created_at", "updated_at", "probes", "settings", "platform_name", "maintenance_window",
    ]
}

/// JSON text of an encodable value, for JSON columns (sorted keys: equal values are equal text).
public func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
