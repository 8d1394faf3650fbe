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
            if let refused = try await limitedPage(store: store, link: query["link"], route: "/status/{store}") { return refused }
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
            let store = context.parameters.get("store") ?? ""
            if let refused = try await limitedPage(store: store, link: form["link"], route: "/status/{store}") { return refused }
            let (status, html) = await pages.act(store: store, form: form.fields)
            return Self.htmlResponse(status: status, html: html)
        }
    }

    /// A 429 page (with `Retry-After`) when the link is over its limit; nil when the request may go on.
    func limitedPage(store: String, link: String?, route: String) async throws -> Response? {
        do {
            try await limit(.statusLink, key: "\(store.prefix(64))/\(link?.prefix(64) ?? "")", route: route)
            return nil
        } catch let error as APIError where error.status == .tooManyRequests {
            let seconds = error.headers[.retryAfter] ?? "60"
            var response = Self.htmlResponse(status: 429, html: StatusPageNotice.tooMany(retryAfter: seconds))
            response.headers[.retryAfter] = seconds
            return response
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

/// The short page shown instead of the status page when a link is used too often.
enum StatusPageNotice {
    static func tooMany(retryAfter seconds: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">\
        <title>Too many requests</title></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;\
        padding:0 1rem;color:#1d2330"><h1 style="font-size:1.4rem">Please wait a moment</h1>\
        <p>This link was used many times in a short while, so perfbot paused it. Nothing was changed.</p>\
        <p>Reload the page in \(Int(seconds) ?? 60) seconds.</p></body></html>
        """
    }
}
