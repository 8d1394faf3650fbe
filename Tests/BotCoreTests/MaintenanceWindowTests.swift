import BotCore
import Foundation
import Testing

@Suite struct MaintenanceWindowTests {
    /// 2027-01-15 08:00:00 UTC, a Friday.
    let friday = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func windowsAreReadAndWrittenInOneForm() throws {
        #expect(MaintenanceWindow("sun 02:00-04:00")?.description == "sun 02:00-04:00")
        #expect(MaintenanceWindow("Sunday 02:00-04:00")?.description == "sun 02:00-04:00")
        #expect(MaintenanceWindow("daily 23:30-00:30")?.minutes == 60)
        #expect(MaintenanceWindow("daily 23:30-00:30")?.description == "daily 23:30-00:30")
        for bad in ["", "sun", "sun 2:00-4:00", "sun 02:00", "funday 02:00-04:00", "sun 02:00-02:00", "sun 25:00-02:00",
                    "sun 02:00-15:00", "s 02:00-04:00", "sun 02:00-04:00 extra"] {
            #expect(MaintenanceWindow(bad) == nil, "\(bad)")
        }
    }

    @Test func anOpeningIsFoundFromPlainArithmetic() throws {
        // Friday 07:30-09:00 holds 08:00: opened half an hour ago.
        let window = try #require(MaintenanceWindow("fri 07:30-09:00"))
        let open = try #require(window.opening(containing: friday))
        #expect(open.start == friday.addingTimeInterval(-1800))
        #expect(open.end == friday.addingTimeInterval(3600))
        // Thursday's window is over; the next one is on Thursday 21 January at 09:00, six days and an hour on.
        let thursday = try #require(MaintenanceWindow("thu 09:00-10:00"))
        #expect(thursday.opening(containing: friday) == nil)
        #expect(thursday.nextOpening(atOrAfter: friday) == friday.addingTimeInterval(6 * 86400 + 3600))
        // Across midnight: a daily 23:30-00:30 window holds 00:10 (opened the day before) but not 00:40.
        let nightly = try #require(MaintenanceWindow("daily 23:30-00:30"))
        let midnight = friday.addingTimeInterval(-8 * 3600)
        #expect(nightly.opening(containing: midnight.addingTimeInterval(600))?.start == midnight.addingTimeInterval(-1800))
        #expect(nightly.opening(containing: midnight.addingTimeInterval(2400)) == nil)
        #expect(nightly.nextOpening(atOrAfter: midnight.addingTimeInterval(2400)) == midnight.addingTimeInterval(86400 - 1800))
        // At its very opening it is in force, and that opening is the next one.
        let now = try #require(MaintenanceWindow("fri 08:00-08:30"))
        #expect(now.opening(containing: friday)?.start == friday)
        #expect(now.nextOpening(atOrAfter: friday) == friday)
        #expect(now.opening(containing: friday.addingTimeInterval(1800)) == nil)
    }

    @Test func theQuietestHoursOfTheWeekGiveTheWindow() throws {
        // Busy all week (100 requests an hour) but Tuesday 03:00-05:00 (hours 51 and 52 from Sunday 00:00) at 5 and 7,
        // and Wednesday 03:00 alone at 1 (one quiet hour is not two).
        var means: [Int: Double] = [:]
        for hour in 0..<168 { means[hour] = 100 }
        means[51] = 5
        means[52] = 7
        means[75] = 1
        #expect(MaintenanceWindow.quietest(means)?.description == "tue 03:00-05:00")
        // Spanning the week's end: Saturday 23:00 and Sunday 00:00.
        means[51] = 100
        means[52] = 100
        means[167] = 2
        means[0] = 2
        #expect(MaintenanceWindow.quietest(means)?.description == "sat 23:00-01:00")
        // Not enough measured yet: no window.
        #expect(MaintenanceWindow.quietest(Dictionary(uniqueKeysWithValues: (0..<100).map { ($0, 1.0) })) == nil)
    }
}
