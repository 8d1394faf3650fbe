import BotChannels
import BotCore
import Foundation
import Hummingbird
import Logging

/// The body of `POST /webhooks/metrics`.
struct MetricBatch: Decodable {
    struct Entry: Decodable {
        var store: String
        var at: String
        var metrics: [String: Double]
    }

    var samples: [Entry]
    static let maxSamples = 10_000
}

extension PerfbotServer {
    /// Checks the source's token and its rate limit (before the body is read); returns who called and the bounded body.
    func verifiedWebhookBody(_ request: Request, source: TokenSource, route: String,
                             bodyLimit: Int? = nil) async throws -> (caller: WebhookCaller, body: [UInt8]) {
        let caller = try await verifiedCaller(request, source: source, route: route)
        return (caller, try await request.boundedBody(limit: bodyLimit ?? settings.bodyLimit))
    }

    /// Checks the source's token (401 when wrong, 503 when the source has none) and the token's rate limit.
    func verifiedCaller(_ request: Request, source: TokenSource, route: String) async throws -> WebhookCaller {
        guard tokens.accepts(source) else {
            throw APIError.disabled(route, missing: WebhookTokens.missing(source))
        }
        let found = try await tokens.caller(for: source, authorization: request.headers[.authorization]) { digest in
            try await store.storeForToken(digest: digest)
        }
        var caller = WebhookCaller.shared
        try verified(route: route) { () throws(VerificationFailure) in
            guard let found else { throw .badToken }
            caller = found
        }
        try await limit(.sourceToken, key: caller.rateKey, route: route)
        return caller
    }

    /// Decodes a JSON body, answering 400 with the path of the first field at fault.
    func decodeJSON<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            let described = JSONErrorPath.describe(error)
            throw APIError.malformed(described.path.isEmpty ? "body" : String(described.path.dropFirst()), described.problem)
        }
    }

    /// A retry-stable key: the sender's `Idempotency-Key`, else the body's digest.
    func idempotencyKey(_ request: Request, source: String, body: [UInt8]) throws -> String {
        if let supplied = request.headers[.idempotencyKey] {
            guard (1...200).contains(supplied.count), supplied.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw APIError.malformed("Idempotency-Key", "1–200 visible ASCII characters")
            }
            return "\(source):key:\(supplied)"
        }
        return "\(source):sha256:\(BodyDigest.sha256Hex(body))"
    }

    func metricPush(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let (caller, body) = try await verifiedWebhookBody(request, source: .metrics, route: "/webhooks/metrics")
        try request.requireMediaType("application/json")
        let batch = try decodeJSON(MetricBatch.self, body)
        if case let .store(own) = caller, let index = batch.samples.firstIndex(where: { $0.store != own.rawValue }) {
            throw APIError(.forbidden, code: "wrong_store",
                           message: "This token may push \(own)'s samples only; sample \(index) names another store. Nothing was stored.")
        }
        guard batch.samples.count <= MetricBatch.maxSamples else {
            throw APIError(.unprocessableContent, code: "too_many_samples",
                           message: "A batch holds at most \(MetricBatch.maxSamples) samples; split it.")
        }
        let key = try idempotencyKey(request, source: "metrics", body: body)
        let record = gate.record(source: "metrics", key: key, contentType: request.headers[.contentType], body: body)
        let (samples, unknownMetrics, rejected) = validate(batch, now: record.at)
        let result = try await store.ingest(samples, delivery: record) { ingest in
            .json(.object([
                ("accepted", .int(ingest.inserted)),
                ("duplicates", .int(ingest.duplicates)),
                ("unknown_stores", .array(ingest.unknownStores.map(\.rawValue).sorted().map(JSONValue.string))),
                ("unknown_metrics", .array(unknownMetrics.sorted().map(JSONValue.string))),
                ("rejected", .array(rejected)),
            ]))
        }
        return gate.respond(result, record, logger: context.logger)
    }

    /// Turns a batch into typed samples; what cannot be stored is reported, sample by sample.
    func validate(_ batch: MetricBatch, now: Date) -> (samples: [MetricSample], unknownMetrics: Set<String>, rejected: [JSONValue]) {
        var samples: [MetricSample] = []
        var unknownMetrics = Set<String>()
        var rejected: [JSONValue] = []
        for (index, entry) in batch.samples.enumerated() {
            func reject(_ reason: String) {
                rejected.append(.object([("sample", .int(index)), ("reason", .string(reason))]))
            }
            guard let store = StoreID(entry.store) else { reject("store is not a store name"); continue }
            guard let at = Timestamp.parse(entry.at) else {
                reject("at is not an ISO 8601 time such as 2026-11-26T17:00:00Z"); continue
            }
            guard at.timeIntervalSince(now) <= settings.futureSkew else { reject("at is in the future"); continue }
            for (name, value) in entry.metrics.sorted(by: { $0.key < $1.key }) {
                guard let metric = metricCatalogue.metric(named: name) else {
                    unknownMetrics.insert(String(name.prefix(64)))
                    continue
                }
                guard metric.accepts(value) else { reject("\(name) = \(value) is out of range"); continue }
                samples.append(MetricSample(store: store, metric: metric, at: at, value: value))
            }
        }
        return (samples, unknownMetrics, rejected)
    }

    func pluginWebhook(_ source: WebhookSource, _ request: Request, context: BasicRequestContext) async throws -> Response {
        // Plugin senders have no token of their own yet: the shared token opens them.
        guard let shared = settings.webhookToken else {
            throw APIError.disabled("/webhooks/\(source.path)", missing: "PERFBOT_WEBHOOK_TOKEN")
        }
        try verified(route: "/webhooks/\(source.path)") { () throws(VerificationFailure) in
            try BearerTokenVerifier(token: shared).verify(authorization: request.headers[.authorization])
        }
        try await limit(.sourceToken, key: "plugin:\(source.path)", route: "/webhooks/\(source.path)")
        let body = try await request.boundedBody(limit: settings.bodyLimit)
        try request.requireMediaType("application/json")
        let key = try idempotencyKey(request, source: source.path, body: body)
        let record = gate.record(source: source.path, key: key, contentType: request.headers[.contentType], body: body)
        return try await gate.once(record, logger: context.logger) { deliveryID in
            let outcome = try await source.handle(body, deliveryID)
            return .json(.object(outcome.summary.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
    }
}
