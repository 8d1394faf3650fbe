import CCurl
import Dispatch
import Foundation

/// One HTTP transfer with libcurl, for every part of perfbot that speaks HTTP out (Slack's API, Prometheus):
/// the blocking call runs on a Dispatch queue behind a continuation, never on the cooperative threads,
/// bounded by a timeout; the body is kept up to a limit and the headers by lowercased name.
public enum CurlTransfer {
    /// `curl_global_init`, once per process, before any handle.
    public static let initialized: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public struct Answer: Sendable {
        public var status: Int
        /// Header values by lowercased name.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// What to do with a body past `bodyLimit`: keep its start, or give up the transfer.
    public enum Overflow: Sendable { case truncate, fail }

    public struct Request: Sendable {
        public var url: String
        /// A POST body; nil for a GET.
        public var postBody: [UInt8]?
        public var headers: [String]
        public var timeout: TimeInterval
        public var bodyLimit: Int
        public var overflow: Overflow

        public init(url: String, postBody: [UInt8]? = nil, headers: [String] = [], timeout: TimeInterval,
                    bodyLimit: Int, overflow: Overflow) {
            self.url = url
            self.postBody = postBody
            self.headers = headers
            self.timeout = timeout
            self.bodyLimit = bodyLimit
            self.overflow = overflow
        }
    }

    /// Runs `request` on `queue`; the answer, or libcurl's words for why there was none.
    public static func run(_ request: Request, on queue: DispatchQueue) async -> Result<Answer, TransferError> {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: perform(request)) }
        }
    }

    public struct TransferError: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    final class Collected {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        let limit: Int
        let overflow: Overflow
        init(limit: Int, overflow: Overflow) {
            self.limit = limit
            self.overflow = overflow
        }
    }

    static func perform(_ request: Request) -> Result<Answer, TransferError> {
        _ = initialized
        guard let handle = curl_easy_init() else { return .failure(TransferError(reason: "libcurl could not start")) }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>?
        for header in request.headers { headers = curl_slist_append(headers, header) }
        defer { curl_slist_free_all(headers) }
        let collected = Collected(limit: request.bodyLimit, overflow: request.overflow)
        let context = Unmanaged.passRetained(collected)
        defer { context.release() }
        _ = ccurl_setopt_str(handle, CURLOPT_URL, request.url)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_str(handle, CURLOPT_USERAGENT, "perfbot/1")
        if headers != nil { _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers) }
        if let body = request.postBody {
            _ = ccurl_setopt_long(handle, CURLOPT_POST, 1)
            _ = ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            let copied = body.withUnsafeBufferPointer { buffer -> CURLcode in
                ccurl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
            guard copied == CURLE_OK else { return .failure(TransferError(reason: "libcurl could not take the body")) }
        }
        _ = ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, context.toOpaque())
        _ = ccurl_setopt_write(handle) { data, size, count, pointer in
            guard let data, let pointer else { return 0 }
            let collected = Unmanaged<Collected>.fromOpaque(pointer).takeUnretainedValue()
            let length = size * count
            let room = max(0, collected.limit - collected.body.count)
            if length > room, collected.overflow == .fail { return 0 }
            data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                collected.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: min(room, length)))
            }
            return length
        }
        _ = ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, context.toOpaque())
        _ = ccurl_setopt_header(handle) { data, size, count, pointer in
            guard let data, let pointer else { return 0 }
            let collected = Unmanaged<Collected>.fromOpaque(pointer).takeUnretainedValue()
            let length = size * count
            let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
            }
            if let colon = line.firstIndex(of: ":") {
                collected.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return length
        }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { return .failure(TransferError(reason: String(cString: curl_easy_strerror(code)))) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(Answer(status: status, headers: collected.headers, body: collected.body))
    }
}
