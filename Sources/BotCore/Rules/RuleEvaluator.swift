import Foundation

/// Evaluates detection rules against stored samples at a given time.
public struct RuleEvaluator: Sendable {
    let samples: any SampleReader
    /// The longest gap between samples that still counts as continuous.
    let maxGap: TimeInterval

    public init(samples: any SampleReader, maxGap: TimeInterval = 90) {
        self.samples = samples
        self.maxGap = maxGap
    }

    /// The rules that fire for `store` at `now`.
    public func firing(_ rules: [DetectionRule], store: StoreID, now: Date) async throws -> [DetectionRule] {
        var fired: [DetectionRule] = []
        for rule in rules {
            // Look back over the window plus one gap, so a run that began just before it is seen whole.
            let from = now.addingTimeInterval(-(rule.window + maxGap))
            let series = try await samples.samples(rule.metric, of: store, from: from, to: now)
            var reference: Double?
            if case let .percentOf(other) = rule.mode {
                reference = try await samples.samples(other, of: store, from: now.addingTimeInterval(-other.freshness), to: now)
                    .last?.value
            }
            if rule.fires(samples: series, now: now, maxGap: maxGap, reference: reference) { fired.append(rule) }
        }
        return fired
    }
}
