import BotCore
import Foundation
import Hummingbird
import Logging

/// Records each accepted delivery before acting, and answers a retry from the record instead of acting twice.
struct DeliveryGate: Sendable {
    let store: any ServerStore
    let clock: any BotClock
    let metrics: ServerMetrics

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
                try await store.finishDelivery(key: record.key, succeeded: stored.status < 400, response: stored,
                                               messages: messages, at: clock.now)
                return Self.response(stored)
            } catch {
                let failed = StoredResponse(status: (error as? APIError).map { Int($0.status.code) } ?? 500, body: [])
                try? await store.finishDelivery(key: record.key, succeeded: false, response: failed, at: clock.now)
                throw error
            }
        }
    }

    /// For work without side effects (a read-only command): does it first, then records the delivery
    /// and its answer in one transaction. A repeat gets the answer recorded the first time.
    func recordAfter(_ record: DeliveryRecord, logger: Logger,
                     work: @Sendable () async throws -> StoredResponse) async throws -> Response {
        let answer = try await work()
        return respond(try await store.recordDelivery(record, response: answer), record, logger: logger)
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

extension StoredResponse {
    /// A JSON answer to keep and send.
    static func json(_ value: JSONValue, status: Int = 200) -> StoredResponse {
        StoredResponse(status: status, body: value.bytes())
    }
}
