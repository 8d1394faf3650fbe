import BotCore
import Foundation

/// `/perf explain`: what may be explained, and what the plan says.
public enum ExplainAdvice {
    /// Why `sql` may not be explained, or nil when it is exactly one SELECT. The statement is only ever
    /// placed after `EXPLAIN FORMAT=JSON`, in one argv element, and run with the read-only account.
    public static func refusal(_ sql: String) -> String? {
        guard sql.utf8.count <= 20_100 else { return "the statement is longer than 20,000 characters" }
        let text = sql.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return "give the SELECT to explain" }
        guard text.utf8.count <= 20_000 else { return "the statement is longer than 20,000 characters" }
        if let hazard = clientHazard(text) { return hazard }
        let lowered = text.lowercased()
        guard lowered.hasPrefix("select") || lowered.hasPrefix("(select"), let first = lowered.dropFirst(lowered.hasPrefix("(") ? 7 : 6).first,
              first.isWhitespace || first == "*" || first == "`" || first == "(" else {
            let verb = lowered.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? lowered
            return "only a SELECT can be explained, and this is `\(verb.prefix(20))`: perfbot never runs statements that change data"
        }
        for word in ["into outfile", "into dumpfile", "for update", "lock in share mode", "for share"] where lowered.contains(word) {
            return "`\(word.uppercased())` is not allowed in a statement to explain"
        }
        if lowered.range(of: #"\binto\s+@"#, options: .regularExpression) != nil { return "`INTO @variable` is not allowed" }
        return nil
    }

    /// Why `text` may not be handed to a database client, or nil: it must be one statement on one line with no
    /// backslash anywhere (the client reads `\!` as a shell command, and whether a `\'` closes a string depends on
    /// the session's `NO_BACKSLASH_ESCAPES`, so no reading of the quotes can be trusted), no comment and no `;`
    /// but a final one. Checked for typed SQL, for statements rebuilt from fingerprints and for perfbot's own.
    public static func clientHazard(_ text: String) -> String? {
        // Longer than anything perfbot explains: refused before it is read character by character.
        guard text.utf8.count <= 20_100 else { return "the statement is longer than 20,000 characters" }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": return "the statement holds a backslash: perfbot passes no escapes to the database client"
            case "\n", "\r", "\u{2028}", "\u{2029}", "\u{85}":
                return "the statement spans several lines: give it on one line"
            case "\0": return "the statement holds a NUL byte"
            default: continue
            }
        }
        // One statement: no `;` outside quotes (one at the very end is fine), no comments that could hide one.
        var quote: Character?
        var previous: Character = " "
        let characters = Array(text.trimmingCharacters(in: .whitespaces))
        for (index, character) in characters.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" || character == "`" {
                quote = character
            } else if character == ";", index != characters.count - 1 {
                return "give exactly one statement: there is a `;` before the end"
            } else if (character == "*" && previous == "/") || (character == "-" && previous == "-") || character == "#" {
                return "remove the comments: perfbot explains plain statements only"
            }
            previous = character
        }
        if quote != nil { return "a quote is not closed" }
        return nil
    }

    /// A statement the database can plan, made from a SELECT class's fingerprint: `in(?+)` → `in('0')`,
    /// `limit ?` → `limit 1`, every other `?` → `'0'`. Nil when the fingerprint names tables or columns whose
    /// digits it replaced (`wp_?_options`), repeats a UNION, or is not a single plain SELECT.
    public static func explainable(_ fingerprint: String) -> String? {
        guard fingerprint.hasPrefix("select "), !fingerprint.contains("/*") else { return nil }
        var text = fingerprint.replacingOccurrences(of: "in(?+)", with: "in('0')")
            .replacingOccurrences(of: "limit ?", with: "limit 1")
        // A `?` glued to a name is a number inside an identifier: no statement can be rebuilt.
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "?") {
            let before = index > 0 ? bytes[index - 1] : 32
            let after = index + 1 < bytes.count ? bytes[index + 1] : 32
            func glued(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 || b == 95 || (b >= 48 && b <= 57) }
            if glued(before) || glued(after) { return nil }
        }
        text = text.replacingOccurrences(of: "?", with: "'0'")
        return refusal(text) == nil ? text : nil
    }

    /// The statement without a final `;`, ready for `EXPLAIN FORMAT=JSON `.
    public static func statement(_ sql: String) -> String {
        var text = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasSuffix(";") { text.removeLast() }
        return text
    }

    /// One table's access in the plan.
    public typealias Access = ExplainAccess

    /// The plan's findings (MySQL's and MariaDB's `EXPLAIN FORMAT=JSON`) and the index that would help most.
    public static func analyze(json: String, sql: String) -> (findings: [DatabaseFinding], accesses: [Access], index: IndexSuggestion?)? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) else { return nil }
        var accesses: [Access] = []
        var filesort = false
        var temporary = false
        var sortKey: String?
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let name = object["table_name"] as? String {
                    let rows: Double = Self.number(object["rows"]) ?? Self.number(object["rows_examined_per_scan"]) ?? 0
                    accesses.append(Access(table: name, type: (object["access_type"] as? String) ?? "?", rows: rows,
                                           key: object["key"] as? String, possibleKeys: (object["possible_keys"] as? [String]) ?? [],
                                           condition: object["attached_condition"] as? String))
                }
                if object["filesort"] != nil || (object["using_filesort"] as? Bool) == true { filesort = true }
                if let sort = object["filesort"] as? [String: Any], let key = sort["sort_key"] as? String { sortKey = key }
                if object["temporary_table"] != nil || (object["using_temporary_table"] as? Bool) == true { temporary = true }
                for (_, child) in object { walk(child) }
            } else if let array = value as? [Any] {
                for child in array { walk(child) }
            }
        }
        walk(root)
        var findings: [DatabaseFinding] = []
        var index: IndexSuggestion?
        let totalRows = accesses.reduce(0) { $0 + $1.rows }
        for access in accesses where access.type == "ALL" || access.type == "index" {
            let scan = access.type == "ALL" ? "reads every row of" : "reads the whole index of"
            let columns = indexColumns(for: access.table, condition: access.condition, sql: sql, sortKey: sortKey)
            if index == nil, !columns.isEmpty { index = IndexSuggestion(table: access.table, columns: columns) }
            findings.append(DatabaseFinding(
                "Full scan: it \(scan) `\(access.table)` (about \(grouped(access.rows)) rows) because no index fits"
                    + (access.possibleKeys.isEmpty ? "." : " (it could use \(access.possibleKeys.joined(separator: ", ")), but does not)."),
                columns.isEmpty ? "Add an index on the columns this query filters `\(access.table)` by."
                    : "Add an index on `\(access.table)` (\(columns.joined(separator: ", ")))."))
        }
        if filesort {
            findings.append(DatabaseFinding("Sorts rows itself (filesort) rather than reading them in index order.",
                                            "An index that ends with the ORDER BY columns lets it read rows already sorted."))
        }
        if temporary {
            findings.append(DatabaseFinding("Builds a temporary table (for GROUP BY, DISTINCT or a UNION).",
                                            "Group or sort by indexed columns of one table, or make the result smaller first."))
        }
        if totalRows >= 10_000 {
            findings.append(DatabaseFinding("Examines about \(grouped(totalRows)) rows in all.",
                                            "Filter on indexed columns so it reads only the rows it returns."))
        }
        if findings.isEmpty {
            findings.append(DatabaseFinding("Uses indexes for every table (\(accesses.map { "\($0.table): \($0.key ?? $0.type)" }.joined(separator: ", "))).",
                                            "Nothing to change in this plan."))
        }
        return (findings, accesses, index)
    }

    /// `19,701`
    public static func grouped(_ value: Double) -> String { Wording.grouped(value) }

    static func number(_ value: Any?) -> Double? {
        if let number = value as? NSNumber { return number.doubleValue }
        if let text = value as? String { return Double(text) }
        return nil
    }

    /// The columns of `table` compared with `=` or `IN` in the plan's condition (or the statement), then the
    /// sort columns, at most three: the index the scan lacks.
    static func indexColumns(for table: String, condition: String?, sql: String, sortKey: String?) -> [String] {
        let source = (condition ?? sql)
        var equality: [String] = []
        var range: [String] = []
        // `table`.`column` = …, `db`.`table`.`column` in (…), column >= …
        let pattern = #"(?:`?[A-Za-z0-9_$]+`?\.)?(?:`?([A-Za-z0-9_$]+)`?\.)?`?([A-Za-z0-9_$]+)`?\s*(=|<=|>=|<|>|\s+in\s*\(|\s+between\s|\s+like\s)"#
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { return [] }
        let range0 = NSRange(source.startIndex..., in: source)
        for match in regex.matches(in: source, range: range0) {
            guard let columnRange = Range(match.range(at: 2), in: source), let opRange = Range(match.range(at: 3), in: source) else { continue }
            if let qualifierRange = Range(match.range(at: 1), in: source), source[qualifierRange].lowercased() != table.lowercased() { continue }
            let column = String(source[columnRange])
            guard SQLIdentifier.isValid(column), !["and", "or", "not", "where", "on"].contains(column.lowercased()) else { continue }
            let op = source[opRange].trimmingCharacters(in: .whitespaces).lowercased()
            if op == "=" || op.hasPrefix("in") {
                if !equality.contains(column) { equality.append(column) }
            } else if !range.contains(column) {
                range.append(column)
            }
        }
        var columns = equality
        if let first = range.first(where: { !columns.contains($0) }) { columns.append(first) }
        if range.isEmpty, let sortKey {
            for part in sortKey.split(separator: ",") {
                let name = part.split(whereSeparator: \.isWhitespace).first.map { String($0.split(separator: ".").last ?? "") } ?? ""
                let clean = name.trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                if SQLIdentifier.isValid(clean), !columns.contains(clean) { columns.append(clean) }
            }
        }
        return Array(columns.prefix(3))
    }
}

extension TableStats {
    /// The query the read-only account runs (tab-separated, no header).
    public static let query = """
        SELECT TABLE_NAME, IFNULL(ENGINE, ''), IFNULL(TABLE_ROWS, 0), IFNULL(DATA_LENGTH, 0), IFNULL(INDEX_LENGTH, 0), \
        IFNULL(DATA_FREE, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
        ORDER BY DATA_LENGTH + INDEX_LENGTH DESC LIMIT 200
        """

    /// Unused indexes, where `sys` can tell (performance_schema on); the query fails otherwise.
    public static let unusedIndexQuery =
        "SELECT object_name, index_name FROM sys.schema_unused_indexes WHERE object_schema = DATABASE() LIMIT 50"

    public static func parse(_ output: String) -> [TableStats] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, SQLIdentifier.isValid(fields[0]) else { return nil }
            return TableStats(name: fields[0], engine: fields[1], rows: Double(fields[2]) ?? 0, dataBytes: Double(fields[3]) ?? 0,
                              indexBytes: Double(fields[4]) ?? 0, freeBytes: Double(fields[5]) ?? 0)
        }
    }
}

/// The database advice perfbot gives for MySQL and MariaDB, behind the protocol the operations commands use.
public struct MySQLAdvisor: DatabaseAdvisor {
    public init() {}
    public func refusal(_ sql: String) -> String? { ExplainAdvice.refusal(sql) }
    public func clientHazard(_ text: String) -> String? { ExplainAdvice.clientHazard(text) }
    public func explainable(_ fingerprint: String) -> String? { ExplainAdvice.explainable(fingerprint) }
    public func statement(_ sql: String) -> String { ExplainAdvice.statement(sql) }
    public func analyze(json: String, sql: String) -> ExplainAnalysis? {
        ExplainAdvice.analyze(json: json, sql: sql).map { ExplainAnalysis(findings: $0.findings, accesses: $0.accesses, index: $0.index) }
    }
    public var tablesQuery: String { TableStats.query }
    public var unusedIndexQuery: String { TableStats.unusedIndexQuery }
    public func tables(_ output: String) -> [TableStats] { TableStats.parse(output) }
}
