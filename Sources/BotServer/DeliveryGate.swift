import BotCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Records each accepted delivery before acting, and answers a retry from the record instead of acting twice.
struct DeliveryGate: Sendable {
    let store: any ServerStore
    let clock: any BotClock
    let metrics: ServerMetrics
    let recorder: DeliveryRecorder

    init(store: any ServerStore, clock: any BotClock, metrics: ServerMetrics, logger: Logger) {
        self.store = store
        self.clock = clock
        self.metrics = metrics
        recorder = DeliveryRecorder(store: store, logger: logger)
    }

    /// The record of a delivery arriving now.
    func record(source: String, key: String, contentType: String?, body: [UInt8]) -> DeliveryRecord {
        DeliveryRecord(source: source, key: key, contentType: contentType, body: body, at: clock.now)
    }

    /// Records the delivery, then does `work` once; a repeat is answered from the record.
    func once(_ record: DeliveryRecord, logger: Logger,
              work: @Sendable (_ deliveryID: Int64) async throws -> StoredResponse) async throws -> Response {
        try await onceQueuing(record, logger: logger) { id in (try await work(id), []) }
    }

    /// As `once`, and the messages the work caused are queued in the same transaction that marks it done.
    func onceQueuing(_ record: DeliveryRecord, logger: Logger,
                     work: @Sendable (_ deliveryID: Int64) async throws
                         -> (StoredResponse, [Addressed])) async throws -> Response {
        switch try await store.admitDelivery(record) {
        case let .duplicate(id, stored):
            return duplicate(record, id: "\(id)", stored: stored, logger: logger)
        case let .fresh(id):
            do {
                let (stored, messages) = try await work(id)
                try await store.finishDelivery(key: record.key, succeeded: stored.succeeded, response: stored,
                                               messages: messages, at: clock.now)
                return Self.response(stored)
            } catch {
                let failed = StoredResponse(status: (error as? APIError).map { Int($0.status.code) } ?? 500, body: [])
                try? await store.finishDelivery(key: record.key, succeeded: false, response: failed, at: clock.now)
                throw error
            }
        }
    }

    /// For work without side effects (a read-only command): does it first, answers, and leaves the record of the
    /// delivery and its answer to the recorder, which writes such records in batches: the command never waits behind
    /// other writes. A repeat gets the answer given the first time.
    func recordAfter(_ record: DeliveryRecord, logger: Logger,
                     work: @Sendable () async throws -> StoredResponse) async throws -> Response {
        if let first = await recorder.answer(record.key) { return respond(.duplicate(first), record, logger: logger) }
        let answer = try await work()
        return respond(await recorder.record(record, answer), record, logger: logger)
    }

    /// Answers with a delivery result, counting a repeat.
    func respond(_ result: DeliveryResult, _ record: DeliveryRecord, logger: Logger) -> Response {
        switch result {
        case let .fresh(answer): Self.response(answer)
        case let .duplicate(stored): duplicate(record, id: "-", stored: stored, logger: logger)
        }
    }

    private func duplicate(_ record: DeliveryRecord, id: String, stored: StoredResponse?, logger: Logger) -> Response {
        metrics.recordDuplicate(source: record.source)
        logger.info("duplicate delivery answered from the log", metadata: ["delivery": "\(id)", "source": "\(record.source)"])
        guard let stored else {
            return APIError.jsonResponse(status: .ok, body: .object([
                ("status", .string("duplicate")),
                ("message", .string("Already received; it is being handled.")),
            ]))
        }
        return Self.response(stored)
    }

    static func response(_ stored: StoredResponse) -> Response {
        guard !stored.body.isEmpty else { return Response(status: .init(code: stored.status)) }
        return Response(status: .init(code: stored.status),
                        headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
    }
}

/// The records of read-only commands, written after their answers by one writer in batches (one transaction each),
/// so that answering never waits for the database's writer; each keeps its answer's status, not its bytes. The
/// answers of the last 4,096 are kept, so a retry is answered as the first delivery was. On shutdown, whatever waits
/// is written before perfbot stops.
actor DeliveryRecorder: Service {
    let store: any ServerStore
    let logger: Logger
    private var waiting: [(record: DeliveryRecord, response: StoredResponse)] = []
    private var recent: [String: StoredResponse] = [:]
    private var order: [String] = []
    private var writing: Task<Void, Never>?
    static let remembered = 4096
    static let gathering = Duration.milliseconds(5)

    init(store: any ServerStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The answer a delivery of `key` was given, when this process gave one lately.
    func answer(_ key: String) -> StoredResponse? { recent[key] }

    /// Keeps `response` as the answer to `record` and queues the record; a key answered before keeps its first answer.
    func record(_ record: DeliveryRecord, _ response: StoredResponse) -> DeliveryResult {
        if let first = recent[record.key] { return .duplicate(first) }
        recent[record.key] = response
        order.append(record.key)
        if order.count > Self.remembered * 2 {
            for key in order.prefix(order.count - Self.remembered) { recent[key] = nil }
            order.removeFirst(order.count - Self.remembered)
        }
        waiting.append((record, response))
        if writing == nil { writing = Task { await self.write() } }
        return .fresh(response)
    }

    /// Writes what waits, batch by batch, until nothing does. A failed batch is logged and retried once.
    /// A record keeps what arrived and the status of its answer, not the answer's bytes: the command changed nothing,
    /// so its answer can be built again, and a retry while this process runs gets the first one from `recent`.
    /// Each batch first waits `gathering` for the records arriving meanwhile: a commit costs the same few pages for one
    /// record or fifty, and under load one per command would keep the writer and the checkpoints busy.
    private func write() async {
        while !waiting.isEmpty {
            try? await Task.sleep(for: Self.gathering)
            let batch = waiting.map { ($0.record, StoredResponse(status: $0.response.status, body: [])) }
            waiting = []
            do {
                try await store.recordDeliveries(batch)
            } catch {
                do {
                    try await store.recordDeliveries(batch)
                } catch {
                    logger.error("could not record answered deliveries", metadata: ["count": "\(batch.count)", "error": "\(error)"])
                }
            }
        }
        writing = nil
    }

    /// Every record queued so far, written.
    func flush() async {
        while let writing { await writing.value }
    }

    /// Runs beside the server; on shutdown, writes what waits, including the answers of requests still finishing.
    nonisolated func run() async throws {
        try? await gracefulShutdown()
        for _ in 0..<10 {
            await flush()
            try? await Task.sleep(for: .milliseconds(100))
        }
        await flush()
    }
}

extension StoredResponse {
    /// A JSON answer to keep and send.
    static func json(_ value: JSONValue, status: Int = 200) -> StoredResponse {
        StoredResponse(status: status, body: value.bytes())
    }
}
