import BotCore
import BotStore
import Foundation
import Hummingbird
import Logging

/// Records each accepted delivery before acting, and answers a retry from the record instead of acting twice.
struct DeliveryGate: Sendable {
    let store: SQLiteStore
    let clock: any BotClock
    let metrics: ServerMetrics

    func once(source: String, key: String, contentType: String?, body: [UInt8], logger: Logger,
              work: @Sendable (_ deliveryID: Int64) async throws -> StoredResponse) async throws -> Response {
        switch try await store.admitDelivery(source: source, key: key, contentType: contentType, body: body, at: clock.now) {
        case let .duplicate(id, stored):
            metrics.recordDuplicate(source: source)
            logger.info("duplicate delivery answered from the log", metadata: ["delivery": "\(id)", "source": "\(source)"])
            guard let stored else {
                return APIError.jsonResponse(status: .ok, body: .object([
                    ("status", .string("duplicate")),
                    ("message", .string("Already received; it is being handled.")),
                ]))
            }
            return Self.response(stored)
        case let .fresh(id):
            do {
                let stored = try await work(id)
                try await store.finishDelivery(id: id, succeeded: stored.status < 400, response: stored, at: clock.now)
                return Self.response(stored)
            } catch {
                let failed = StoredResponse(status: (error as? APIError).map { Int($0.status.code) } ?? 500, body: [])
                try? await store.finishDelivery(id: id, succeeded: false, response: failed, at: clock.now)
                throw error
            }
        }
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
        StoredResponse(status: status, body: Array((try? value.data()) ?? Data("{}".utf8)))
    }
}
