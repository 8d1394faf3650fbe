import Foundation

/// Finds the names closest to a misspelt one (edit distance, then shared prefix).
public enum NameSuggester {
    /// Up to `limit` of `candidates` close to `input`, closest first.
    public static func closest(to input: String, in candidates: [String], limit: Int = 3) -> [String] {
        let needle = input.lowercased()
        let scored = candidates.map { candidate -> (String, Int) in
            let lowered = candidate.lowercased()
            // A name that contains what was typed is a near match however much longer it is.
            let distance = lowered.contains(needle) && needle.count >= 3 ? 1 : editDistance(needle, lowered)
            return (candidate, distance)
        }
        let threshold = max(2, needle.count / 3)
        return scored.filter { $0.1 <= threshold }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .prefix(limit).map(\.0)
    }

    /// Levenshtein distance between `a` and `b`.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
