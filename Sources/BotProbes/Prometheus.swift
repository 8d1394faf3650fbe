import CurlTransfer
import Foundation

/// The PromQL perfbot asks a Prometheus for, one query per reading for the whole fleet, and the label that
/// names a store's container in the answers. The defaults are cAdvisor's series (PROTOCOLS.md §10).
public struct PrometheusQueries: Sendable, Equatable {
    /// The label whose value is the store's container name.
    public var label = "name"
    /// Memory used against the container's limit, percent (containers without a limit are left out).
    public var memoryPercent = #"100 * container_memory_working_set_bytes{name!=""} / (container_spec_memory_limit_bytes{name!=""} > 0)"#
    /// CPU in cores; perfbot divides by the store's `cpu_cores`.
    public var cpuCores = #"rate(container_cpu_usage_seconds_total{name!=""}[2m])"#
    /// OOM kills in the last two minutes.
    public var oomKills = #"increase(container_oom_events_total{name!=""}[2m])"#
    /// Bytes the container's filesystem uses; perfbot divides by the store's `disk_gb`.
    public var diskBytes = #"container_fs_usage_bytes{name!=""}"#

    public init() {}

    /// Each reading's query, in a fixed order.
    public var all: [(reading: PrometheusReading, query: String)] {
        [(.memoryPercent, memoryPercent), (.cpuCores, cpuCores), (.oomKills, oomKills), (.diskBytes, diskBytes)]
    }
}

public enum PrometheusReading: String, Sendable, CaseIterable {
    case memoryPercent = "memory_percent", cpuCores = "cpu_cores", oomKills = "oom_kills", diskBytes = "disk_bytes"
}

/// Asks a Prometheus server (`/api/v1/query`) over libcurl, on a Dispatch queue behind a continuation.
public struct PrometheusClient: Sendable {
    public let baseURL: String
    let timeout: TimeInterval
    let queue = DispatchQueue(label: "perfbot.prometheus", attributes: .concurrent)

    public init(baseURL: String, timeout: TimeInterval = 10) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        _ = HTTPProbe.globalInit
    }

    /// The instant vector of `query`, summed per value of `label` (a container with several filesystems or
    /// CPUs gives one figure). NaN and infinite values are dropped.
    public func query(_ query: String, label: String) async throws -> [String: Double] {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let url = "\(baseURL)/api/v1/query?query=\(encoded)"
        // A whole fleet's answer is a few MB; far more is not a Prometheus answer.
        let request = CurlTransfer.Request(url: url, timeout: timeout, bodyLimit: 64 << 20, overflow: .fail)
        switch await CurlTransfer.run(request, on: queue) {
        case let .success(answer): return try Self.vector(answer.body, status: answer.status, label: label)
        case let .failure(error): throw PrometheusError.failed(error.reason)
        }
    }

    public static func vector(_ body: [UInt8], status: Int, label: String) throws -> [String: Double] {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw PrometheusError.failed("HTTP \(status), not a Prometheus answer")
        }
        guard root["status"] as? String == "success", let data = root["data"] as? [String: Any] else {
            let kind = root["errorType"] as? String ?? "error"
            let message = (root["error"] as? String).map { String($0.prefix(200)) } ?? "no detail"
            throw PrometheusError.failed("HTTP \(status), \(kind): \(message)")
        }
        guard data["resultType"] as? String == "vector", let result = data["result"] as? [[String: Any]] else {
            throw PrometheusError.failed("the query did not give an instant vector")
        }
        var values: [String: Double] = [:]
        for series in result {
            guard let metric = series["metric"] as? [String: Any], let name = metric[label] as? String,
                  let pair = series["value"] as? [Any], pair.count == 2, let text = pair[1] as? String,
                  let value = Double(text), value.isFinite else { continue }
            values[name, default: 0] += value
        }
        return values
    }
}

public enum PrometheusError: Error, Equatable, CustomStringConvertible {
    case failed(String)

    public var description: String {
        switch self {
        case let .failed(reason): reason
        }
    }
}
