import BotCore
import BotPlaybooks
import BotProbes
import Foundation
import Logging
import PerfbotApp
import Testing
import TestSupport

@Suite struct HTTPProbeTests {
    @Test func timeToFirstByteIncludesTheServersDelay() async throws {
        let timing = try await SlowPage.serve(delay: .milliseconds(300)) { url in try await HTTPProbe().probe(url) }
        #expect(timing.statusCode == 200)
        #expect(timing.ttfbMs >= 300)
        #expect(timing.totalMs >= timing.ttfbMs)
        // The server waits after the connection is made: name lookup and connect are a small part of the first byte.
        #expect(timing.dnsMs + timing.connectMs < timing.ttfbMs - 250, "\(timing)")
        #expect(timing.tlsMs == 0)
    }

    /// The collector records each phase of the probe as a metric of the store, and the store as up.
    @Test func theCollectorRecordsEveryPhase() async throws {
        let samples = try await SlowPage.serve(delay: .milliseconds(200)) { url in
            let shop = Customer(id: StoreID("page-shop")!, platform: .woocommerce, plan: .basic, contactEmail: "o@p.example",
                                url: url, executor: .local, probes: [.http])
            return await Collector(executors: ExecutorFactory(), clock: ManualClock(t0), logger: Logger(label: "t")).collect(shop)
        }
        let values = Dictionary(samples.map { ($0.metric, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(values[.uptimePercent] == 100)
        #expect((values[.ttfbMs] ?? 0) >= 200 && (values[.httpTotalMs] ?? 0) >= (values[.ttfbMs] ?? .infinity))
        #expect(values[.httpDNSMs] != nil && values[.httpConnectMs] != nil)
        #expect(values[.httpTLSMs] == nil)  // plain HTTP has no handshake to time
        #expect(samples.allSatisfy { $0.store.rawValue == "page-shop" && $0.at == t0 })
    }

    @Test func aRefusedConnectionSaysSo() async {
        await #expect(throws: HTTPProbeError.failed("Couldn't connect to server")) {
            try await HTTPProbe(timeout: 5).probe("http://127.0.0.1:9/")
        }
        await #expect(throws: HTTPProbeError.invalidURL) { try await HTTPProbe().probe("ftp://example.com/") }
    }
}
