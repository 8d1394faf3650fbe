import Foundation

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

/// Posts JSON somewhere; the live one is `CurlPoster` (libcurl), tests may pass their own.
public protocol HTTPPoster: Sendable {
    func post(_ url: URL, json: [UInt8], bearer: String?) async throws -> HTTPAnswer
}
