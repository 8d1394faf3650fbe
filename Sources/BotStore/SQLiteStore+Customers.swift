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
            for customer in customers {
                try db.execute(sql: """
                    INSERT INTO customers (id, platform, plan, plan_premium, contact_email, url, container, host, executor,
                        automation_level, automation_exceptions, memory_limit_mb, cpu_cores, disk_limit_gb,
                        catalog_size, orders_per_day, active, created_at, updated_at, probes, settings, platform_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        platform = excluded.platform, plan = excluded.plan, plan_premium = excluded.plan_premium, contact_email = excluded.contact_email,
                        url = excluded.url, container = excluded.container, host = excluded.host,
                        executor = excluded.executor, automation_level = excluded.automation_level,
                        automation_exceptions = excluded.automation_exceptions,
                        memory_limit_mb = excluded.memory_limit_mb, cpu_cores = excluded.cpu_cores,
                        disk_limit_gb = excluded.disk_limit_gb, catalog_size = excluded.catalog_size,
                        orders_per_day = excluded.orders_per_day, active = excluded.active,
                        updated_at = excluded.updated_at, probes = excluded.probes, settings = excluded.settings,
                        platform_name = excluded.platform_name
                    """, arguments: [
                        customer.id.rawValue, customer.platform.rawValue, customer.plan.rawValue, customer.plan.isPremium,
                        customer.contactEmail, customer.url, customer.container, customer.host,
                        customer.executor.rawValue, customer.automationLevel.rawValue,
                        try jsonText(customer.automationExceptions), customer.limits.memoryMB,
                        customer.limits.cpuCores, customer.limits.diskGB, customer.catalogSize,
                        customer.ordersPerDay, customer.active, now.unixSeconds, now.unixSeconds,
                        try jsonText(customer.probes.map(\.rawValue).sorted()), try jsonText(customer.settings),
                        customer.platform.displayName,
                    ])
            }
        }
    }

    public func allCustomers() async throws -> [Customer] {
        try await pool.read { db in try Self.allCustomers(db) }
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
        orders_per_day, active
        """

    static func customer(from row: Row) -> Customer? {
        guard let id = StoreID(row[0]), let raw = Platform(rawValue: row[1]),
              let plan = Plan(row[2], premium: row[3] as Bool? ?? false) else { return nil }
        // Most stores have no exceptions and the default probes: the empty lists are read without a decoder.
        func list(_ text: String) -> [String] {
            text == "[]" ? [] : (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
        }
        let exceptions = list(row[4])
        let probes = Set(list(row[5] ?? "[]").compactMap(ProbeKind.init(rawValue:)))
        let settingsText: String = row[6] ?? "{}"
        let settings = settingsText == "{}" ? [:]
            : (try? JSONDecoder().decode([String: String].self, from: Data(settingsText.utf8))) ?? [:]
        // The name people use for the platform was kept with the store (the packs' list is not the database's).
        let platform = (row[7] as String?).map { Platform(raw.rawValue, displayName: $0) } ?? raw
        return Customer(
            id: id, platform: platform, plan: plan, contactEmail: row[8],
            url: row[9], container: row[10], host: row[11],
            executor: ExecutorKind(rawValue: row[12]) ?? .docker,
            automationLevel: AutomationLevel(rawValue: row[13]) ?? .safeAutoFix,
            automationExceptions: exceptions,
            limits: ResourceLimits(memoryMB: row[14], cpuCores: row[15], diskGB: row[16]),
            catalogSize: row[17], ordersPerDay: row[18], active: row[19], probes: probes,
            settings: settings)
    }
}

/// JSON text of an encodable value, for JSON columns.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
