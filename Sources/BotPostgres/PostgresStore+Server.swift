import BotCore
import BotStore
import Foundation
import Logging
import PostgresNIO

/// What every replica's HTTP server reads and writes: deliveries, pushed samples, monitors' alerts, customers, gauges.
extension PostgresStore: ServerStore {}

extension PostgresStore: StoredChanges {
    /// Other replicas write the same database, and their changes are not seen here: no answer is reused.
    public var storedChanges: UInt64? { nil }
}

extension PostgresStore: CustomerDirectory {
    /// Inserts or updates every customer in one transaction.
    public func upsert(_ customers: [Customer], at now: Date) async throws {
        let sql = CustomerRow.upsertSQL(placeholders: CustomerRow.upsertColumns.indices.map { "$\($0 + 1)" })
        try await database.transaction { connection in
            for customer in customers {
                var bindings = PostgresBindings()
                for value in try CustomerRow.values(of: customer, at: now) { try bindings.append(value) }
                _ = try await connection.rows(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: database.logger)
            }
        }
    }

    /// Every store, read again only when `customers_version` moved since the last read (on any replica).
    public func allCustomers() async throws -> [Customer] {
        // The version first: a change committed between the two reads is at worst read again next time.
        let version = try await database.rows("SELECT version FROM customers_version").first?.decode(Int64.self) ?? -1
        if let held = customerCache.customers(at: version) { return held }
        let customers = try await database.rows(PostgresQuery(unsafeSQL: "SELECT \(CustomerRow.columns) FROM customers ORDER BY id"))
            .compactMap { try Self.customer(from: $0) }
        customerCache.keep(customers, at: version)
        return customers
    }

    public func customer(_ id: StoreID) async throws -> Customer? {
        var bindings = PostgresBindings()
        bindings.append(id.rawValue)
        return try await database.rows(PostgresQuery(unsafeSQL: "SELECT \(CustomerRow.columns) FROM customers WHERE id = $1", binds: bindings))
            .first.flatMap { try Self.customer(from: $0) }
    }

    static func customer(from row: PostgresRow) throws -> Customer? {
        var cells = row.makeIterator()
        func next<T: PostgresDecodable>(_: T.Type = T.self) throws -> T { try cells.next()!.decode(T.self) }
        return CustomerRow(id: try next(), platform: try next(), plan: try next(), premium: (try next(Int64?.self)).map { $0 != 0 },
                           exceptions: try next(), probes: try next(), settings: try next(), platformName: try next(),
                           contactEmail: try next(), url: try next(), container: try next(), host: try next(), executor: try next(),
                           automationLevel: Int(try next(Int64.self)), memoryMB: (try next(Int64?.self)).map(Int.init),
                           cpuCores: try next(), diskGB: (try next(Int64?.self)).map(Int.init),
                           catalogSize: (try next(Int64?.self)).map(Int.init), ordersPerDay: (try next(Int64?.self)).map(Int.init),
                           active: try next(Int64.self) != 0, maintenanceWindow: try next()).customer
    }
}

extension PostgresStore: DeliveryLog {
    public func admitDelivery(_ record: DeliveryRecord) async throws -> DeliveryAdmission {
        try await database.transaction { try await Self.admit($0, record, logger: database.logger) }
    }

    public func finishDelivery(key: String, succeeded: Bool, response: StoredResponse, at: Date) async throws {
        try await finishDelivery(key: key, succeeded: succeeded, response: response, messages: [], at: at)
    }

    public func finishDelivery(key: String, succeeded: Bool, response: StoredResponse, messages: [Addressed], at: Date) async throws {
        try await database.transaction { connection in
            try await Self.finish(connection, key: key, succeeded: succeeded, response: response, at: at, logger: database.logger)
            for message in messages { _ = try await Self.enqueue(connection, message, thread: nil, at: at, logger: database.logger) }
        }
    }

    public func recordDelivery(_ record: DeliveryRecord, response: StoredResponse) async throws -> DeliveryResult {
        try await database.transaction { connection in
            if case let .duplicate(_, stored) = try await Self.admit(connection, record, logger: database.logger) { return .duplicate(stored) }
            try await Self.finish(connection, key: record.key, succeeded: response.succeeded, response: response, at: record.at,
                                  logger: database.logger)
            return .fresh(response)
        }
    }

    /// A key seen before is a retry, counted, and not acted on again unless its first handling failed. Two replicas
    /// admitting one key at once: the unique key lets one insert, and the other waits for its transaction and then
    /// sees a retry.
    static func admit(_ connection: PostgresConnection, _ record: DeliveryRecord, logger: Logger) async throws -> DeliveryAdmission {
        let inserted = try await connection.rows("""
            INSERT INTO webhook_deliveries (source, idempotency_key, received_at, content_type, body)
            VALUES (\(record.source), \(record.key), \(record.at.unixSeconds), \(record.contentType), \(Data(record.body)))
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
            """, logger: logger)
        if let id = try inserted.first?.decode(Int64.self) { return .fresh(id: id) }
        guard let row = try await connection.rows("""
            UPDATE webhook_deliveries SET retry_count = retry_count + 1 WHERE idempotency_key = \(record.key)
            RETURNING id, response_status, response_body, status
            """, logger: logger).first else { return .fresh(id: 0) }
        let (id, status, body, state) = try row.decode((Int64, Int64?, Data?, String).self)
        // A delivery whose handling failed did not act: its retry is handled afresh, and the failed answer is dropped,
        // so a retry of the retry waits for the new one instead of being given the old.
        if state == "failed" {
            _ = try await connection.rows("""
                UPDATE webhook_deliveries SET status = 'received', response_status = NULL, response_body = NULL WHERE id = \(id)
                """, logger: logger)
            return .fresh(id: id)
        }
        return .duplicate(id: id, response: status.map { StoredResponse(status: Int($0), body: Array(body ?? Data())) })
    }

    static func finish(_ connection: PostgresConnection, key: String, succeeded: Bool, response: StoredResponse, at: Date,
                       logger: Logger) async throws {
        _ = try await connection.rows("""
            UPDATE webhook_deliveries SET status = \(StoredResponse.recordedStatus(succeeded: succeeded)), response_status = \(Int64(response.status)),
                response_body = \(Data(response.body)), processed_at = \(at.unixSeconds)
            WHERE idempotency_key = \(key)
            """, logger: logger)
    }
}

extension PostgresStore: SampleIngestStore {
    /// Records the delivery and puts the new samples of known stores in the inbox in one statement, prepared once per
    /// connection: a repeat of the key, on any replica, stores nothing. The answer is sent at once and written to the
    /// delivery's row right after (see `PendingAnswers`); a retry gets it, or in the moment before, "being handled".
    /// The samples are filed right after too (see `SampleInbox`); every read of samples on this replica waits for that.
    ///
    /// The statement commits without waiting for its log to reach the disk: the promise SQLite makes in WAL mode with
    /// `synchronous = NORMAL`. A kill -9 of perfbot loses nothing acknowledged; a crash of the database's machine may
    /// lose the last fraction of a second of pushes, delivery records with them, so their retries are taken afresh.
    /// Everything that acts (jobs, approvals, the outbox) still waits for the disk.
    public func ingest(_ samples: [MetricSample], delivery: DeliveryRecord,
                       answer: @escaping @Sendable (SampleIngest) -> StoredResponse) async throws -> DeliveryResult {
        guard var taken = try await database.execute(PushStatement(delivery: delivery, samples: samples, admitted: false)).first else {
            throw PostgresStoreError("the push returned nothing")
        }
        if taken.delivery == nil {
            // The key was seen before: a retry, answered from the log, unless its first handling failed.
            let retry = try await database.transaction { connection -> RetriedPush in
                let logger = database.logger
                if case let .duplicate(_, stored) = try await Self.admit(connection, delivery, logger: logger) {
                    return .answered(stored)
                }
                let statement = PushStatement(delivery: delivery, samples: samples, admitted: true)
                guard let taken = try await connection.execute(statement, logger: logger).first(where: { _ in true }) else {
                    throw PostgresStoreError("the push returned nothing")
                }
                return .taken(taken)
            }
            switch retry {
            case let .taken(again): taken = again
            case let .answered(stored):
                if let stored = stored ?? answers.answer(for: delivery.key) { return .duplicate(stored) }
                return .duplicate(try await writtenAnswer(of: delivery.key))
            }
        }
        let accepted = samples.reduce(0) { $0 + (taken.known.contains($1.store.rawValue) ? 1 : 0) }
        let response = answer(SampleIngest(inserted: taken.inserted, duplicates: accepted - taken.inserted,
                                           unknownStores: Set(samples.map(\.store)).filter { !taken.known.contains($0.rawValue) }))
        if response.succeeded {
            answered(PendingAnswers.Answer(key: delivery.key, response: response, at: delivery.at))
        } else {
            // A failed first handling is recorded before it is answered, so its retry is taken afresh.
            try await finishDelivery(key: delivery.key, succeeded: false, response: response, at: delivery.at)
        }
        inboxArrived(taken.last)
        return .fresh(response)
    }

    public func storeForToken(digest: String) async throws -> StoreID? {
        try await database.rows("SELECT customer_id FROM store_tokens WHERE digest = \(digest) AND revoked_at IS NULL")
            .first.flatMap { StoreID(try $0.decode(String.self)) }
    }

    /// Stores samples at once, without the inbox, and keeps their rollups, newest values and journal, in one statement:
    /// the new samples (those already stored, same store, metric and second, are left out), then what follows from
    /// them (a Lighthouse run's figures).
    /// - Returns: how many samples were new.
    static func insert(_ connection: PostgresConnection, _ samples: [MetricSample], logger: Logger) async throws -> Int {
        guard !samples.isEmpty else { return 0 }
        let stores = samples.map(\.store.rawValue), metrics = samples.map(\.metric.rawValue)
        let times = samples.map(\.at.unixSeconds), values = samples.map(\.value)
        let rows = try await connection.rows("""
            WITH new AS (
                INSERT INTO metric_samples (customer_id, metric, at, value)
                SELECT * FROM unnest(\(stores)::text[], \(metrics)::text[], \(times)::bigint[], \(values)::double precision[])
                ON CONFLICT DO NOTHING
                RETURNING customer_id, metric, at, value
            ), \(unescaped: filedFromNew)
            SELECT COUNT(*) FROM new
            """, logger: logger)
        return try rows.first?.decode(Int.self) ?? 0
    }
}

/// What a push whose key was seen before found when it looked again in a transaction of its own.
enum RetriedPush: Sendable {
    /// The key's first handling had failed: this push was taken afresh.
    case taken(PushStatement.Taken)
    /// The key is another delivery's, with the answer it got (nil while its first handling runs).
    case answered(StoredResponse?)
}

/// A push in one statement: records the delivery (its key new) and puts the samples of known stores that are neither
/// stored nor waiting in the inbox. A sample newer than its metric's newest value cannot be stored yet, so only the
/// others are looked for among the stored samples, whose index is the largest of the database and mostly out of its
/// cache. With `admitted` the caller has already recorded the delivery in its transaction (the retry of a failed
/// first handling); otherwise a key seen before stores nothing and returns no delivery.
struct PushStatement: PostgresPreparedStatement {
    static let name = "perfbot_push_1"
    static let sql = """
        WITH durability AS (
            SELECT set_config('synchronous_commit', 'off', true)
        ), admitted AS (
            INSERT INTO webhook_deliveries (source, idempotency_key, received_at, content_type, body)
            SELECT $1::text, $2::text, $3::bigint, $4::text, $5::bytea FROM durability
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
        ), known AS (
            SELECT id FROM customers WHERE id = ANY($6::text[]) AND ($11::bool OR EXISTS (SELECT 1 FROM admitted))
        ), waiting AS (
            INSERT INTO sample_inbox (customer_id, metric, at, value)
            SELECT o.customer_id, o.metric, o.at, o.value
            FROM unnest($7::text[], $8::text[], $9::bigint[], $10::double precision[]) AS o(customer_id, metric, at, value)
            WHERE o.customer_id IN (SELECT id FROM known) AND CASE
                WHEN o.at > (SELECT l.at FROM metric_latest l WHERE l.customer_id = o.customer_id AND l.metric = o.metric) THEN true
                ELSE NOT EXISTS (
                    SELECT 1 FROM metric_samples s WHERE s.customer_id = o.customer_id AND s.metric = o.metric AND s.at = o.at)
                END
            ON CONFLICT DO NOTHING
            RETURNING seq
        )
        SELECT (SELECT id FROM admitted), ARRAY(SELECT id FROM known), (SELECT COUNT(*) FROM waiting),
            (SELECT COALESCE(MAX(seq), 0) FROM waiting)
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .int8, .text, .bytea, .textArray, .textArray, .textArray,
                                                       .int8Array, .float8Array, .bool]

    /// What the statement did: the delivery's row (nil when its key was seen before), the known stores among the
    /// samples', how many samples went into the inbox, and the highest inbox sequence number written (0 when none).
    struct Taken: Sendable {
        var delivery: Int64?
        var known: Set<String>
        var inserted: Int
        var last: Int64
    }

    let delivery: DeliveryRecord
    let samples: [MetricSample]
    let admitted: Bool

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 11)
        bindings.append(delivery.source)
        bindings.append(delivery.key)
        bindings.append(delivery.at.unixSeconds)
        bindings.append(delivery.contentType)
        try bindings.append(Data(delivery.body))
        bindings.append(Array(Set(samples.map(\.store.rawValue))))
        bindings.append(samples.map(\.store.rawValue))
        bindings.append(samples.map(\.metric.rawValue))
        bindings.append(samples.map(\.at.unixSeconds))
        bindings.append(samples.map(\.value))
        bindings.append(admitted)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Taken {
        let (delivery, known, inserted, last) = try row.decode((Int64?, [String], Int, Int64).self)
        return Taken(delivery: delivery, known: Set(known), inserted: inserted, last: last)
    }
}

extension PostgresStore {
    /// The answer of a delivery another replica is handling, once it is written: looked for during a tenth of a second,
    /// then nil (the handling is still running, or its replica died before writing it).
    func writtenAnswer(of key: String) async throws -> StoredResponse? {
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(5))
            let row = try await database.rows("""
                SELECT response_status, response_body FROM webhook_deliveries WHERE idempotency_key = \(key)
                """).first
            if let (status, body) = try row?.decode((Int64?, Data?).self), let status {
                return StoredResponse(status: Int(status), body: Array(body ?? Data()))
            }
        }
        return nil
    }

    /// Returns once every push's answer is written (or `limit` has passed): before the replica stops.
    public func answersWritten(limit: Duration = .seconds(2)) async {
        let until = ContinuousClock.now + limit
        while answers.busy, ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(5)) }
    }

    /// Notes a push's answer and starts the writer if none runs.
    func answered(_ answer: PendingAnswers.Answer) {
        guard answers.add(answer) else { return }
        Task { await writeAnswers() }
    }

    /// Writes the waiting answers to their delivery records, all in one statement, until none wait. A write that fails
    /// is logged and dropped: those deliveries stay recorded, and their retries are told they are being handled.
    private func writeAnswers() async {
        while let batch = answers.next() {
            do {
                _ = try await database.execute(AnswersStatement(answers: batch))
            } catch {
                database.logger.error("answers of pushes could not be recorded; their retries are told they are being handled",
                                      metadata: ["pushes": "\(batch.count)", "error": "\(error)"])
            }
            answers.ended(batch)
        }
    }
}

/// Writes pushes' answers to their delivery records, committing without waiting for the disk (see `PendingAnswers`).
struct AnswersStatement: PostgresPreparedStatement {
    typealias Row = ()
    static let name = "perfbot_answers_1"
    static let sql = """
        WITH durability AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)
        UPDATE webhook_deliveries d SET status = a.status, response_status = a.response_status, response_body = a.body,
            processed_at = a.at
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bigint[]) AS a(key, status, response_status, body, at),
            durability
        WHERE d.idempotency_key = a.key AND durability.setting IS NOT NULL
        """
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .textArray, .int8Array, .byteaArray, .int8Array]

    let answers: [PendingAnswers.Answer]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(answers.map(\.key))
        bindings.append(answers.map { StoredResponse.recordedStatus(succeeded: $0.response.succeeded) })
        bindings.append(answers.map { Int64($0.response.status) })
        bindings.append(answers.map { ByteBuffer(bytes: $0.response.body) })
        bindings.append(answers.map(\.at.unixSeconds))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}

extension PostgresStore: MonitorStore {
    public func ingest(_ alerts: [ExternalAlert], at: Date,
                       notify: @escaping @Sendable (_ alert: ExternalAlert, _ opened: Bool) -> Addressed?) async throws -> [AlertEffect] {
        try await database.transaction { connection in
            let logger = database.logger
            let labelled = Array(Set(alerts.compactMap(\.store?.rawValue)))
            let known = Set(try await connection.rows("SELECT id FROM customers WHERE id = ANY(\(labelled))", logger: logger)
                .map { try $0.decode(String.self) })
            var effects: [AlertEffect] = []
            for alert in alerts {
                effects.append(try await Self.ingest(connection, alert, known: alert.store.map { known.contains($0.rawValue) } ?? false,
                                                     at: at, logger: logger) { notify(alert, $0) })
            }
            return effects
        }
    }

    static func ingest(_ connection: PostgresConnection, _ alert: ExternalAlert, known: Bool, at: Date, logger: Logger,
                       notify: (_ opened: Bool) -> Addressed?) async throws -> AlertEffect {
        let recorded = try await connection.rows("""
            INSERT INTO external_alerts (source, identity, status, starts_at, store_label, customer_id, name, severity, summary, received_at)
            VALUES (\(alert.source), \(alert.identity), \(alert.firing ? "firing" : "resolved"), \(alert.startsAt), \(alert.storeLabel),
                    \(known ? alert.store?.rawValue : nil), \(alert.name), \(alert.severity.rawValue), \(alert.summary), \(at.unixSeconds))
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger)
        guard !recorded.isEmpty else { return .duplicate }
        guard known, let store = alert.store else { return .unknownStore }
        let type = "alert:\(alert.name)"
        if alert.firing {
            let opened = try await connection.rows("""
                INSERT INTO performance_issues (customer_id, issue_type, severity, title, detected_at, last_seen_at, details, source)
                VALUES (\(store.rawValue), \(type), \(alert.severity.rawValue), \(alert.summary), \(at.unixSeconds), \(at.unixSeconds),
                        \(try jsonText(["fingerprint": alert.identity])), \(alert.source))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger)
            guard let id = try opened.first?.decode(Int64.self) else { return .alreadyOpen }
            if let message = notify(true) { _ = try await enqueue(connection, message, thread: .issue(id), at: at, logger: logger) }
            return .opened(id)
        }
        guard let id = try await connection.rows("""
            UPDATE performance_issues SET resolved_at = \(at.unixSeconds)
            WHERE customer_id = \(store.rawValue) AND issue_type = \(type) AND resolved_at IS NULL RETURNING id
            """, logger: logger).first?.decode(Int64.self) else { return .nothingToResolve }
        if let message = notify(false) { _ = try await enqueue(connection, message, thread: .issue(id), at: at, logger: logger) }
        return .resolved(id)
    }

    public func store(forHost host: String) async throws -> StoreID? {
        for row in try await database.rows("SELECT id, url FROM customers WHERE url IS NOT NULL") {
            let (id, url) = try row.decode((String, String).self)
            if URL(string: url)?.host?.lowercased() == host.lowercased() { return StoreID(id) }
        }
        return nil
    }

    public func recordLighthouse(store: StoreID, at: Date, score: Int?, fcp: Double?, lcp: Double?, cls: Double?,
                                 tbt: Double?, ttfb: Double?, report: String?) async throws {
        func rounded(_ value: Double?) -> Int64? { value.map { Int64($0.rounded()) } }
        try await database.transaction { connection in
            _ = try await connection.rows("""
                INSERT INTO lighthouse_probes (customer_id, probed_at, performance_score, fcp_ms, lcp_ms, cls, tbt_ms, ttfb_ms, full_report)
                VALUES (\(store.rawValue), \(at.unixSeconds), \(score.map(Int64.init)), \(rounded(fcp)), \(rounded(lcp)), \(cls),
                        \(rounded(tbt)), \(rounded(ttfb)), \(report))
                """, logger: database.logger)
            let samples = [(MetricName.fcpMs, fcp), (.lcpMs, lcp), (.ttfbMs, ttfb)].compactMap { metric, value in
                value.map { MetricSample(store: store, metric: metric, at: at, value: $0) }
            }
            _ = try await Self.insert(connection, samples, logger: database.logger)
        }
    }
}

extension PostgresStore: ServerGauges {
    public func jobCounts() async throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for row in try await database.rows("SELECT state, COUNT(*) FROM jobs GROUP BY state") {
            let (state, count) = try row.decode((String, Int).self)
            if let state = JobState(rawValue: state) { counts[state] = count }
        }
        return counts
    }

    public func outboxPending() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await database.rows("SELECT channel, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending') GROUP BY channel") {
            let (channel, count) = try row.decode((String, Int).self)
            counts[channel] = count
        }
        return counts
    }
}

extension PostgresBindings {
    /// Appends one stored value with its own type.
    mutating func append(_ value: StoredValue) throws {
        switch value {
        case .null: appendNull()
        case let .integer(integer): try append(integer)
        case let .real(real): try append(real)
        case let .text(text): try append(text)
        case let .blob(bytes): try append(Data(bytes))
        }
    }
}
