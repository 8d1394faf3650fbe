import BotChannels
import BotCore
import BotProbes
import Foundation
import TrafficAnalytics

/// Feeds every parser that reads outside bytes inputs grown from the test fixtures: each input is a seed with a
/// few random edits (bit flips, bytes set, inserted, deleted, repeated, spliced from another seed, tokens the format
/// cares about). It stops with a non-zero exit at the first input over the time limit (after three tries, so a busy
/// machine does not count); a crash ends the process, and the input under way is in `.build/fuzz/<parser>.input`.
///
/// `perfbot-fuzz [inputs per parser] [--only <parser>] [--seed <n>] [--limit-ms <ms>] [--root <repository>]`
struct Fuzz {
    var inputs = 20_000
    var only: String?
    var seed: UInt64 = 20_261_206
    var limitMs = 100.0
    var root = FileManager.default.currentDirectoryPath
    /// The largest input made, in bytes (a quadratic parser is slow long before this).
    var maxBytes = 64 << 10
    /// A file to time alone (with `--only`), e.g. a kept slow input.
    var replay: String?

    init(arguments: [String]) throws {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--only": only = rest.popFirst()
            case "--seed": seed = rest.popFirst().flatMap { UInt64($0) } ?? seed
            case "--limit-ms": limitMs = rest.popFirst().flatMap { Double($0) } ?? limitMs
            case "--root": root = rest.popFirst() ?? root
            case "--replay": replay = rest.popFirst()
            case "--max-bytes": maxBytes = rest.popFirst().flatMap { Int($0) } ?? maxBytes
            default:
                guard let count = Int(argument), count > 0 else { throw FuzzError.usage(argument) }
                inputs = count
            }
        }
    }
}

enum FuzzError: Error, CustomStringConvertible {
    case usage(String), noSeeds(String), slow(String, Double, Int)
    var description: String {
        switch self {
        case let .usage(argument):
            "unknown argument \(argument); usage: perfbot-fuzz [inputs] [--only parser] [--seed n] [--limit-ms ms] [--root repo]"
        case let .noSeeds(name): "no seeds found for \(name); run from the repository or pass --root"
        case let .slow(name, ms, size): "\(name): an input of \(size) bytes took \(String(format: "%.1f", ms)) ms"
        }
    }
}

/// One parser and the inputs it starts from.
struct Target {
    let name: String
    let seeds: [[UInt8]]
    /// Tokens the format gives meaning to, inserted whole.
    let tokens: [String]
    /// A 1 MiB input built to be the parser's worst (a header of nothing but encoded words, a log of one long
    /// entry, …); nil: its first seed repeated to 1 MiB.
    var large: [UInt8]? = nil
    let run: ([UInt8]) -> Void

    init(name: String, seeds: [[UInt8]], tokens: [String], large: [UInt8]? = nil, run: @escaping ([UInt8]) -> Void) {
        self.name = name
        self.seeds = seeds
        self.tokens = tokens
        self.large = large
        self.run = run
    }

    /// The 1 MiB input.
    var mebibyte: [UInt8] {
        if let large { return large }
        let seed = seeds.first ?? [0]
        return Array([[UInt8]](repeating: seed, count: (1 << 20) / max(seed.count, 1) + 1).joined().prefix(1 << 20))
    }
}

/// `count` copies of `unit` after `prefix`, 1 MiB in all.
func mebibyte(_ prefix: String, _ unit: String, _ suffix: String = "") -> [UInt8] {
    let room = (1 << 20) - prefix.utf8.count - suffix.utf8.count
    return Array((prefix + String(repeating: unit, count: room / unit.utf8.count) + suffix).utf8)
}

extension Fuzz {
    func file(_ relative: String) -> [UInt8] {
        FileManager.default.contents(atPath: (root as NSString).appendingPathComponent(relative)).map { Array($0) } ?? []
    }

    func files(in relative: String) -> [[UInt8]] {
        let folder = (root as NSString).appendingPathComponent(relative)
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            .compactMap { FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent($0)).map(Array.init) }
    }

    /// Every target with the inputs that once crashed or slowed it (`Tests/Fixtures/seeds/found/<target>-…`) added to
    /// its seeds: each run tries them first.
    func targets() -> [Target] {
        let found = (root as NSString).appendingPathComponent("Tests/Fixtures/seeds/found")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: found)) ?? []).sorted()
        return baseTargets().map { target in
            let extra = names.filter { $0.hasPrefix(target.name + "-") }
                .compactMap { FileManager.default.contents(atPath: (found as NSString).appendingPathComponent($0)).map(Array.init) }
            return Target(name: target.name, seeds: target.seeds + extra, tokens: target.tokens, large: target.large, run: target.run)
        }
    }

    func baseTargets() -> [Target] {
        let seeds = "Tests/Fixtures/seeds/"
        let replies = files(in: "Tests/BotChannelsTests/Fixtures/replies")
        let mail = file(seeds + "mail-dmarc.eml")
        let headerEnd = mail.firstRange(of: Array("\n\n".utf8))?.lowerBound ?? mail.count
        let headers = Array(mail[..<headerEnd])
        let authservIDs: Set<String> = ["mx.fix.example.com"]
        let mimeTokens = ["=?utf-8?q?", "=?iso-8859-1?b?", "?=", "\r\n", "\n ", "--b1", "Content-Type: multipart/mixed; boundary=\"b1\"\n",
                          "Content-Transfer-Encoding: base64\n", "=C3", "=\n", "<", ">", "\"", "(", ")", "\\", ";", ",", "@"]
        let arTokens = ["Authentication-Results: mx.fix.example.com; ", "dmarc=pass", "dkim=pass", "spf=pass", "header.from=",
                        "header.d=", "smtp.mailfrom=", "\"", "(", ")", "\\", ";", "=", " ", "\r\n ", "acme-store.example"]
        let jsonTokens = ["{", "}", "[", "]", "\"", "\\", "\\u0000", ":", ",", "null", "true", "1e308", "-0", "\"value\":", "9999999999999999999"]
        return [
            Target(name: "slack-form", seeds: [file("webhooks/slack-command.form"), file("webhooks/slack-interaction.form")],
                   tokens: ["&", "=", "%", "%7B", "%22", "+", "payload=", "text=", "user_id=", "%00", "%ZZ"]) { bytes in
                guard let form = try? FormBody(bytes) else { return }
                _ = try? SlackCommand(form: form)
                _ = try? SlackInteraction(form: form)
            },
            Target(name: "slack-json", seeds: [file("webhooks/slack-event-app-mention.json"),
                                               file("webhooks/slack-event-url-verification.json")], tokens: jsonTokens) { bytes in
                _ = try? SlackEvent(json: bytes)
            },
            Target(name: "multipart", seeds: [file(seeds + "mailgun-multipart.txt")],
                   tokens: ["--xYzZY", "--xYzZY--", "\r\n", "Content-Disposition: form-data; name=\"", "\"; filename=\"", "\n\n"]) { bytes in
                _ = try? FormBody(multipart: bytes, boundary: "xYzZY")
            },
            Target(name: "mime", seeds: [mail] + replies.map { Array("From: o@a.example\nSubject: Re: x\n\n".utf8) + $0 },
                   tokens: mimeTokens) { bytes in
                let parsed = InboundMail(raw: bytes)
                _ = MailAuthentication.check(parsed, trusting: authservIDs)
                _ = parsed.fromAddress
            },
            Target(name: "auth-results", seeds: [headers], tokens: arTokens,
                   large: mebibyte("Authentication-Results: mx.fix.example.com; ", "dmarc=pass (\"a;b\" c) header.from=\"x;y\"; ")) { bytes in
                _ = MailAuthentication.check(InboundMail(raw: bytes + Array("\n\nstatus\n".utf8)), trusting: authservIDs)
            },
            Target(name: "rfc2047", seeds: [Array("Subject: =?iso-8859-1?b?U3RhdHVzIPw=?= =?utf-8?q?_please?=\nFrom: =?utf-8?q?Owner_=C3=BC?= <o@a.example>".utf8)],
                   tokens: mimeTokens, large: mebibyte("Subject: ", "=?utf-8?q?caf=C3=A9_au_lait?= ")) { bytes in
                _ = InboundMail(raw: bytes + Array("\n\n".utf8)).subject
            },
            Target(name: "reply", seeds: replies, tokens: ["YES", "NO", "not", "don't", "> ", "On Thu, 26 Nov 2026, perfbot wrote:\n", "\n-- \n"]) { bytes in
                _ = ReplyReader.read(String(decoding: bytes, as: UTF8.self))
            },
            Target(name: "slow-log", seeds: [file(seeds + "slow.log"), file(seeds + "slow-mariadb.log")],
                   tokens: ["# Time: ", "# User@Host: ", "# Query_time: ", "use ", ";\n", "SET timestamp=", "'", "\\", "/*", "*/", "\n"]) { bytes in
                var ingest = SlowLogIngest(recentSince: Date(timeIntervalSince1970: 0), database: "shop")
                ingest.read(bytes, complete: true, fallbackTime: Date(timeIntervalSince1970: 1_764_151_200))
            },
            Target(name: "fingerprint", seeds: [Array("SELECT post_id FROM wp_postmeta WHERE meta_key = '_price' AND meta_value IN (1, 2, 3) ORDER BY post_id LIMIT 10".utf8),
                                                Array("select 1 from t where a = 'x\\' or b = '\\! touch /tmp/x' /* c */ union select 2".utf8)],
                   tokens: ["'", "\"", "`", "\\", "/*", "*/", "-- ", "#", "(", ")", ",", " in (", " values (", "0x", "union select "]) { bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                let shape = QueryFingerprinter.fingerprint(text)
                _ = ExplainAdvice.clientHazard(shape)
                _ = ExplainAdvice.refusal(text)
            },
            Target(name: "varnishstat", seeds: [file(seeds + "varnishstat-old.json"), file(seeds + "varnishstat-new.json")],
                   tokens: jsonTokens) { bytes in
                _ = try? VarnishStats(json: bytes)
            },
            Target(name: "php-fpm", seeds: [file(seeds + "php-fpm-status.json")], tokens: jsonTokens) { bytes in
                _ = try? PHPFPMStatus(json: bytes)
            },
            Target(name: "service-text", seeds: [file(seeds + "redis-info.txt")], tokens: [":", "\n", "\r\n", "\t", "# ", "used_memory:"]) { bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                _ = RedisInfo(text).memoryPercent
                _ = MySQLStatus(text)
            },
            Target(name: "docker-stats", seeds: [file(seeds + "docker-stats.json")], tokens: jsonTokens + ["%", "MiB", " / ", "--"]) { bytes in
                _ = try? DockerStats(json: String(decoding: bytes, as: UTF8.self))
            },
            Target(name: "prometheus", seeds: [file(seeds + "prometheus-vector.json"), file(seeds + "prometheus-error.json")],
                   tokens: jsonTokens + ["\"NaN\"", "\"+Inf\"", "\"value\":[1,\"2\"]"]) { bytes in
                _ = try? PrometheusClient.vector(bytes, status: 200, label: "name")
            },
            Target(name: "lighthouse", seeds: [file("webhooks/lighthouse-report.json")], tokens: jsonTokens) { bytes in
                _ = try? LighthouseReport(json: bytes)
            },
            Target(name: "access-log", seeds: [file("Tests/TrafficAnalyticsTests/Fixtures/access.log")],
                   tokens: ["\"", " ", "\n", "[", "]", "-", "?", "/", ".css", "+0000]", "\" 200 ", " \"-\" ", "\\\"", ":"]) { bytes in
                var aggregator = TrafficAggregator()
                _ = bytes.withUnsafeBufferPointer { aggregator.consume($0, final: true) }
                _ = TrafficText.render(aggregator.report(), source: "fuzz")
            },
            Target(name: "alerts", seeds: [file("webhooks/alertmanager-firing.json"), file("webhooks/alertmanager-resolved.json"),
                                           file("webhooks/grafana-firing.json")], tokens: jsonTokens) { bytes in
                _ = try? JSONDecoder().decode(AlertPayload.self, from: Data(bytes))
            },
        ]
    }
}

/// Random edits of a seed.
struct Mutator {
    var random: SplitMix64
    let maxBytes: Int

    mutating func int(_ upper: Int) -> Int { upper <= 0 ? 0 : Int(random.next() % UInt64(upper)) }

    mutating func input(_ target: Target) -> [UInt8] {
        var bytes = target.seeds[int(target.seeds.count)]
        for _ in 0...int(6) { edit(&bytes, target) }
        if bytes.count > maxBytes { bytes.removeLast(bytes.count - maxBytes) }
        return bytes
    }

    mutating func edit(_ bytes: inout [UInt8], _ target: Target) {
        let at = int(bytes.count + 1)
        switch int(10) {
        case 0 where !bytes.isEmpty: bytes[int(bytes.count)] ^= UInt8(1 << int(8))
        case 1 where !bytes.isEmpty: bytes[int(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
        case 2: bytes.insert(contentsOf: (0..<1 + int(8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
        case 3 where !bytes.isEmpty:
            let end = min(bytes.count, at + 1 + int(64))
            if at < end { bytes.removeSubrange(at..<end) }
        case 4 where !bytes.isEmpty:
            // A stretch repeated many times: what makes a quadratic parser slow.
            let start = int(bytes.count), end = min(bytes.count, start + 1 + int(32))
            let chunk = Array(bytes[start..<end])
            let times = 1 + int(max(1, maxBytes / max(chunk.count, 1) / 4))
            bytes.insert(contentsOf: Array([[UInt8]](repeating: chunk, count: times).joined()), at: end)
        case 5, 6:
            let token = Array(target.tokens[int(target.tokens.count)].utf8)
            bytes.insert(contentsOf: int(4) == 0 ? Array([[UInt8]](repeating: token, count: 1 + int(2000)).joined()) : token, at: at)
        case 7:
            let other = target.seeds[int(target.seeds.count)]
            let from = int(other.count)
            bytes.insert(contentsOf: other[from..<min(other.count, from + int(512))], at: at)
        case 8 where bytes.count > 1: bytes.removeLast(int(bytes.count))
        default:
            if !bytes.isEmpty { bytes[int(bytes.count)] = [0, 0x0a, 0x0d, 0x22, 0x27, 0x5c, 0xff, 0xc3][int(8)] }
        }
    }
}

func milliseconds(_ work: () -> Void) -> Double {
    let start = ContinuousClock.now
    work()
    let elapsed = (ContinuousClock.now - start).components
    return Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
}

do {
    let fuzz = try Fuzz(arguments: Array(CommandLine.arguments.dropFirst()))
    let folder = (fuzz.root as NSString).appendingPathComponent(".build/fuzz")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var failed = false
    for target in fuzz.targets() where fuzz.only == nil || fuzz.only == target.name {
        guard !target.seeds.isEmpty, target.seeds.allSatisfy({ !$0.isEmpty }) else { throw FuzzError.noSeeds(target.name) }
        if let replay = fuzz.replay {
            let bytes = FileManager.default.contents(atPath: replay).map(Array.init) ?? []
            print(String(format: "%@: %d bytes in %.2f ms", target.name, bytes.count, milliseconds { target.run(bytes) }))
            continue
        }
        let current = (folder as NSString).appendingPathComponent("\(target.name).input")
        let descriptor = open(current, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var mutator = Mutator(random: SplitMix64(seed: fuzz.seed &+ UInt64(target.name.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })),
                              maxBytes: fuzz.maxBytes)
        // First the 1 MiB input: a parser linear in its input reads it well inside the limit.
        let big = target.mebibyte
        let bigMs = min(milliseconds { target.run(big) }, milliseconds { target.run(big) }, milliseconds { target.run(big) })
        if bigMs > fuzz.limitMs {
            print("✘ \(FuzzError.slow(target.name, bigMs, big.count)) (1 MiB input)")
            failed = true
            break
        }
        var slowest = 0.0, slowestSize = 0, bytesRead = 0
        let started = ContinuousClock.now
        for index in 0..<fuzz.inputs {
            // Every seed as it is first, then edited ones.
            let input = index < target.seeds.count ? target.seeds[index] : mutator.input(target)
            _ = ftruncate(descriptor, 0)
            _ = input.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            var took = milliseconds { target.run(input) }
            if took > fuzz.limitMs {
                // Once more, twice: a busy machine is not a slow parser.
                took = min(took, milliseconds { target.run(input) }, milliseconds { target.run(input) })
            }
            if took > slowest {
                (slowest, slowestSize) = (took, input.count)
                FileManager.default.createFile(atPath: (folder as NSString).appendingPathComponent("\(target.name).slowest"),
                                               contents: Data(input))
            }
            bytesRead += input.count
            if took > fuzz.limitMs {
                let kept = (folder as NSString).appendingPathComponent("\(target.name).slow")
                FileManager.default.createFile(atPath: kept, contents: Data(input))
                print("✘ \(FuzzError.slow(target.name, took, input.count)) (kept in \(kept))")
                failed = true
                break
            }
        }
        close(descriptor)
        try? FileManager.default.removeItem(atPath: current)
        let seconds = (ContinuousClock.now - started).components.seconds
        print(String(format: "%@ %@ %9d inputs  %7.1f MB  slowest %6.2f ms (%6d bytes)  1 MiB in %6.2f ms  %4d s",
                     failed ? "✘" : "✔", target.name.padding(toLength: 15, withPad: " ", startingAt: 0) as NSString, fuzz.inputs, Double(bytesRead) / 1e6, slowest, slowestSize,
                     bigMs, Int(seconds)))
        if failed { break }
    }
    exit(failed ? 1 : 0)
} catch {
    FileHandle.standardError.write(Data("perfbot-fuzz: \(error)\n".utf8))
    exit(2)
}
