import Foundation

extension DetectionRule {
    /// The condition in plain words for a customer, with the latest value when known:
    /// `Memory use has stayed above 85% for 5 minutes; it is now 91.2%.`
    public func inPlainWords(now value: Double?) -> String {
        let bound = Wording.measure(threshold, unit: metric.unit)
        let side = comparison == .above ? "above" : "below"
        let minutes = Int(window / 60)
        let sentence: String
        switch mode {
        case .sustained:
            let subject = metric.plainName.prefix(1).uppercased() + metric.plainName.dropFirst()
            sentence = minutes > 0 ? "\(subject) has stayed \(side) \(bound) for \(minutes) minutes"
                : "\(subject) is \(side) \(bound)"
        case .sumOver:
            let span = minutes > 1 ? "the last \(minutes) minutes" : "the last minute"
            sentence = threshold == 0 && comparison == .above
                ? "There were \(metric.plainName) in \(span)"
                : "There were \(comparison == .above ? "more" : "fewer") than \(bound) \(metric.plainName) in \(span)"
        case let .percentOf(other):
            let subject = metric.plainName.prefix(1).uppercased() + metric.plainName.dropFirst()
            sentence = "\(subject) reached \(Wording.number(threshold))% of \(other.plainName)"
        }
        guard let value, mode == .sustained else { return sentence + "." }
        return sentence + "; it is now \(Wording.measure(value, unit: metric.unit))."
    }
}
