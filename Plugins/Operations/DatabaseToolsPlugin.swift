import BotCore
import BotPlaybooks
import Foundation

/// The database tools (ORIGINAL-DESIGN §1.5, premium): the slow-query classes perfbot ingested, the table
/// analyzer, EXPLAIN with findings, index proposals (approved jobs, reversible) and OPTIMIZE TABLE (a job
/// under the automation policy). Reads run through the store's executor with its read-only account; every
/// change is a job. Runs and proposals go through the operations plugin's job path; the advice comes through
/// `DatabaseAdvisor`, so this module knows no database client's output format.
public struct DatabaseToolsPlugin: BotPlugin {
    public let name = "database"
    let operations: OperationsPlugin
    let advisor: any DatabaseAdvisor
    /// Makes index proposals.
    let proposer: Proposer
    /// Free space inside a table (over 10 % of it) from which `/perf tables` calls it fragmented.
    let fragmentedBytes: Double

    public init(operations: OperationsPlugin, advisor: any DatabaseAdvisor, proposer: Proposer, fragmentedBytes: Int = 64 << 20) {
        self.operations = operations
        self.advisor = advisor
        self.proposer = proposer
        self.fragmentedBytes = Double(fragmentedBytes)
    }

    var store: any OperationsStore { operations.store }
    var planner: JobPlanner { operations.planner }
    var clock: any BotClock { operations.clock }
    func customer(_ id: StoreID) async throws -> Customer { try await operations.customer(id) }
    func run(_ playbook: Playbook, on customer: Customer, dryRun: Bool, battery: Bool, context: CommandContext) async throws -> BotReply {
        try await operations.run(playbook, on: customer, dryRun: dryRun, battery: battery, context: context)
    }

    public var commands: [CommandSpec] { Self.databaseCommands }

    public func handle(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        try await database(command, context: context)
    }
}

extension DatabaseToolsPlugin {
    static var databaseCommands: [CommandSpec] {
        let store = ArgumentSpec("store", .store)
        return [
            CommandSpec("slow-queries", arguments: [store],
                        flags: [FlagSpec("since", values: [], help: "the period, e.g. 1h, 24h, 7d (default 24h)"),
                                FlagSpec("page", values: [], help: "the page, 10 classes each (default 1)")],
                        readOnly: true, summary: "The slowest query classes of a store (premium): fingerprint, count, avg and p95 time.",
                        examples: ["slow-queries acme-store", "slow-queries acme-store --since 7d --page 2"]),
            CommandSpec("tables", arguments: [store], readOnly: true,
                        summary: "Table sizes, rows, data against index bytes and fragmentation, with suggestions (premium).",
                        examples: ["tables acme-store"]),
            CommandSpec("explain", arguments: [store, ArgumentSpec("sql", .rest)], role: .operator, readOnly: true,
                        summary: "EXPLAIN one SELECT with the store's read-only account, in plain findings (premium).",
                        examples: ["explain acme-store SELECT * FROM wp_postmeta WHERE meta_key = '_price'"]),
            CommandSpec("index", arguments: [store, ArgumentSpec("table", .word, optional: true), ArgumentSpec("columns", .rest, optional: true)],
                        role: .operator,
                        summary: "Propose the index the worst slow queries lack, or the one named: an approved job, reverted by `/perf revert <job>` (premium).",
                        examples: ["index acme-store", "index acme-store wp_postmeta meta_key"]),
            CommandSpec("optimize-tables", arguments: [store, ArgumentSpec("tables", .word, optional: true, repeated: true)],
                        role: .operator,
                        summary: "OPTIMIZE the fragmented tables (or those named) as a job under the automation policy (premium).",
                        examples: ["optimize-tables acme-store", "optimize-tables acme-store wp_options"]),
            CommandSpec("revert", arguments: [ArgumentSpec("job", .integer(1...Int.max))], role: .operator,
                        summary: "Undo a reversible job: drop an index perfbot added, or put a service setting back.", examples: ["revert 42"]),
        ]
    }

    /// A table is fragmented past this share of its size and this many bytes (ORIGINAL-DESIGN §1.5).
    static let fragmentedShare = 0.10

    func database(_ command: ParsedCommand, context: CommandContext) async throws -> BotReply {
        if command.name == "revert" { return try await revert(Int64(command.integer("job") ?? 0), context: context) }
        guard let id = command.store() else { throw BotError.invalid("Which store?") }
        let customer = try await customer(id)
        guard customer.plan.isPremium else {
            return .text("Database tools come with premium plans; \(customer.id) is on the \(customer.plan) plan, "
                + "so perfbot does not read its slow log or tables.")
        }
        switch command.name {
        case "slow-queries": return try await slowQueries(customer, since: command.option("since"), page: command.option("page"))
        case "tables":
            try await auditRead(customer, action: "db.tables", details: [:], context: context)
            return try await tables(customer)
        case "explain":
            // Audited before anything runs, refused or not: someone tried to reach the store's database.
            let sql = command.values("sql").joined(separator: " ")
            let refusal = advisor.refusal(sql)
            try await auditRead(customer, action: "db.explain", details: ["statement": String(sql.prefix(500))],
                                result: refusal.map { "refused: \($0)" } ?? "explained", context: context)
            return try await explain(customer, sql: sql)
        case "index":
            try await auditRead(customer, action: "db.index", details: ["table": command.value("table") ?? "(worst classes)"],
                                context: context)
            return try await proposeIndex(customer, table: command.value("table"),
                                                    columns: command.values("columns").joined(separator: ","),
                                                    context: context)
        default: return try await optimizeTables(customer, named: command.values("tables"), context: context)
        }
    }

    // MARK: Reading

    /// Every command that reaches a store's database is in the audit log: who, which store, what, and how it ended.
    func auditRead(_ customer: Customer, action: String, details: [String: String], result: String = "read",
                   context: CommandContext) async throws {
        try await store.audit(actor: try context.member().user.rawValue, channel: "slack", action: action, store: customer.id,
                              details: details, result: result, at: clock.now)
    }

    func slowQueries(_ customer: Customer, since: String?, page: String?) async throws -> BotReply {
        let span = since ?? "24h"
        guard let seconds = BotDuration(span)?.seconds else {
            throw BotError.invalid("`--since \(span.prefix(20))` is not a period such as 1h, 24h or 7d (at most 90d).")
        }
        guard let number = Int(page ?? "1"), number >= 1 else { throw BotError.invalid("`--page` takes a page number from 1.") }
        let perPage = 10
        let (classes, total) = try await store.slowQueryClasses(customer.id, since: clock.now.addingTimeInterval(-seconds),
                                                                limit: perPage, offset: (number - 1) * perPage)
        guard total > 0 else {
            let collecting = customer.probes.contains(.slowLog)
            return .text("No slow queries for \(customer.id) in the last \(span). "
                + (collecting ? "perfbot reads its slow log every cycle." : "Its slow log is not collected: add `slow_log` to its probes and its path to its settings."))
        }
        let pages = (total + perPage - 1) / perPage
        guard !classes.isEmpty else { return .text("There are \(pages) page\(pages == 1 ? "" : "s") of slow queries; page \(number) is past the end.") }
        var lines: [String] = []
        for (offset, query) in classes.enumerated() {
            let rank = (number - 1) * perPage + offset + 1
            let ratio = query.rowsSent > 0 ? "\(Wording.grouped(query.examinedPerSent)) rows read per row sent"
                : "\(Wording.grouped(query.rowsExamined / Double(max(query.count, 1)))) rows read each, none sent"
            lines.append("*\(rank).* `\(Wording.escapedForSlack(String(query.fingerprint.prefix(300))))`\n"
                + "      ×\(query.count) · avg \(milliseconds(query.averageMs)) · p95 \(milliseconds(query.p95Ms)) · \(ratio)"
                + (query.tables.isEmpty ? "" : " · \(Wording.escapedForSlack(query.tables.prefix(4).joined(separator: ", ")))")
                + " · id `\(query.queryID.suffix(16))`")
        }
        return BotReply([.header("Slow queries · \(customer.id) · last \(span)"), .text(lines.joined(separator: "\n")),
                         .context("Page \(number) of \(pages) (\(total) classes), worst total time first. Literals are removed. "
                            + (number < pages ? "`/perf slow-queries \(customer.id) --since \(span) --page \(number + 1)` for more. " : "")
                            + "`/perf explain \(customer.id) <select>` shows a plan.")])
    }

    func milliseconds(_ value: Double) -> String {
        value >= 1000 ? "\(Wording.number(value / 1000, decimals: 2)) s" : "\(Wording.number(value, decimals: 0)) ms"
    }

    /// Runs a read on the store's database with its read-only account (`db_readonly_user`).
    func readDatabase(_ customer: Customer, _ sql: String) async throws -> CommandOutcome {
        guard let user = customer.settings[TemplateVariable.dbReadonlyUser.rawValue], TemplateVariable.dbReadonlyUser.accepts(user) else {
            throw BotError.invalid("\(customer.id) has no read-only database account: set `db_readonly_user` in its settings "
                + "(an account with SELECT only).")
        }
        let target = try planner.target(customer)
        guard let database = target.values[.dbName] else {
            throw BotError.invalid("\(customer.id) has no `db_name` in its settings.")
        }
        // The statement passed the refusal (one statement, no backslash, no newline) and still reaches a client
        // that interprets none of it.
        guard advisor.clientHazard(sql) == nil else {
            throw BotError.invalid("perfbot does not pass that statement to the database client.")
        }
        return try await target.executor.run(CommandRequest(
            argv: DatabaseClient.argv(sql, user: user, database: database, settings: customer.settings,
                                      extra: ["--raw", "--skip-column-names"]),
            timeout: 30, outputLimit: 1 << 20))
    }

    func tables(_ customer: Customer) async throws -> BotReply {
        let outcome = try await readDatabase(customer, advisor.tablesQuery)
        guard outcome.succeeded else {
            throw BotError.invalid("Could not read \(customer.id)'s tables: \(Wording.escapedForSlack(outcome.failureReason)).")
        }
        let tables = advisor.tables(outcome.output)
        guard !tables.isEmpty else { return .text("\(customer.id)'s database has no tables perfbot can see.") }
        let unused = try? await readDatabase(customer, advisor.unusedIndexQuery)
        var findings: [String] = []
        for table in tables {
            // Names come from the tenant's database: escaped, so a table called `<!channel>` stays text.
            let name = Wording.escapedForSlack(table.name)
            if table.isFragmented(share: Self.fragmentedShare, minimumBytes: fragmentedBytes) {
                findings.append("• `\(name)` has \(bytes(table.freeBytes)) of free space inside it "
                    + "(\(Wording.number(table.freeBytes / max(table.totalBytes, 1) * 100, decimals: 0)) % of its size): "
                    + "OPTIMIZE TABLE gives it back — `/perf optimize-tables \(customer.id)`.")
            }
            if table.indexBytes > 2 * table.dataBytes, table.indexBytes > 16 * 1_048_576 {
                findings.append("• `\(name)`'s indexes (\(bytes(table.indexBytes))) are more than twice its data: "
                    + "look for indexes no query uses.")
            }
            if table.engine.lowercased() == "myisam" {
                findings.append("• `\(name)` is MyISAM: every write locks the whole table. Converting it to InnoDB avoids that.")
            }
        }
        var unusedLine = "Unused indexes: unknown here (performance_schema is off)."
        if let unused, unused.succeeded {
            let pairs = unused.output.split(separator: "\n").map { $0.split(separator: "\t").joined(separator: ".") }
            unusedLine = pairs.isEmpty ? "Unused indexes: none since the server started."
                : "Unused since the server started: " + pairs.prefix(10).map { "`\(Wording.escapedForSlack($0))`" }.joined(separator: ", ") + "."
        }
        let table = ReplyTable(columns: ["Table", "Rows", "Data", "Index", "Free"],
                               rows: tables.prefix(15).map { [Wording.escapedForSlack($0.name), Wording.grouped($0.rows), bytes($0.dataBytes),
                                                              bytes($0.indexBytes), bytes($0.freeBytes)] },
                               rightAligned: [1, 2, 3, 4])
        return BotReply([.header("Tables · \(customer.id)"), .table(table),
                         .text(findings.isEmpty ? "No table needs attention." : findings.joined(separator: "\n")),
                         .context("\(tables.count) tables, largest first. " + unusedLine)])
    }

    func bytes(_ value: Double) -> String {
        if value >= 1_073_741_824 { return "\(Wording.number(value / 1_073_741_824, decimals: 1)) GB" }
        if value >= 1_048_576 { return "\(Wording.number(value / 1_048_576, decimals: 1)) MB" }
        if value >= 1024 { return "\(Wording.number(value / 1024, decimals: 0)) KB" }
        return "\(Int(value)) B"
    }

    func explain(_ customer: Customer, sql: String) async throws -> BotReply {
        if let refusal = advisor.refusal(sql) { return .text("Not explained: \(refusal).") }
        let statement = advisor.statement(sql)
        let outcome = try await readDatabase(customer, "EXPLAIN FORMAT=JSON " + statement)
        guard outcome.succeeded else {
            return .text("The database refused to explain it: \(Wording.escapedForSlack(outcome.failureReason)).")
        }
        guard let analysis = advisor.analyze(json: outcome.output, sql: statement) else {
            return .text("The database answered with a plan perfbot cannot read.")
        }
        let lines = analysis.findings.map { "• \(Wording.escapedForSlack($0.problem))\n   → \(Wording.escapedForSlack($0.suggestion))" }
        let plan = analysis.accesses.map { "\($0.table): \($0.type)\($0.key.map { " via \($0)" } ?? ""), ~\(Int($0.rows)) rows" }
        var blocks: [ReplyBlock] = [.header("Explain · \(customer.id)"), .text(lines.joined(separator: "\n")),
                                    .context("Plan: " + Wording.escapedForSlack(plan.joined(separator: "; ")) + ". Nothing was run but EXPLAIN.")]
        if let index = analysis.index {
            let columns = index.columns.joined(separator: ",")
            blocks.insert(.text("Suggested: `\(Wording.escapedForSlack(index.sql))`. "
                + "`/perf index \(customer.id) \(Wording.escapedForSlack(index.table)) \(Wording.escapedForSlack(columns))` proposes it "
                + "as a job to approve; it can be reverted."), at: 2)
        }
        return BotReply(blocks)
    }

    // MARK: Changing (always jobs)

    /// `/perf index <store> [<table> <columns>]`: the index named, or the one the worst classes lack.
    func proposeIndex(_ customer: Customer, table: String?, columns text: String?, context: CommandContext) async throws -> BotReply {
        guard let table else { return try await suggestIndex(customer) }
        let columns = (text ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        guard DatabaseChange.isIdentifier(table), !columns.isEmpty, columns.count <= 5, columns.allSatisfy(DatabaseChange.isIdentifier) else {
            throw BotError.invalid("Give a table and its columns as plain names, columns separated by commas: "
                + "`/perf index \(customer.id) wp_postmeta meta_key,post_id`, or no table to let perfbot find one.")
        }
        let recent = try await store.slowQueryClasses(customer.id, since: clock.now.addingTimeInterval(-90 * 86400), limit: 100, offset: 0)
            .classes.filter { $0.tables.contains(table.lowercased()) }
        // A read that filters on the first column is the evidence; any class on the table otherwise.
        let worst = recent.first { $0.fingerprint.hasPrefix("select") && $0.fingerprint.contains(columns[0].lowercased()) } ?? recent.first
        var plan: String?
        if let worst, let sql = advisor.explainable(worst.fingerprint) {
            plan = try? await explainSummary(customer, sql)
        }
        return try await propose(IndexSuggestion(table: table, columns: columns), customer: customer, evidence: worst, planBefore: plan)
    }

    /// Explains the worst read classes of the last week (literals stood in by `'0'`) and proposes the first
    /// index a full scan lacks.
    func suggestIndex(_ customer: Customer) async throws -> BotReply {
        let classes = try await store.slowQueryClasses(customer.id, since: clock.now.addingTimeInterval(-7 * 86400), limit: 20, offset: 0)
            .classes.filter { $0.fingerprint.hasPrefix("select") && $0.examinedPerSent >= 10 }
        for query in classes.prefix(8) {
            guard let sql = advisor.explainable(query.fingerprint) else { continue }
            let outcome = try await readDatabase(customer, "EXPLAIN FORMAT=JSON " + sql)
            guard outcome.succeeded, let analysis = advisor.analyze(json: outcome.output, sql: sql), let index = analysis.index else {
                continue
            }
            return try await propose(index, customer: customer, evidence: query, planBefore: Self.summary(analysis.accesses))
        }
        return .text("No index to suggest for \(customer.id): none of its worst read classes of the last 7 days (\(classes.count) "
            + "that read 10 rows or more per row sent) scans a table an index would spare. `/perf slow-queries \(customer.id)` lists them.")
    }

    func explainSummary(_ customer: Customer, _ sql: String) async throws -> String? {
        let outcome = try await readDatabase(customer, "EXPLAIN FORMAT=JSON " + sql)
        guard outcome.succeeded, let analysis = advisor.analyze(json: outcome.output, sql: sql) else { return nil }
        return Self.summary(analysis.accesses)
    }

    static func summary(_ accesses: [ExplainAccess]) -> String {
        accesses.map { access in
            let how = access.type == "ALL" ? "a full scan" : access.type == "index" ? "a full index scan"
                : "\(access.type) via \(access.key ?? "no index")"
            return "\(how) of \(access.table) (about \(Wording.grouped(access.rows)) rows)"
        }.joined(separator: ", then ")
    }

    /// The proposal: a held `db:create_index:` job with its approval, naming its evidence (the class, rows
    /// examined, the plan before); the customer's contact gets it by e-mail like any proposal.
    func propose(_ suggestion: IndexSuggestion, customer: Customer, evidence query: SlowQuerySummary?, planBefore: String?) async throws -> BotReply {
        let change = DatabaseChange.createIndex(table: suggestion.table, name: suggestion.name, columns: suggestion.columns)
        let playbook = change.playbook(for: customer.platform)
        var evidence = query.map { "the slowest class on \(suggestion.table) that it would serve (\($0.queryID.suffix(16)), ×\($0.count), "
            + "\(Wording.grouped($0.rowsExamined / Double(max($0.count, 1)))) rows read each): \(String($0.fingerprint.prefix(160)))" }
            ?? "a request from your hosting team (no slow query on \(suggestion.table) recorded yet)"
        if let planBefore { evidence += ". Its plan today: \(planBefore)" }
        let plan = try planner.plan(playbook, for: customer, held: [:])
        let draft = proposer.draft(playbook, plan: plan, customer: customer, issueID: nil, issue: "a missing index on \(suggestion.table)",
                                   explanation: "Queries on \(suggestion.table) read many rows for each one they return; an index on "
                                       + "\(suggestion.columns.joined(separator: ", ")) lets the database find them directly. "
                                       + "Evidence: \(evidence).",
                                   now: clock.now)
        var id = draft.approval.id
        if case let .alreadyWaiting(same) = try await store.propose(draft, at: clock.now) { id = same.id }
        return BotReply([
            .header("Index proposal · \(customer.id)"),
            .text("`\(Wording.escapedForSlack(suggestion.sql))`\nEvidence: \(Wording.escapedForSlack(evidence)).\n"
                + "It runs only when approved, as a job (`mysql --execute=ALTER TABLE … ADD INDEX …`). "
                + "Undo: `DROP INDEX \(suggestion.name)` with `/perf revert <job>`."),
            .buttons([ReplyButton(label: "Approve", actionID: "fix_approve", value: id, style: .primary, command: "/perf approve \(id)"),
                      ReplyButton(label: "Reject", actionID: "fix_reject", value: id, style: .danger, command: "/perf reject \(id)")]),
            .context("Proposal \(id) · expires \(Wording.dayAndTime(draft.approval.expiresAt))"),
        ], visibility: .inChannel)
    }

    func optimizeTables(_ customer: Customer, named: [String], context: CommandContext) async throws -> BotReply {
        var tables = named
        if tables.isEmpty {
            let outcome = try await readDatabase(customer, advisor.tablesQuery)
            guard outcome.succeeded else {
                throw BotError.invalid("Could not read \(customer.id)'s tables: \(Wording.escapedForSlack(outcome.failureReason)).")
            }
            tables = advisor.tables(outcome.output)
                .filter { $0.isFragmented(share: Self.fragmentedShare, minimumBytes: fragmentedBytes) }.map(\.name)
            guard !tables.isEmpty else { return .text("No table of \(customer.id) is fragmented enough to optimize.") }
        }
        guard tables.count <= 16, tables.allSatisfy(DatabaseChange.isIdentifier) else {
            throw BotError.invalid("Name up to 16 tables, as plain names.")
        }
        return try await run(DatabaseChange.optimize(tables: tables).playbook(for: customer.platform), on: customer,
                             dryRun: false, battery: false, context: context)
    }

    func revert(_ id: Int64, context: CommandContext) async throws -> BotReply {
        guard let job = try await store.job(id) else { throw BotError.invalid("There is no job \(id).") }
        guard job.state == .succeeded else {
            return .text("Job \(id) \(job.state.rawValue); there is nothing to revert.")
        }
        let customer = try await customer(job.store)
        switch job.kind {
        case let .database(change):
            guard let undo = change.revert else { break }
            return try await run(undo.playbook(for: customer.platform), on: customer, dryRun: false, battery: false, context: context)
        case let .tuning(change):
            // The value it replaced, set again as a job of its own (checked against the range like any value).
            guard let undo = change.revert, let playbook = operations.library.tuning(for: customer.platform).playbook(for: undo, platform: customer.platform) else {
                break
            }
            return try await run(playbook, on: customer, dryRun: false, battery: false, context: context)
        case let .operation(.toggleCron(target, enabled)):
            // A cron event switched off is switched on again with the recurrence the job kept, and the other way round.
            let undo = ServiceOperation.toggleCron(target, enabled: !enabled)
            guard let playbook = operations.library.playbook(for: .operation(undo), platform: customer.platform) else { break }
            return try await run(playbook, on: customer, dryRun: false, battery: false, context: context)
        default:
            break
        }
        return .text("Job \(id) (`\(job.playbook)`) cannot be reverted by perfbot: only the indexes it added, the settings it changed and the cron it switched can.")
    }
}
