import CurlTransfer
import Dispatch
import Foundation

/// POSTs JSON with libcurl (the stack's HTTP client): the blocking transfer runs on a Dispatch queue behind
/// a continuation, never on the cooperative threads, and is bounded by a timeout; the answer's body is
/// kept up to 64 KiB and its headers by lowercased name (`retry-after` for Slack's 429).
public struct CurlPoster: HTTPPoster {
    let timeout: TimeInterval
    let queue = DispatchQueue(label: "perfbot.http", attributes: .concurrent)

    public init(timeout: TimeInterval = 10) { self.timeout = timeout }

    public struct Failure: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public func post(_ url: URL, json: [UInt8], bearer: String?) async throws -> HTTPAnswer {
        var headers = ["Content-Type: application/json; charset=utf-8", "Expect:"]
        if let bearer { headers.insert("Authorization: Bearer \(bearer)", at: 1) }
        let request = CurlTransfer.Request(url: url.absoluteString, postBody: json, headers: headers, timeout: timeout,
                                           bodyLimit: 64 * 1024, overflow: .truncate)
        switch await CurlTransfer.run(request, on: queue) {
        case let .success(answer): return HTTPAnswer(status: answer.status, headers: answer.headers, body: answer.body)
        case let .failure(error): throw Failure(reason: error.reason)
        }
    }
}
