import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP answer, as far as delivery cares.
public struct HTTPAnswer: Sendable, Equatable {
    public var status: Int
    /// Header values by lowercased name.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Posts JSON somewhere; the live one uses URLSession, tests may pass their own.
public protocol HTTPPoster: Sendable {
    func post(_ url: URL, json: [UInt8], bearer: String?) async throws -> HTTPAnswer
}

/// POSTs with URLSession, bounded by a timeout.
public struct URLSessionPoster: HTTPPoster {
    let timeout: TimeInterval

    public init(timeout: TimeInterval = 10) { self.timeout = timeout }

    public func post(_ url: URL, json: [UInt8], bearer: String?) async throws -> HTTPAnswer {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json; charset=utf-8", forHTTPHeaderField: "Content-Type")
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        request.httpBody = Data(json)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http?.allHeaderFields ?? [:] {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return HTTPAnswer(status: http?.statusCode ?? 0, headers: headers, body: Array(data.prefix(64 * 1024)))
    }
}
