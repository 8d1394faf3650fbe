import BotChannels
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    // Header names made of token characters: the failable initializer cannot fail for these literals.
    static let slackTimestamp = HTTPField.Name("X-Slack-Request-Timestamp")!
    static let slackSignature = HTTPField.Name("X-Slack-Signature")!
    static let slackRetryNum = HTTPField.Name("X-Slack-Retry-Num")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension Request {
    /// The body, refused with 413 past `limit` bytes (by Content-Length at once, else while reading).
    func boundedBody(limit: Int) async throws -> [UInt8] {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit { throw APIError.tooLarge }
        do {
            var buffer = try await body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge
        }
    }

    /// Throws 415 unless the media type is `expected` (parameters such as charset are ignored).
    func requireMediaType(_ expected: String) throws {
        let mediaType = headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == expected else { throw APIError.unsupportedMediaType(expected: expected) }
    }
}
