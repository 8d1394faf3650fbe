import BotCore
import BotPlaybooks
import Foundation

/// Runs Lighthouse (`PERFBOT_LIGHTHOUSE_COMMAND`, default `lighthouse`) from perfbot's host against a store's
/// URL, reads its JSON with the same reader as the Lighthouse webhook, and records it.
public struct LighthouseRunner: Sendable {
    /// The resolved command.
    public let command: String
    let local: LocalExecutor
    let timeout: TimeInterval
    let recordReport: @Sendable (StoreID, LighthouseReport, [UInt8]) async throws -> Void

    /// Nil when `command` is not found (said once, at start, by whoever builds it).
    public init?(command: String, local: LocalExecutor = LocalExecutor(outputLimit: 32 << 20), timeout: TimeInterval = 180,
                 record: @escaping @Sendable (StoreID, LighthouseReport, [UInt8]) async throws -> Void) {
        guard let path = local.resolve(command, in: nil) else { return nil }
        self.command = path
        self.local = local
        self.timeout = timeout
        self.recordReport = record
    }

    /// The argv for `url` (checked: http(s), no spaces, not an option).
    public func argv(url: String) -> [String]? {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), !url.contains(where: \.isWhitespace) else { return nil }
        return [command, url, "--output=json", "--quiet", "--only-categories=performance",
                "--chrome-flags=--headless=new --no-sandbox"]
    }

    /// Runs it; nil when it worked, else why not.
    func run(url: String, store: StoreID, now: Date) async -> String? {
        guard let argv = argv(url: url) else { return "the store's url is not an http(s) URL" }
        do {
            let outcome = try await local.run(CommandRequest(argv: argv, timeout: timeout, outputLimit: 32 << 20))
            guard outcome.succeeded else { return "lighthouse: \(outcome.failureReason)" }
            let report = try LighthouseReport(json: outcome.bytes)
            try await recordReport(store, report, outcome.bytes)
            return report.runtimeError.map { "Lighthouse ran but could not load the page: \($0)" }
        } catch {
            return "lighthouse: \(error)"
        }
    }
}
