import BotProbes
import Foundation
import Testing

@Suite struct HTTPProbeTests {
    @Test func timeToFirstByteIncludesTheServersDelay() async throws {
        let timing = try await SlowPage.serve(delay: .milliseconds(300)) { url in try await HTTPProbe().probe(url) }
        #expect(timing.statusCode == 200)
        #expect(timing.ttfbMs >= 300)
        #expect(timing.totalMs >= timing.ttfbMs)
        #expect(timing.connectMs >= 0 && timing.dnsMs >= 0 && timing.tlsMs == 0)
    }

    @Test func aRefusedConnectionSaysSo() async {
        await #expect(throws: HTTPProbeError.failed("Couldn't connect to server")) {
            try await HTTPProbe(timeout: 5).probe("http://127.0.0.1:9/")
        }
        await #expect(throws: HTTPProbeError.invalidURL) { try await HTTPProbe().probe("ftp://example.com/") }
    }
}
