import BotCore
import BotPlaybooks
import Foundation
import Yams

/// One problem in a customers file, with the line it is on.
public struct CustomerFileProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// Reads a customers file (YAML, or CSV with the same column names) into validated customers.
public enum CustomerFile {
    static let fields: Set<String> = [
        "id", "platform", "plan", "contact_email", "url", "container", "host", "executor", "automation_level",
        "automation_exceptions", "limits", "catalog_size", "orders_per_day", "active", "probes", "settings",
        "maintenance_window",
    ]
    static let limitFields: Set<String> = ["memory_mb", "cpu_cores", "disk_gb"]
    /// The store's own playbook values, under `settings:` in YAML, as columns of those names in CSV.
    static let settingFields: Set<String> = Set(TemplateVariable.storeSettings.map(\.rawValue))
    /// Fields nested under a mapping in YAML and flat in CSV.
    static var nestedFields: Set<String> { limitFields.union(settingFields) }

    /// Parses `text`; CSV when `isCSV`, else YAML.
    /// - Throws: every problem found, each with its line, as `[CustomerFileProblem]`.
    public static func parse(_ text: String, isCSV: Bool, plans: PlanCatalog = .standard) throws(CustomerFileErrors) -> [Customer] {
        let records = isCSV ? try csvRecords(text) : try yamlRecords(text)
        var customers: [Customer] = []
        var problems: [CustomerFileProblem] = []
        var seen: [StoreID: Int] = [:]
        for record in records {
            do {
                let customer = try validate(record, plans: plans)
                if let first = seen[customer.id] {
                    throw CustomerFileProblem(line: record.line, message: "id '\(customer.id)' already appears on line \(first)")
                }
                seen[customer.id] = record.line
                if let problem = sharedSlowLog(customer, line: record.line, among: customers, lines: seen) { throw problem }
                customers.append(customer)
            } catch let problem as CustomerFileProblem {
                problems.append(problem)
            } catch {
                problems.append(CustomerFileProblem(line: record.line, message: "\(error)"))
            }
        }
        guard problems.isEmpty else { throw CustomerFileErrors(problems: problems) }
        return customers
    }

    /// A slow log is server-wide: two stores reading the same file must each name their own `db_name`, or each
    /// would be shown (and act on) the other's queries.
    static func sharedSlowLog(_ customer: Customer, line: Int, among earlier: [Customer], lines: [StoreID: Int]) -> CustomerFileProblem? {
        let key = TemplateVariable.slowLog.rawValue, name = TemplateVariable.dbName.rawValue
        guard let path = customer.settings[key] else { return nil }
        func place(_ c: Customer) -> String { "\(c.executor.rawValue):\(c.host ?? c.container ?? "")" }
        for other in earlier where other.settings[key] == path && place(other) == place(customer) {
            guard let mine = customer.settings[name], let theirs = other.settings[name], mine != theirs else {
                return CustomerFileProblem(line: line, message: "settings.slow_log: '\(customer.id)' reads the same slow log as '\(other.id)' "
                    + "(line \(lines[other.id] ?? 0)); give each its own db_name so each sees only its own database's queries")
            }
        }
        return nil
    }

    /// One customer's raw fields with the line of each.
    struct Record {
        var line: Int
        var values: [String: (value: String, line: Int)]
        var lists: [String: [String]]
    }

    static func yamlRecords(_ text: String) throws(CustomerFileErrors) -> [Record] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            let line = (error as? YamlError).flatMap(yamlErrorLine) ?? 1
            throw CustomerFileErrors(problems: [CustomerFileProblem(line: line, message: "not valid YAML")])
        }
        guard let list = root?.mapping?["customers"]?.sequence else {
            throw CustomerFileErrors(problems: [CustomerFileProblem(line: 1, message: "expected a top-level 'customers:' list")])
        }
        var records: [Record] = []
        var problems: [CustomerFileProblem] = []
        for item in list {
            let line = item.mark?.line ?? 0
            guard let mapping = item.mapping else {
                problems.append(CustomerFileProblem(line: line, message: "each customer is a mapping of fields"))
                continue
            }
            var record = Record(line: line, values: [:], lists: [:])
            for (key, value) in mapping {
                let name = key.string ?? ""
                let keyLine = key.mark?.line ?? line
                if name == "limits" || name == "settings" {
                    let allowed = name == "limits" ? limitFields : settingFields
                    guard let nested = value.mapping else {
                        problems.append(CustomerFileProblem(line: keyLine, message: "\(name): expected \(allowed.sorted().joined(separator: ", "))"))
                        continue
                    }
                    for (nestedKey, nestedValue) in nested {
                        let nestedName = nestedKey.string ?? ""
                        let nestedLine = nestedKey.mark?.line ?? keyLine
                        guard allowed.contains(nestedName) else {
                            problems.append(CustomerFileProblem(line: nestedLine, message: "\(name): unknown field '\(nestedName)' "
                                + "(expected \(allowed.sorted().joined(separator: ", ")))"))
                            continue
                        }
                        record.values[nestedName] = (nestedValue.string ?? "", nestedLine)
                    }
                } else if let sequence = value.sequence {
                    record.lists[name] = sequence.compactMap(\.string)
                    record.values[name] = ("", keyLine)
                } else {
                    record.values[name] = (value.string ?? "", keyLine)
                }
            }
            records.append(record)
        }
        guard problems.isEmpty else { throw CustomerFileErrors(problems: problems) }
        return records
    }

    static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): mark.line
        default: nil
        }
    }

    static func csvRecords(_ text: String) throws(CustomerFileErrors) -> [Record] {
        let rows = CSVReader.rows(text)
        guard let header = rows.first else {
            throw CustomerFileErrors(problems: [CustomerFileProblem(line: 1, message: "the file is empty")])
        }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        for column in columns where !fields.contains(column) && !nestedFields.contains(column) {
            throw CustomerFileErrors(problems: [CustomerFileProblem(line: header.line, message: "unknown column '\(column)'")])
        }
        var records: [Record] = []
        var problems: [CustomerFileProblem] = []
        for row in rows.dropFirst() where !(row.fields.count == 1 && row.fields[0].isEmpty) {
            guard row.fields.count == columns.count else {
                problems.append(CustomerFileProblem(line: row.line,
                    message: "expected \(columns.count) columns, found \(row.fields.count)"))
                continue
            }
            var record = Record(line: row.line, values: [:], lists: [:])
            for (column, value) in zip(columns, row.fields) {
                let trimmed = value.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }
                if column == "automation_exceptions" || column == "probes" {
                    record.lists[column] = trimmed.split(whereSeparator: { $0 == ";" || $0 == " " }).map(String.init)
                }
                record.values[column] = (trimmed, row.line)
            }
            records.append(record)
        }
        guard problems.isEmpty else { throw CustomerFileErrors(problems: problems) }
        return records
    }
}

/// All problems of a customers file.
public struct CustomerFileErrors: Error, Sendable, CustomStringConvertible {
    public let problems: [CustomerFileProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
