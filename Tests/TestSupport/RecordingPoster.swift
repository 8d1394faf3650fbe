import BotChannels
import Foundation

/// A Slack Web API that accepts everything and numbers its messages (its `ts`), for following threads and
/// counting what was sent.
public final class RecordingPoster: HTTPPoster, @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var posted: [String] = []

    public init() {}

    /// Every body posted, in order.
    public var messages: [String] { lock.withLock { posted } }

    public func post(_ url: URL, json: [UInt8], bearer: String?) async throws -> HTTPAnswer {
        let count = lock.withLock { () -> Int in
            posted.append(String(decoding: json, as: UTF8.self))
            return posted.count
        }
        return HTTPAnswer(status: 200, body: Array(#"{"ok":true,"ts":"1800000000.00000\#(count)"}"#.utf8))
    }
}
