import ArgumentParser
import BotProbes
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `perfbot slowlog`: pt-query-digest's answers, fast, for MySQL and MariaDB slow logs.
struct SlowLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slowlog", abstract: "Read MySQL and MariaDB slow query logs.",
        subcommands: [Digest.self, Fingerprint.self])

    struct Digest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Group a slow log's queries by fingerprint and rank the classes by total time.",
            discussion: "query_id is the uppercase hex MD5 of the fingerprint: pt-query-digest's checksum for the same class.")

        @Argument(help: "The slow log, or - for standard input.") var file: String
        @Option(help: "text or json.") var format: OutputFormat = .text
        @Option(help: "How many classes to show (0: all).") var limit = 20
        @Option(help: "Only entries at or after this time: 24h, 7d, 2026-01-06, 2026-01-06T09:00:00 or epoch seconds.")
        var since: String?
        @Option(help: "Only entries at or before this time (same forms as --since).") var until: String?
        @Option(help: "Threads to read with (default: one per core).") var threads: Int?

        enum OutputFormat: String, ExpressibleByArgument { case text, json }

        func validate() throws {
            if let since, TimeBound.parse(since) == nil { throw ValidationError("--since: \(TimeBound.help)") }
            if let until, TimeBound.parse(until) == nil { throw ValidationError("--until: \(TimeBound.help)") }
            guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
        }

        func run() throws {
            let size = file == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? nil
            let meter = ProgressMeter(total: size)
            let read: (digester: SlowLogDigester, oversized: Int)
            do {
                // One part per core: entries are independent, classes merge.
                let parts = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, 16))
                let from: Int64? = since.flatMap { TimeBound.parse($0) }
                let to: Int64? = until.flatMap { TimeBound.parse($0) }
                var progress: (@Sendable (Int64) -> Void)?
                if let meter { progress = { meter.update($0) } }
                read = try SlowLogDigester.digest(path: file, parts: parts, since: from, until: to, progress: progress)
            } catch {
                throw fail("\(error)")
            }
            let digester = read.digester
            meter?.done()
            let all = digester.digest()
            let digest = SlowLogDigest(entries: all.entries, classes: limit == 0 ? all.classes : Array(all.classes.prefix(limit)))
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(digest), as: UTF8.self))
            case .text:
                print(SlowLogText.render(digest, totalClasses: all.classes.count, totalTime: all.classes.reduce(0) { $0 + $1.queryTime.sum },
                                         source: file == "-" ? "standard input" : file))
            }
            if read.oversized > 0 {
                FileHandle.standardError.write(Data("perfbot: skipped \(read.oversized) entries longer than 16 MiB\n".utf8))
            }
        }
    }

    struct Fingerprint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each query's fingerprint (pt-query-digest's rules), one per line.")

        @Argument(help: "Queries; each argument is one statement.") var queries: [String]

        func run() {
            for query in queries { print(QueryFingerprinter.fingerprint(query)) }
        }
    }
}

/// A time bound for `--since`/`--until`: a span back from now, a date, a date and time (UTC) or epoch seconds.
enum TimeBound {
    static let help = "give 24h, 7d, 30m, 2026-01-06, 2026-01-06T09:00:00 or epoch seconds"

    static func parse(_ text: String, now: Date = Date()) -> Int64? {
        if let span = span(text) { return Int64(now.timeIntervalSince1970 - span) }
        if let seconds = Int64(text), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) }
        }
        return nil
    }

    /// `30m`, `24h`, `7d` in seconds.
    static func span(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 else { return nil }
        switch unit {
        case "m": return amount * 60
        case "h": return amount * 3600
        case "d": return amount * 86400
        default: return nil
        }
    }
}

/// Progress on standard error for large files, only when it is a terminal.
final class ProgressMeter: @unchecked Sendable {
    let total: Int64
    var lastShown = DispatchTime.now().uptimeNanoseconds

    init?(total: Int64?) {
        guard let total, total > 64 << 20, isatty(STDERR_FILENO) == 1 else { return nil }
        self.total = total
    }

    func update(_ read: Int64) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastShown > 250_000_000 else { return }
        lastShown = now
        let line = String(format: "\rreading: %3.0f %%  %.0f of %.0f MB", Double(read) / Double(total) * 100,
                          Double(read) / 1e6, Double(total) / 1e6)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func done() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
