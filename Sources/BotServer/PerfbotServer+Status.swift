import BotChannels
import BotCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The store's status page, reached by a signed link: rendered and acted on outside the server module.
public protocol StatusPages: Sendable {
    /// The page for `store` (`query`: the link's `expires` and `sig`): an HTTP status and HTML.
    func page(store: String, query: [String: String]) async -> (status: Int, html: String)
    /// A form posted from the page (Approve, Reject, optimize, automation level).
    func act(store: String, form: [String: String]) async -> (status: Int, html: String)
}

extension PerfbotServer {
    func addStatusRoutes(to router: Router<BasicRequestContext>) {
        router.get("/status/:store") { request, context in
            guard let pages = statusPages else { throw APIError.disabled("the status page", missing: "PERFBOT_LINK_SECRET") }
            let store = context.parameters.get("store") ?? ""
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            let (status, html) = await pages.page(store: store, query: query)
            return Self.htmlResponse(status: status, html: html)
        }
        router.post("/status/:store") { request, context in
            guard let pages = statusPages else { throw APIError.disabled("the status page", missing: "PERFBOT_LINK_SECRET") }
            var request = request
            let body = try await request.boundedBody(limit: 16 * 1024)
            try request.requireMediaType("application/x-www-form-urlencoded")
            let form: FormBody
            do { form = try FormBody(body) } catch { throw APIError.malformed("body", "is not form-encoded") }
            let (status, html) = await pages.act(store: context.parameters.get("store") ?? "", form: form.fields)
            return Self.htmlResponse(status: status, html: html)
        }
    }

    /// HTML with the headers a page holding a signed link needs: no referrer (the link is a secret), no
    /// framing, no caching, and nothing but inline styles and the page's own forms.
    static func htmlResponse(status: Int, html: String) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'"
        return Response(status: HTTPResponse.Status(code: status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
