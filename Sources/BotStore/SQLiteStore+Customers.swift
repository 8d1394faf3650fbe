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
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM customers ORDER BY id")).compactMap(customer(from:))
    }

    static func customer(_ db: Database, _ id: StoreID) throws -> Customer? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM customers WHERE id = ?"), arguments: [id.rawValue])
            .flatMap(customer(from:))
    }

    /// The store names that exist, for validating pushed samples.
    public func knownStores() async throws -> Set<StoreID> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM customers").compactMap(StoreID.init))
        }
    }

    static func customer(from row: Row) -> Customer? {
        guard let id = StoreID(row["id"]), let raw = Platform(rawValue: row["platform"]),
              let plan = Plan(row["plan"], premium: row["plan_premium"] as Bool? ?? false) else { return nil }
        let exceptionsText: String = row["automation_exceptions"]
        let exceptions = (try? JSONDecoder().decode([String].self, from: Data(exceptionsText.utf8))) ?? []
        let probesText: String = row["probes"] ?? "[]"
        let probes = Set(((try? JSONDecoder().decode([String].self, from: Data(probesText.utf8))) ?? [])
            .compactMap(ProbeKind.init(rawValue:)))
        let settingsText: String = row["settings"] ?? "{}"
        let settings = settingsText == "{}" ? [:]
            : (try? JSONDecoder().decode([String: String].self, from: Data(settingsText.utf8))) ?? [:]
        // The name people use for the platform was kept with the store (the packs' list is not the database's).
        let platform = (row["platform_name"] as String?).map { Platform(raw.rawValue, displayName: $0) } ?? raw
        return Customer(
            id: id, platform: platform, plan: plan, contactEmail: row["contact_email"],
            url: row["url"], container: row["container"], host: row["host"],
            executor: ExecutorKind(rawValue: row["executor"]) ?? .docker,
            automationLevel: AutomationLevel(rawValue: row["automation_level"]) ?? .safeAutoFix,
            automationExceptions: exceptions,
            limits: ResourceLimits(memoryMB: row["memory_limit_mb"], cpuCores: row["cpu_cores"],
                                   diskGB: row["disk_limit_gb"]),
            catalogSize: row["catalog_size"], ordersPerDay: row["orders_per_day"], active: row["active"], probes: probes,
            settings: settings)
    }
}

/// JSON text of an encodable value, for JSON columns.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
