import Foundation

/// A store's weekly maintenance window, in UTC: "sun 02:00-04:00", or "daily 03:00-04:00". While it lasts the
/// store is silenced (no alerts, no automatic fixes); jobs asked for "off-peak" start at its next opening.
public struct MaintenanceWindow: Sendable, Equatable, CustomStringConvertible {
    /// 1 = Sunday … 7 = Saturday (Calendar's numbering); nil: every day.
    public var weekday: Int?
    /// Minutes after midnight UTC at which it opens.
    public var startMinute: Int
    /// How long it lasts, in minutes (1 to 12 hours).
    public var minutes: Int

    static let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init?(weekday: Int?, startMinute: Int, minutes: Int) {
        guard weekday.map({ (1...7).contains($0) }) ?? true, (0..<1440).contains(startMinute), (1...720).contains(minutes)
        else { return nil }
        self.weekday = weekday
        self.startMinute = startMinute
        self.minutes = minutes
    }

    /// Parses "sun 02:00-04:00" or "daily 23:00-01:00" (a window may run past midnight); nil when malformed.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let day: Int?
        if parts[0] == "daily" {
            day = nil
        } else if let index = Self.days.firstIndex(of: String(parts[0].prefix(3))), parts[0].count >= 3,
                  Self.fullDays[index].hasPrefix(parts[0]) {
            day = index + 1
        } else {
            return nil
        }
        let times = parts[1].split(separator: "-")
        guard times.count == 2, let from = Self.minute(times[0]), let to = Self.minute(times[1]), from != to else { return nil }
        self.init(weekday: day, startMinute: from, minutes: (to - from + 1440) % 1440)
    }

    static let fullDays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// "HH:MM" as minutes after midnight.
    static func minute(_ text: Substring) -> Int? {
        let pieces = text.split(separator: ":")
        guard pieces.count == 2, pieces[0].count == 2, pieces[1].count == 2, let hours = Int(pieces[0]), let minutes = Int(pieces[1]),
              (0..<24).contains(hours), (0..<60).contains(minutes) else { return nil }
        return hours * 60 + minutes
    }

    public var description: String {
        func clock(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60 % 24, minute % 60) }
        let day = weekday.map { Self.days[$0 - 1] } ?? "daily"
        return "\(day) \(clock(startMinute))-\(clock((startMinute + minutes) % 1440))"
    }

    /// The window's period in minutes: a week, or a day.
    var period: Int { weekday == nil ? 1440 : 10080 }
    /// Its opening as minutes into its period (from Sunday 00:00 UTC for a weekly one).
    var openingMinute: Int { (weekday.map { ($0 - 1) * 1440 } ?? 0) + startMinute }

    /// Minutes from the window's latest opening at or before `date` to `date` (plain arithmetic: a check cycle
    /// asks this of every store).
    func minutesSinceOpening(_ date: Date) -> (minutes: Int, seconds: Int64) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let minute = Int(seconds.floorDivided(by: 60))
        // 1 January 1970 was a Thursday: 4 days into the week that starts on Sunday.
        let intoPeriod = ((minute + 4 * 1440) % period + period) % period
        return (((intoPeriod - openingMinute) % period + period) % period, seconds - Int64(minute) * 60)
    }

    /// The opening of the window in force at `date` (its start and end), if one is.
    public func opening(containing date: Date) -> (start: Date, end: Date)? {
        let (elapsed, extra) = minutesSinceOpening(date)
        guard elapsed < minutes else { return nil }
        let start = Date(timeIntervalSince1970: TimeInterval(Int64(date.timeIntervalSince1970.rounded(.down)) - extra
            - Int64(elapsed) * 60))
        return (start, start.addingTimeInterval(TimeInterval(minutes * 60)))
    }

    /// The first opening at or after `date`.
    public func nextOpening(atOrAfter date: Date) -> Date {
        let (elapsed, extra) = minutesSinceOpening(date)
        let latest = Int64(date.timeIntervalSince1970.rounded(.down)) - extra - Int64(elapsed) * 60
        let exact = elapsed == 0 && extra == 0 && date.timeIntervalSince1970 == date.timeIntervalSince1970.rounded(.down)
        return Date(timeIntervalSince1970: TimeInterval(exact ? latest : latest + Int64(period) * 60))
    }

    /// The quietest `hours` consecutive hours of the week, from mean requests per hour of the week (0 = Sunday 00:00
    /// UTC … 167), or nil when fewer than `minimumHours` hours of the week have a reading (traffic not measured yet).
    public static func quietest(_ means: [Int: Double], hours: Int = 2, minimumHours: Int = 150) -> MaintenanceWindow? {
        guard means.count >= minimumHours, (1...12).contains(hours) else { return nil }
        var best: (start: Int, load: Double)?
        for start in 0..<168 {
            var load = 0.0
            var known = true
            for offset in 0..<hours {
                guard let mean = means[(start + offset) % 168] else {
                    known = false
                    break
                }
                load += mean
            }
            // The earliest of equally quiet spans, so the choice does not move from one day to the next.
            if known, best == nil || load < best!.load { best = (start, load) }
        }
        return best.flatMap { MaintenanceWindow(weekday: $0.start / 24 + 1, startMinute: $0.start % 24 * 60, minutes: hours * 60) }
    }
}

extension Int64 {
    /// Division rounding towards minus infinity (times before 1970 stay in the right minute).
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
