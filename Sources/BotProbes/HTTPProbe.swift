import BotCore
import CCurl
import CurlTransfer
import Dispatch
import Foundation

/// The timings of one HTTP request, as libcurl measured them.
public struct HTTPTiming: Sendable, Equatable {
    public var statusCode: Int
    public var dnsMs: Double
    public var connectMs: Double
    /// Zero for plain HTTP.
    public var tlsMs: Double
    public var ttfbMs: Double
    public var totalMs: Double
}

/// Why a probe got no answer.
public enum HTTPProbeError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidURL
    /// libcurl's own words ("Couldn't connect to server", "Timeout was reached").
    case failed(String)

    public var description: String {
        switch self {
        case .invalidURL: "not an http(s) URL"
        case let .failed(reason): "\(kind): \(reason)"
        }
    }

    /// The kind of failure, for the uptime record (ORIGINAL-DESIGN §4.3): `dns`, `connect`, `tls`, `timeout` or `other`.
    public var kind: String {
        guard case let .failed(reason) = self else { return "url" }
        let lowered = reason.lowercased()
        if lowered.contains("resolve") { return "dns" }
        if lowered.contains("timeout") || lowered.contains("timed out") { return "timeout" }
        if lowered.contains("ssl") || lowered.contains("tls") || lowered.contains("certificate") { return "tls" }
        if lowered.contains("connect") { return "connect" }
        return "other"
    }
}

/// A synthetic page request through libcurl, recording DNS, connect, TLS, first-byte and total time.
/// The blocking transfer runs on a Dispatch queue, never on the cooperative pool.
public struct HTTPProbe: Sendable {
    let timeout: TimeInterval
    let queue = DispatchQueue(label: "perfbot.http-probe", attributes: .concurrent)

    public init(timeout: TimeInterval = 15) {
        self.timeout = timeout
        HTTPProbe.globalInit
    }

    /// `curl_global_init`, once per process.
    static var globalInit: Void { CurlTransfer.initialized }

    public func probe(_ url: String) async throws(HTTPProbeError) -> HTTPTiming {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
            throw .invalidURL
        }
        let timeout = self.timeout
        let result: Result<HTTPTiming, HTTPProbeError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Self.perform(url, timeout: timeout)) }
        }
        return try result.get()
    }

    static func perform(_ url: String, timeout: TimeInterval) -> Result<HTTPTiming, HTTPProbeError> {
        guard let handle = curl_easy_init() else { return .failure(.failed("libcurl could not start")) }
        defer { curl_easy_cleanup(handle) }
        _ = ccurl_setopt_str(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_str(handle, CURLOPT_USERAGENT, "perfbot-probe/1")
        // The body is read and dropped: only the timings matter.
        _ = ccurl_setopt_write(handle) { _, size, count, _ in size * count }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { return .failure(.failed(String(cString: curl_easy_strerror(code)))) }
        func seconds(_ info: CURLINFO) -> Double {
            var value: curl_off_t = 0
            _ = ccurl_getinfo_off(handle, info, &value)
            return Double(value) / 1000  // microseconds → milliseconds
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let dns = seconds(CURLINFO_NAMELOOKUP_TIME_T)
        let connect = seconds(CURLINFO_CONNECT_TIME_T)
        let tls = seconds(CURLINFO_APPCONNECT_TIME_T)
        return .success(HTTPTiming(statusCode: status, dnsMs: dns, connectMs: max(0, connect - dns),
                                   tlsMs: tls > 0 ? max(0, tls - connect) : 0,
                                   ttfbMs: seconds(CURLINFO_STARTTRANSFER_TIME_T), totalMs: seconds(CURLINFO_TOTAL_TIME_T)))
    }
}
