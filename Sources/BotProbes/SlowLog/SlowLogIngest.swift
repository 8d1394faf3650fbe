import BotCore
import Foundation

/// Turns a piece of a store's slow log into hourly class figures for `slow_queries`, and the counts the
/// slow-query rules read. Only fingerprints leave it: no literal of a customer's statement is kept.
public struct SlowLogIngest {
    /// The figures per class and hour.
    public private(set) var hours: [SlowQueryHour] = []
    /// Bytes of input that ended in complete entries (the cursor moves by this much).
    public private(set) var consumed: Int64 = 0
    /// Entries at or after `recentSince` that took at least 1 s, and at least 3 s.
    public private(set) var recentSlow = 0
    public private(set) var recentOver3s = 0
    public private(set) var entries = 0

    /// Entries left out because they belong to another database or account (another tenant of a shared server).
    public private(set) var foreign = 0

    /// The database in effect at the end of what was read, to resume from (empty: not known).
    public var databaseInEffect: [UInt8] = []

    private let recentSince: Int64
    private let database: [UInt8]?
    private let user: [UInt8]?

    /// - Parameters:
    ///   - database: only entries whose database is this one are the store's (nil keeps every entry: for a
    ///     log perfbot digests for an operator, never for a store).
    ///   - user: where set, only entries of this account are the store's.
    public init(recentSince: Date, database: String? = nil, user: String? = nil) {
        self.recentSince = Int64(recentSince.timeIntervalSince1970)
        self.database = database.map { Array($0.utf8) }
        self.user = user.map { Array($0.utf8) }
    }

    /// Reads `bytes`. - Parameter complete: they end at the end of the file and the last entry is whole.
    public mutating func read(_ bytes: [UInt8], complete: Bool, fallbackTime: Date) {
        var fingerprinter = QueryFingerprinter()
        defer { fingerprinter.close() }
        var ids: [[UInt8]: (id: String, text: String, tables: [String])] = [:]
        var index: [String: Int] = [:]
        var reader = SlowLogReader(bufferBytes: max(64 << 10, bytes.count + 1))
        defer { reader.close() }
        reader.databaseInEffect = databaseInEffect
        let fallback = Int64(fallbackTime.timeIntervalSince1970)
        let recentSince = self.recentSince
        var hours = self.hours, entries = self.entries, recentSlow = self.recentSlow, recentOver3s = self.recentOver3s
        var foreign = self.foreign
        let wantedDatabase = database, wantedUser = user
        let handle: (borrowing SlowLogEvent) -> Void = { event in
            entries += 1
            // Another tenant's statement on a shared server: not this store's, not a word of it kept or counted.
            if let wantedDatabase, event.database.map({ !$0.elementsEqual(wantedDatabase) }) ?? true {
                foreign += 1
                return
            }
            if let wantedUser, event.user.map({ !$0.elementsEqual(wantedUser) }) ?? true {
                foreign += 1
                return
            }
            let at = event.timestamp ?? fallback
            if at >= recentSince {
                if event.queryTime >= 1 { recentSlow += 1 }
                if event.queryTime >= 3 { recentOver3s += 1 }
            }
            let fingerprint = Array(fingerprinter.fingerprint(event.query))
            let known: (id: String, text: String, tables: [String])
            if let found = ids[fingerprint] {
                known = found
            } else {
                let text = String(decoding: fingerprint, as: UTF8.self)
                known = (QueryClass.queryID(of: fingerprint), text, QueryTables.tables(in: text))
                ids[fingerprint] = known
            }
            let hourStart = at - at % 3600
            let key = "\(known.id)@\(hourStart)"
            let time = Date(timeIntervalSince1970: TimeInterval(at))
            let slot: Int
            if let existing = index[key] {
                slot = existing
            } else {
                slot = hours.count
                index[key] = slot
                hours.append(SlowQueryHour(queryID: known.id, fingerprint: known.text,
                                           hour: Date(timeIntervalSince1970: TimeInterval(hourStart)), tables: known.tables,
                                           firstSeen: time, lastSeen: time))
            }
            let ms = event.queryTime * 1000
            hours[slot].count += 1
            hours[slot].totalMs += ms
            hours[slot].maxMs = max(hours[slot].maxMs, ms)
            hours[slot].lockMs += event.lockTime * 1000
            hours[slot].rowsExamined += event.rowsExamined
            hours[slot].rowsSent += event.rowsSent
            hours[slot].histogram[SlowQueryHour.bucket(ms: ms)] += 1
            hours[slot].firstSeen = min(hours[slot].firstSeen, time)
            hours[slot].lastSeen = max(hours[slot].lastSeen, time)
        }
        bytes.withUnsafeBufferPointer { reader.feed($0, handle) }
        if complete { reader.finish(handle) }
        consumed = reader.consumed
        databaseInEffect = reader.databaseInEffect
        self.hours = hours
        self.entries = entries
        self.recentSlow = recentSlow
        self.recentOver3s = recentOver3s
        self.foreign = foreign
    }

    /// Where to start in a log perfbot has not read before: the first entry in the last `window` bytes.
    public static func firstEntry(in bytes: [UInt8]) -> Int? {
        // An entry starts at a `#` line that follows a line ending in `;`.
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == UInt8(ascii: ";"), bytes[i + 1] == 10, bytes[i + 2] == UInt8(ascii: "#") { return i + 2 }
            i += 1
        }
        return nil
    }
}

/// The tables a fingerprint names after FROM, JOIN, UPDATE and INTO (for `/perf slow-queries` and index advice).
public enum QueryTables {
    public static func tables(in fingerprint: String) -> [String] {
        let words = fingerprint.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "(" || $0 == ")" })
        var found: [String] = []
        var expectTable = false
        for word in words {
            let lowered = word.lowercased()
            if expectTable {
                expectTable = false
                let name = lowered.split(separator: ".").last.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "`")) } ?? ""
                if !name.isEmpty, name != "select", name != "?", name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "?" || $0 == "$" }),
                   !found.contains(name) {
                    found.append(name)
                }
                continue
            }
            if ["from", "join", "update", "into"].contains(lowered) { expectTable = true }
        }
        return found
    }
}
