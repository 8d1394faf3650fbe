import BotCore
import Foundation
import HTTPTypes
import Hummingbird

/// An error answered as `{"error": code, "message": …}` with its own status.
public struct APIError: HTTPResponseError, Sendable, Equatable {
    public let status: HTTPResponse.Status
    /// A stable machine-readable code (`bad_signature`, `malformed`, …).
    public let code: String
    /// What is wrong and what to do, safe to show to the caller.
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.jsonResponse(status: status, body: .object([("error", .string(code)), ("message", .string(message))]),
                          extra: headers)
    }

    static func jsonResponse(status: HTTPResponse.Status, body: JSONValue, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.bytes())))
    }

    public static func malformed(_ field: String, _ problem: String) -> APIError {
        APIError(.badRequest, code: "malformed", message: "\(field): \(problem)")
    }

    public static func unsupportedMediaType(expected: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the body as \(expected).")
    }

    public static let tooLarge = APIError(.contentTooLarge, code: "too_large",
                                          message: "The body is larger than this endpoint accepts.")
    public static let notFound = APIError(.notFound, code: "not_found",
                                          message: "No such route. See the README for perfbot's endpoints.")
    /// 429 with `Retry-After`: what was over its limit, and that nothing was done.
    public static func rateLimited(_ kind: RateKeyKind, limit: RateLimit, retryAfter: Int) -> APIError {
        let what = switch kind {
        case .slackUser: "from this Slack user"
        case .statusLink: "with this status page link"
        case .emailContact: "from this e-mail address"
        case .sourceToken: "with this token"
        }
        var error = APIError(.tooManyRequests, code: "rate_limited",
                             message: "Too many requests \(what) (limit \(limit)). This one was not acted on; "
                                 + "send it again in \(retryAfter) s.")
        error.headers[.retryAfter] = String(retryAfter)
        return error
    }

    public static func disabled(_ what: String, missing: String) -> APIError {
        APIError(.serviceUnavailable, code: "disabled", message: "\(what): turned off until \(missing) is set.")
    }
}

