import BotChannels
import BotCore
import BotProbes
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The body of `POST /webhooks/uptime`.
struct UptimeBatch: Decodable {
    struct Result: Decodable {
        var store: String
        var at: String
        var up: Bool
        var ttfbMs: Double?
        var statusCode: Int?

        enum CodingKeys: String, CodingKey {
            case store, at, up
            case ttfbMs = "ttfb_ms"
            case statusCode = "status_code"
        }
    }

    var results: [Result]
}

extension PerfbotServer {
    func alertmanager(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await verifiedWebhookBody(request, source: .alertmanager, route: "/webhooks/alertmanager").body
        return try await alerts(body, source: "alertmanager", version: "4", request: request, context: context)
    }

    func grafana(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let route = "/webhooks/grafana"
        let body: [UInt8]
        if let secret = settings.grafanaSecret, let signature = request.headers[.grafanaSignature] {
            try await limit(.sourceToken, key: "source:grafana", route: route)
            body = try await request.boundedBody(limit: settings.bodyLimit)
            let timestampHeader = settings.grafanaTimestampHeader.flatMap { HTTPField.Name($0) }
            let verifier = GrafanaSignatureVerifier(secret: secret, clock: clock)
            try verified(route: route) { () throws(VerificationFailure) in
                try verifier.verify(signature: signature, timestamp: timestampHeader.flatMap { request.headers[$0] },
                                    usesTimestamp: timestampHeader != nil, body: body)
            }
        } else {
            body = try await verifiedWebhookBody(request, source: .grafana, route: route).body
        }
        return try await alerts(body, source: "grafana", version: "1", request: request, context: context)
    }

    /// Records every alert of a delivery, opening or resolving the store's issues, once per delivery.
    func alerts(_ body: [UInt8], source: String, version: String, request: Request,
                context: BasicRequestContext) async throws -> Response {
        try request.requireMediaType("application/json")
        let payload = try decodeJSON(AlertPayload.self, body)
        guard payload.version == version || payload.version.isEmpty else {
            throw APIError(.unprocessableContent, code: "unsupported_version",
                           message: "Expected payload version \(version), got \(payload.version.prefix(10)).")
        }
        let record = gate.record(source: source, key: try idempotencyKey(request, source: source, body: body),
                                 contentType: request.headers[.contentType], body: body)
        return try await gate.once(record, logger: context.logger) { _ in
            var opened = 0, resolved = 0, duplicates = 0
            var unknown = Set<String>()
            let origin = source == "grafana" ? "Grafana" : "Alertmanager"
            let storeLabel = settings.alertStoreLabel
            let alerts = payload.alerts.map { alert in
                let label = alert.labels[storeLabel]
                return ExternalAlert(source: source, identity: alert.identity, firing: alert.isFiring, startsAt: alert.startsAt ?? "",
                                     storeLabel: label, store: label.flatMap(StoreID.init), name: alert.name, severity: alert.severity,
                                     summary: alert.summary)
            }
            // A silenced store's alerts are recorded and open or resolve its issues, but post nothing.
            let now = clock.now
            let silenced = Set(try await store.activeSilences(at: now).map(\.store)).intersection(alerts.compactMap(\.store))
            let notify: @Sendable (ExternalAlert, Bool) -> Addressed? = { alert, opened in
                if let id = alert.store, silenced.contains(id) { return nil }
                // Names, labels and annotations come from outside: escaped, so `<!channel>` or a disguised link
                // arrive as plain text.
                let (name, shown, summary) = (Wording.escapedForSlack(alert.name), Wording.escapedForSlack(alert.storeLabel ?? ""),
                                              Wording.escapedForSlack(alert.summary))
                let marker = alert.severity == .critical ? "🔴" : "🟠"
                return queuedAlert(opened ? "\(marker) *\(name)* on *\(shown)* (from \(origin)): \(summary)"
                    : "✅ Resolved: *\(name)* on \(shown).")
            }
            for (alert, effect) in zip(alerts, try await store.ingest(alerts, at: now, notify: notify)) {
                switch effect {
                case .duplicate: duplicates += 1
                case .unknownStore: unknown.insert(alert.storeLabel ?? "(no \(storeLabel) label)")
                case .opened: opened += 1
                case .resolved: resolved += 1
                case .alreadyOpen, .nothingToResolve: break
                }
            }
            if !unknown.isEmpty {
                context.logger.notice("alerts for unknown stores kept", metadata: ["source": "\(source)", "stores": "\(unknown.sorted())"])
            }
            return .json(.object([
                ("alerts", .int(payload.alerts.count)), ("opened", .int(opened)), ("resolved", .int(resolved)),
                ("duplicates", .int(duplicates)), ("truncated", .int(payload.truncatedAlerts)),
                ("silenced_stores", .array(silenced.map(\.rawValue).sorted().map(JSONValue.string))),
                ("unknown_stores", .array(unknown.sorted().map(JSONValue.string))),
            ]))
        }
    }

    /// `text` as a message for the alerts channel; nil when no channel is configured.
    func queuedAlert(_ text: String) -> Addressed? {
        settings.alertsChannel.map { .slack($0, .text(text)) }
    }

    func lighthouse(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await verifiedWebhookBody(request, source: .lighthouse, route: "/webhooks/lighthouse",
                                                 bodyLimit: settings.lighthouseBodyLimit).body
        try request.requireMediaType("application/json")
        let report: LighthouseReport
        do { report = try LighthouseReport(json: body) } catch { throw APIError.malformed("body", error.message) }
        let named = request.uri.queryParameters.get("store")
        var id = named.flatMap(StoreID.init)
        if named != nil, id == nil { throw APIError.malformed("store", "is not a store name") }
        if id == nil, let host = URL(string: report.url)?.host { id = try await store.store(forHost: host) }
        guard let id, try await store.customer(id) != nil else {
            throw APIError(.unprocessableContent, code: "unknown_store",
                           message: "No store matches \(named ?? report.url); pass ?store=<store> or set the store's url.")
        }
        let record = gate.record(source: "lighthouse", key: try idempotencyKey(request, source: "lighthouse", body: body),
                                 contentType: request.headers[.contentType], body: [])
        return try await gate.once(record, logger: context.logger) { _ in
            try await store.recordLighthouse(store: id, at: report.fetchedAt ?? clock.now, score: report.performanceScore,
                                             fcp: report.fcpMs, lcp: report.lcpMs, cls: report.cls, tbt: report.tbtMs,
                                             ttfb: report.ttfbMs, report: LighthouseReport.compact(body))
            var pairs: [(String, JSONValue)] = [("store", .string(id.rawValue))]
            pairs.append(("performance_score", report.performanceScore.map { .int($0) } ?? .null))
            for (name, value) in [("fcp_ms", report.fcpMs), ("lcp_ms", report.lcpMs), ("cls", report.cls),
                                  ("tbt_ms", report.tbtMs), ("ttfb_ms", report.ttfbMs)] {
                pairs.append((name, value.map { .number($0) } ?? .null))
            }
            if let error = report.runtimeError { pairs.append(("runtime_error", .string(error))) }
            return .json(.object(pairs))
        }
    }

    func uptime(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await verifiedWebhookBody(request, source: .uptime, route: "/webhooks/uptime").body
        try request.requireMediaType("application/json")
        let batch = try decodeJSON(UptimeBatch.self, body)
        var samples: [MetricSample] = []
        var rejected: [JSONValue] = []
        for (index, result) in batch.results.enumerated() {
            guard let id = StoreID(result.store), let at = Timestamp.parse(result.at) else {
                rejected.append(.object([("result", .int(index)), ("reason", .string("store or at is invalid"))]))
                continue
            }
            samples.append(MetricSample(store: id, metric: .uptimePercent, at: at, value: result.up ? 100 : 0))
            if let ttfb = result.ttfbMs, ttfb >= 0, ttfb.isFinite {
                samples.append(MetricSample(store: id, metric: .ttfbMs, at: at, value: ttfb))
            }
        }
        let record = gate.record(source: "uptime", key: try idempotencyKey(request, source: "uptime", body: body),
                                 contentType: request.headers[.contentType], body: body)
        let refused = rejected
        let result = try await store.ingest(samples, delivery: record) { ingest in
            .json(.object([("accepted", .int(ingest.inserted)), ("duplicates", .int(ingest.duplicates)),
                           ("unknown_stores", .array(ingest.unknownStores.map(\.rawValue).sorted().map(JSONValue.string))),
                           ("rejected", .array(refused))]))
        }
        return gate.respond(result, record, logger: context.logger)
    }
}

extension HTTPField.Name {
    static let grafanaSignature = HTTPField.Name("X-Grafana-Alerting-Signature")!  // a valid literal name
}
