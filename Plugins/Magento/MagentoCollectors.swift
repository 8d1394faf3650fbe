import BotCore
import BotPlaybooks
import Foundation

extension MetricName {
    /// Magento indexers marked invalid (they need a reindex).
    public static let invalidIndexers = MetricName("invalid_indexers", freshness: slowReadingFreshness,
                                                   plainName: "Magento indexes that need a rebuild")
    /// Magento cache types switched off.
    public static let cacheTypesDisabled = MetricName("cache_types_disabled", plainName: "Magento cache types switched off")
}

/// Magento's own readings, through `bin/magento` in the store's app path.
enum MagentoCollectors {
    static let all = [indexers, cacheTypes]

    /// `bin/magento indexer:status`: one line per indexer, `Title:   Ready|Reindex required|Processing` (2.3), or a
    /// table with a Status column (2.4); the invalid ones say `Reindex required`.
    static let indexers = PackCollector(name: "magento_indexers", argv: ["bin/magento", "indexer:status"],
                                        gives: [.invalidIndexers]) { output, _ in
        let lines = output.split(whereSeparator: \.isNewline)
        guard lines.contains(where: { $0.contains("Ready") || $0.contains("Reindex required") || $0.contains("Processing") }) else {
            throw PackCollectorError("bin/magento indexer:status: no indexer in '\(output.prefix(80))'")
        }
        return [(.invalidIndexers, Double(lines.filter { $0.contains("Reindex required") }.count))]
    }

    /// `bin/magento cache:status`: `Current status:` then `<type>: 1|0` per cache type.
    static let cacheTypes = PackCollector(name: "magento_cache", argv: ["bin/magento", "cache:status"],
                                          gives: [.cacheTypesDisabled]) { output, _ in
        let states = output.split(whereSeparator: \.isNewline).compactMap { line -> Bool? in
            let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains(" ") else { return nil }
            return parts[1] == "1" ? true : parts[1] == "0" ? false : nil
        }
        guard output.contains("Current status:"), !states.isEmpty else {
            throw PackCollectorError("bin/magento cache:status: no cache types in '\(output.prefix(80))'")
        }
        return [(.cacheTypesDisabled, Double(states.filter { !$0 }.count))]
    }
}
