import Foundation

/// Short human wording for times and numbers in replies.
public enum Wording {
    /// `just now`, `45 s ago`, `12 min ago`, `3 h ago`, `2 d ago`.
    public static func ago(_ date: Date, now: Date) -> String {
        let seconds = max(0, now.timeIntervalSince(date))
        switch seconds {
        case ..<5: return "just now"
        case ..<60: return "\(Int(seconds)) s ago"
        case ..<3600: return "\(Int(seconds / 60)) min ago"
        case ..<172_800: return "\(Int(seconds / 3600)) h ago"
        default: return "\(Int(seconds / 86400)) d ago"
        }
    }

    /// `14:05 UTC`.
    public static func clockTime(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970) % 86400
        return String(format: "%02d:%02d UTC", seconds / 3600, seconds % 3600 / 60)
    }

    /// `Friday 27 November, 09:14 UTC`: a moment a reader may be days away from.
    public static func dayAndTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .day, .month], from: date)
        let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                      "November", "December"]
        return "\(weekdays[(parts.weekday ?? 1) - 1]) \(parts.day ?? 1) \(months[(parts.month ?? 1) - 1]), \(clockTime(date))"
    }

    /// A number with at most `decimals` decimals and no trailing zeros (`2.5`, `40`).
    public static func number(_ value: Double, decimals: Int = 1) -> String {
        let scale = pow(10, Double(decimals))
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(format: "%.\(decimals)f", rounded)
    }

    /// A whole number with thousands separators: `19,701`.
    public static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var out = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0, character != "-" { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }

    /// Bytes in the largest unit that keeps a number from 1: `48.2 MB`.
    public static func bytes(_ value: Double) -> String { measure(value, unit: "bytes") }

    /// A period in words: `1 h`, `30 min`, `2 days`.
    public static func span(_ seconds: TimeInterval) -> String {
        if seconds >= 86400, seconds.truncatingRemainder(dividingBy: 86400) == 0 {
            let days = Int(seconds / 86400)
            return "\(days) day\(days == 1 ? "" : "s")"
        }
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600)) h" }
        return "\(Int((seconds / 60).rounded())) min"
    }

    /// A value with its unit: `2400 ms`, `91.2%`, `3`, `1.2 MB`.
    public static func measure(_ value: Double, unit: String) -> String {
        switch unit {
        case "%": return number(value) + "%"
        case "": return number(value)
        case "bytes":
            let units = ["bytes", "KB", "MB", "GB", "TB"]
            var scaled = value, index = 0
            while scaled >= 1000, index < units.count - 1 { scaled /= 1000; index += 1 }
            return number(scaled, decimals: index == 0 ? 0 : 1) + " " + units[index]
        default: return number(value, decimals: 0) + " " + unit
        }
    }
}
