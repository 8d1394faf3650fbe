import CCurl
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
        let timeout = self.timeout
        let result: Result<HTTPAnswer, Failure> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Self.perform(url.absoluteString, body: json, bearer: bearer, timeout: timeout))
            }
        }
        return try result.get()
    }

    /// What a transfer collects from libcurl's callbacks.
    final class Collected {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
    }

    static func perform(_ url: String, body: [UInt8], bearer: String?, timeout: TimeInterval) -> Result<HTTPAnswer, Failure> {
        _ = HTTPProbeGlobal.initialized
        guard let handle = curl_easy_init() else { return .failure(Failure(reason: "libcurl could not start")) }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Content-Type: application/json; charset=utf-8")
        if let bearer { headers = curl_slist_append(headers, "Authorization: Bearer \(bearer)") }
        headers = curl_slist_append(headers, "Expect:")
        defer { curl_slist_free_all(headers) }
        let collected = Collected()
        let context = Unmanaged.passRetained(collected)
        defer { context.release() }
        _ = ccurl_setopt_str(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_long(handle, CURLOPT_POST, 1)
        _ = ccurl_setopt_str(handle, CURLOPT_USERAGENT, "perfbot/1")
        _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        _ = ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
        let copied = body.withUnsafeBufferPointer { buffer -> CURLcode in
            ccurl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
        }
        guard copied == CURLE_OK else { return .failure(Failure(reason: "libcurl could not take the body")) }
        _ = ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, context.toOpaque())
        _ = ccurl_setopt_write(handle) { data, size, count, pointer in
            guard let data, let pointer else { return 0 }
            let collected = Unmanaged<Collected>.fromOpaque(pointer).takeUnretainedValue()
            let length = size * count
            let room = max(0, 64 * 1024 - collected.body.count)
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
        guard code == CURLE_OK else { return .failure(Failure(reason: String(cString: curl_easy_strerror(code)))) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPAnswer(status: status, headers: collected.headers, body: collected.body))
    }
}
