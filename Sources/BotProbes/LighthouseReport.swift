import BotCore
import Foundation

/// The figures perfbot keeps from a Lighthouse report (LHR), read from `numericValue`s, never from
/// the localised `displayValue`s.
public struct LighthouseReport: Sendable, Equatable {
    public var url: String
    public var fetchedAt: Date?
    /// 0–100; nil when the run errored.
    public var performanceScore: Int?
    public var fcpMs: Double?
    public var lcpMs: Double?
    public var cls: Double?
    public var tbtMs: Double?
    public var ttfbMs: Double?
    public var runtimeError: String?

    /// Reads a report; throws when `bytes` is not a Lighthouse report.
    public init(json bytes: [UInt8]) throws(LighthouseReportError) {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw .notJSON
        }
        guard root["lighthouseVersion"] is String, let audits = root["audits"] as? [String: Any] else {
            throw .notLighthouse
        }
        url = (root["finalDisplayedUrl"] as? String) ?? (root["finalUrl"] as? String) ?? (root["requestedUrl"] as? String) ?? ""
        fetchedAt = (root["fetchTime"] as? String).flatMap(Timestamp.parse)
        let categories = root["categories"] as? [String: Any]
        let performance = categories?["performance"] as? [String: Any]
        performanceScore = (performance?["score"] as? Double).map { Int(($0 * 100).rounded()) }
        func numeric(_ id: String) -> Double? {
            ((audits[id] as? [String: Any])?["numericValue"] as? NSNumber)?.doubleValue
        }
        fcpMs = numeric("first-contentful-paint")
        lcpMs = numeric("largest-contentful-paint")
        cls = numeric("cumulative-layout-shift")
        tbtMs = numeric("total-blocking-time")
        let metricsItem = (((audits["metrics"] as? [String: Any])?["details"] as? [String: Any])?["items"] as? [[String: Any]])?.first
        let insight = ((audits["document-latency-insight"] as? [String: Any])?["details"] as? [String: Any])?["debugData"]
            as? [String: Any]
        ttfbMs = numeric("server-response-time") ?? (metricsItem?["timeToFirstByte"] as? NSNumber)?.doubleValue
            ?? (insight?["serverResponseTime"] as? NSNumber)?.doubleValue
        runtimeError = ((root["runtimeError"] as? [String: Any])?["message"] as? String)
            ?? ((root["runtimeError"] as? [String: Any])?["code"] as? String)
    }

    /// The report without its screenshots (most of its size), as JSON text for `lighthouse_probes`.
    public static func compact(_ bytes: [UInt8]) -> String? {
        guard var root = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return nil }
        root["fullPageScreenshot"] = nil
        root["timing"] = nil
        if var audits = root["audits"] as? [String: Any] {
            for id in ["screenshot-thumbnails", "final-screenshot", "full-page-screenshot"] { audits[id] = nil }
            root["audits"] = audits
        }
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Why a body is not a usable Lighthouse report.
public enum LighthouseReportError: Error, Equatable, Sendable {
    case notJSON
    case notLighthouse

    public var message: String {
        switch self {
        case .notJSON: "is not valid JSON"
        case .notLighthouse: "is not a Lighthouse report (lighthouseVersion and audits are required)"
        }
    }
}
