import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A local stand-in for Slack's Web API and response URLs: records what it receives and answers
/// with scripted responses in Slack's wire format (HTTP 200 with `ok`, 429 with `Retry-After`, 500).
actor SlackStandIn {
    struct Received: Sendable {
        var path: String
        var authorization: String?
        var body: String
    }

    /// A scripted answer: status, headers, body.
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        var body: String
        static let ok = Answer(status: 200, body: #"{"ok":true,"channel":"C0OPS0001","ts":"1767225601.000100"}"#)
    }

    private(set) var received: [Received] = []
    private var script: [Answer] = []

    /// Answers the next requests with `answers`, in order; then with `ok`.
    func script(_ answers: [Answer]) { script = answers }

    func receive(_ request: Received) -> Answer {
        received.append(request)
        return script.isEmpty ? .ok : script.removeFirst()
    }

    /// Runs the stand-in on a loopback port for the duration of `body`.
    func serve<T: Sendable>(_ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/**") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            let answer = await self.receive(Received(path: request.uri.path,
                                                     authorization: request.headers[.authorization],
                                                     body: String(buffer: buffer)))
            var headers: HTTPFields = [.contentType: "application/json"]
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            return Response(status: .init(code: answer.status), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        return try await LoopbackServer.serve(router) { base in try await body(base) }
    }
}

/// Runs a router on a free loopback port for the duration of `body`, which gets the base URL.
enum LoopbackServer {
    static func serve<T: Sendable>(_ router: Router<BasicRequestContext>,
                                   _ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        let port = PortBox()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { await port.set($0.localAddress?.port ?? 0) })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.runService()
                return nil
            }
            let bound = await port.wait()
            let result = try await body("http://127.0.0.1:\(bound)")
            group.cancelAll()
            return result
        }
    }
}

/// The port a server bound, once it has.
actor PortBox {
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    func set(_ value: Int) {
        port = value
        for waiter in waiters { waiter.resume(returning: value) }
        waiters = []
    }

    func wait() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiters.append($0) }
    }
}

/// A page that waits before its first byte, for timing probes.
enum SlowPage {
    static func serve<T: Sendable>(delay: Duration, _ body: @Sendable (_ url: String) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/") { _, _ -> Response in
            try await Task.sleep(for: delay)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "<html>shop</html>")))
        }
        return try await LoopbackServer.serve(router) { base in try await body(base + "/") }
    }
}
