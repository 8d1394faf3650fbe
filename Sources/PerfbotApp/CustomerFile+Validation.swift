import BotCore
import BotPlaybooks
import Foundation

extension CustomerFile {
    /// Turns raw fields into a `Customer`, or throws the first problem with its line.
    static func validate(_ record: Record, plans: PlanCatalog) throws -> Customer {
        for (name, entry) in record.values where !fields.contains(name) && !nestedFields.contains(name) {
            throw CustomerFileProblem(line: entry.line, message: "unknown field '\(name)'")
        }
        func required(_ name: String) throws -> (value: String, line: Int) {
            guard let entry = record.values[name], !entry.value.isEmpty else {
                throw CustomerFileProblem(line: record.line, message: "\(name) is required")
            }
            return entry
        }
        func optional<T>(_ name: String, _ convert: (String) -> T?, _ expectation: String) throws -> T? {
            guard let entry = record.values[name], !entry.value.isEmpty else { return nil }
            guard let value = convert(entry.value) else {
                throw CustomerFileProblem(line: entry.line, message: "\(name): expected \(expectation), got '\(entry.value.prefix(60))'")
            }
            return value
        }

        let idEntry = try required("id")
        guard let id = StoreID(idEntry.value) else {
            throw CustomerFileProblem(line: idEntry.line,
                message: "id: '\(idEntry.value.prefix(60))' is not a store name (lowercase letters, digits and -)")
        }
        let platformEntry = try required("platform")
        let packs = Wiring.platforms.map(\.platform)
        guard let platform = Platform(rawValue: platformEntry.value.lowercased()).map({ $0.named(among: packs) }),
              packs.contains(platform) else {
            throw CustomerFileProblem(line: platformEntry.line, message: "platform: expected "
                + packs.map(\.rawValue).joined(separator: " or ") + " (the platform packs perfbot has)")
        }
        let planEntry = try required("plan")
        guard let plan = plans.plan(named: planEntry.value) else {
            let close = NameSuggester.closest(to: planEntry.value.lowercased(), in: plans.names)
            throw CustomerFileProblem(line: planEntry.line, message: "plan: '\(planEntry.value.prefix(40))' is not a plan perfbot knows"
                + (close.isEmpty ? "" : " (did you mean \(close[0])?)") + "; known: \(plans.names.joined(separator: ", ")) "
                + "(declare others in PERFBOT_PLANS)")
        }
        let emailEntry = try required("contact_email")
        guard Validation.isEmail(emailEntry.value) else {
            throw CustomerFileProblem(line: emailEntry.line, message: "contact_email: '\(emailEntry.value.prefix(60))' is not an e-mail address")
        }
        let url = try optional("url", { Validation.isHTTPURL($0) ? $0 : nil }, "an http(s) URL")
        let container = try optional("container", { Validation.isContainerName($0) ? $0 : nil },
                                     "a container name (letters, digits, _ . -)")
        let host = try optional("host", { Validation.isHost($0) ? $0 : nil }, "a host name")
        let executor = try optional("executor", { ExecutorKind(rawValue: $0.lowercased()) }, "local, docker or ssh")
        let level = try optional("automation_level", { Int($0).flatMap(AutomationLevel.init(rawValue:)) }, "1, 2 or 3")
        // An unknown exception would exclude nothing: a typo is refused, with the list of those that exist.
        let exceptions = try (record.lists["automation_exceptions"] ?? []).map { word in
            guard let name = ActionTag.exception(named: word) else {
                throw CustomerFileProblem(line: record.values["automation_exceptions"]?.line ?? record.line,
                                          message: "automation_exceptions: '\(word.prefix(40))' is not an exception; valid: "
                                              + ActionTag.exceptionNames.joined(separator: ", "))
            }
            return name
        }
        let limits = ResourceLimits(
            memoryMB: try optional("memory_mb", { Int($0).flatMap { $0 > 0 ? $0 : nil } }, "a positive whole number"),
            cpuCores: try optional("cpu_cores", { Double($0).flatMap { $0 > 0 && $0.isFinite ? $0 : nil } }, "a positive number"),
            diskGB: try optional("disk_gb", { Int($0).flatMap { $0 > 0 ? $0 : nil } }, "a positive whole number"))
        let nonNegative: (String) -> Int? = { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        let active = try optional("active", { ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][$0.lowercased()] },
                                  "true or false")
        var probes = Set<ProbeKind>()
        for name in record.lists["probes"] ?? [] {
            guard let probe = ProbeKind(rawValue: name) else {
                throw CustomerFileProblem(line: record.values["probes"]?.line ?? record.line,
                    message: "probes: '\(name.prefix(40))' is not a probe (\(ProbeKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            probes.insert(probe)
        }
        if probes.contains(.http) && url == nil {
            throw CustomerFileProblem(line: record.line, message: "the http probe needs the store's url")
        }
        if executor == .docker && container == nil {
            throw CustomerFileProblem(line: record.line, message: "executor docker needs a container")
        }
        if executor == .ssh && host == nil {
            throw CustomerFileProblem(line: record.line, message: "executor ssh needs a host")
        }
        var settings: [String: String] = [:]
        for variable in TemplateVariable.storeSettings {
            guard let entry = record.values[variable.rawValue], !entry.value.isEmpty else { continue }
            guard variable.accepts(entry.value) else {
                throw CustomerFileProblem(line: entry.line, message: "\(variable.rawValue): '\(entry.value.prefix(60))' is not allowed "
                    + "(\(Self.settingRule(variable)))")
            }
            settings[variable.rawValue] = entry.value
        }
        return Customer(
            id: id, platform: platform, plan: plan, contactEmail: emailEntry.value, url: url, container: container,
            host: host, executor: executor ?? (host != nil && container == nil ? .ssh : .docker),
            automationLevel: level ?? .safeAutoFix, automationExceptions: exceptions, limits: limits,
            catalogSize: try optional("catalog_size", nonNegative, "a whole number"),
            ordersPerDay: try optional("orders_per_day", nonNegative, "a whole number"),
            active: active ?? true, probes: probes, settings: settings,
            maintenanceWindow: try optional("maintenance_window", MaintenanceWindow.init, "a weekly window in UTC such as "
                + "'sun 02:00-04:00' or 'daily 03:00-04:00' (at most 12 hours)"))
    }

    /// What a store setting must look like, for the problem message.
    static func settingRule(_ variable: TemplateVariable) -> String {
        switch variable {
        case .appPath, .slowLog, .dbOptionFile: "an absolute path of letters, digits, / _ . -"
        case .dbReadonlyUser, .dbUser: "letters, digits and _, at most 80"
        case .dbClient: "mariadb or mysql"
        case .dbName: "letters, digits and _, at most 64"
        case .phpFpmService: "a service name of letters, digits, . - @"
        case .phpIniDir, .webRoot, .nginxDenyFile: "an absolute path of letters, digits, / _ . -"
        case .phpFpmListen: "host:port, or a socket's absolute path"
        case .phpMaxChildren: "a whole number from 1 to 9999"
        case .deployResetsOpcache: "yes or no"
        case .varnishURL: "an http(s) URL of letters, digits, : / . _ -"
        default: "letters, digits and - only"
        }
    }
}

/// Strict patterns for values that may later reach an argv or a mail header.
public enum Validation {
    public static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, text.count <= 254 else { return false }
        let local = parts[0].unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._%+-".unicodeScalars.contains($0)
        }
        return local && isHost(String(parts[1])) && parts[1].contains(".")
    }

    public static func isHost(_ text: String) -> Bool {
        guard (1...253).contains(text.count), !text.hasPrefix("-"), !text.hasPrefix(".") else { return false }
        return text.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "-" || $0 == "." }
    }

    public static func isContainerName(_ text: String) -> Bool {
        guard (1...128).contains(text.count), let first = text.unicodeScalars.first,
              first.isASCII, CharacterSet.alphanumerics.contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || "_.-".unicodeScalars.contains($0) }
    }

    public static func isHTTPURL(_ text: String) -> Bool {
        guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, isHost(host) else { return false }
        return true
    }
}

/// A minimal RFC 4180 reader: quoted fields, doubled quotes, newlines inside quotes; keeps line numbers.
enum CSVReader {
    struct Row {
        var line: Int
        var fields: [String]
    }

    static func rows(_ text: String) -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var rowLine = 1
        var iterator = text.replacingOccurrences(of: "\r\n", with: "\n").makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { inQuotes = false; pending = next }
                    } else { inQuotes = false }
                } else {
                    if character == "\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty: inQuotes = true
            case ",": fields.append(field); field = ""
            case "\n":
                fields.append(field)
                rows.append(Row(line: rowLine, fields: fields))
                fields = []
                field = ""
                line += 1
                rowLine = line
            default: field.append(character)
            }
        }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            rows.append(Row(line: rowLine, fields: fields))
        }
        return rows
    }
}
