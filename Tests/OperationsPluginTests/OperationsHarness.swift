import BotCore
import BotPlaybooks
import BotStore
import Foundation
import TestSupport
import Logging
import PerfbotApp

/// A path inside the repository.
func repositoryPath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(relative).path
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}


/// A stand-in for `docker` or `ssh`: records each argv it is started with (arguments apart by US, runs by RS, as an
/// argument may hold a newline), and exits 0.
struct StandIn {
    let path: String
    let log: String

    init(name: String, in directory: URL, exitCode: Int = 0, delay: Double = 0) throws {
        path = directory.appendingPathComponent(name).path
        log = directory.appendingPathComponent("\(name).log").path
        let script = """
            #!/bin/sh
            sleep \(delay)
            for argument in "$@"; do printf '%s\\037' "$argument"; done >> '\(log)'
            printf '\\036' >> '\(log)'
            exit \(exitCode)
            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// Every recorded argv (without the program name), in order, as started.
    func rawRuns() -> [[String]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\u{1E}").map { line in
            line.split(separator: "\u{1F}", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
    }

    /// Every recorded argv as the far side runs it: a job step's stop bookkeeping (`sh -c <RemoteStep.runScript>
    /// <pid file> <seconds> argv…`, checked exactly in `aJobStepRecordsItsPidForAStop`) read as the
    /// `timeout -k 5 <seconds> argv…` it runs, so the argv can be compared with a dry run's.
    func runs() -> [[String]] {
        rawRuns().map { argv in
            if let at = argv.firstIndex(of: "sh"), argv.count > at + 4, argv[at + 1] == "-c", argv[at + 2] == RemoteStep.runScript {
                return Array(argv[..<at]) + ["timeout", "-k", "5"] + argv[(at + 4)...]
            }
            guard let line = argv.last, let range = line.range(of: "'sh' '-c' ") else { return argv }
            // ssh: one quoted line; the script and the pid file are its two elements after `'sh' '-c'`.
            var rest = line[range.upperBound...]
            for _ in 0..<2 {
                guard let end = Self.endOfQuoted(rest) else { return argv }
                rest = rest[end...].drop { $0 == " " }
            }
            return Array(argv.dropLast()) + [String(line[..<range.lowerBound]) + "'timeout' '-k' '5' " + rest]
        }
    }

    /// Where the first single-quoted element of `text` (`'it'\''s'`) ends.
    static func endOfQuoted(_ text: Substring) -> Substring.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            guard text[index] == "'", let close = text[text.index(after: index)...].firstIndex(of: "'") else { return nil }
            index = text.index(after: close)
            if text[index...].hasPrefix(#"\''"#) { index = text.index(index, offsetBy: 2) } else { return index }
        }
        return nil
    }
}

let now = Date(timeIntervalSince1970: 1_800_000_000)
let admin = SlackUserID("U0ADMIN01")!
let operatorUser = SlackUserID("U0OPS0001")!
let viewer = SlackUserID("U0VIEW001")!

/// perfbot wired as in production over a temporary database, with `docker` and `ssh` stand-ins.
struct OperationsBot {
    let store: SQLiteStore
    let router: CommandRouter
    let docker: StandIn
    let ssh: StandIn
    let wiring: Wiring

    /// - Parameter container: `docker` runs each command on this host as a container would: in a session of its own,
    ///   so killing the client leaves it running, with `wp` a stand-in that records its pid and sleeps.
    init(customers: [Customer], metrics: [MetricName: Double] = [.memoryPercent: 61], dockerDelay: Double = 0,
         container: Bool = false, remoteHost: Bool = false) async throws {
        let directory = try temporaryDirectory()
        store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path, metrics: Wiring.metricCatalogue)
        docker = try StandIn(name: "docker", in: directory, delay: dockerDelay)
        if container { try Self.emulateContainer(at: docker.path, in: directory) }
        ssh = try StandIn(name: "ssh", in: directory)
        if remoteHost { try Self.emulateHost(at: ssh.path, in: directory) }
        try await store.upsert(customers, at: now)
        for customer in customers {
            try await store.insert(metrics.map { MetricSample(store: customer.id, metric: $0.key, at: now.addingTimeInterval(-30), value: $0.value) })
        }
        var configuration = try PerfbotConfiguration(values: ["PERFBOT_SLACK_USERS": "U0ADMIN01:admin,U0ADMIN02:admin,U0OPS0001:operator,U0VIEW001:viewer"])
        configuration.playbooksPath = repositoryPath("Playbooks")
        wiring = try Wiring(configuration: configuration, store: store, clock: ManualClock(now),
                            executors: ExecutorFactory(docker: docker.path, ssh: ssh.path), sleeper: InstantSleeper())
        router = try wiring.commandRouter()
    }

    static func emulateContainer(at docker: String, in directory: URL) throws {
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try """
            #!/bin/sh
            # docker exec [-w DIR] CONTAINER argv…, the container being this host. Like dockerd, the command is not the
            # client's for long: it runs in a session of its own, and killing the client leaves it running.
            [ "$1" = exec ] || exit 64; shift
            if [ "$1" = -w ]; then shift 2; fi
            shift
            PATH="\(bin.path):$PATH"; export PATH
            out=$(mktemp)
            setsid "$@" > "$out" 2>&1 < /dev/null &
            wait $!
            status=$?
            cat "$out"; rm -f "$out"
            exit $status
            """.write(toFile: docker, atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho $$ >> '\(directory.appendingPathComponent("wp.pids").path)'\nexec sleep 300\n"
            .write(to: bin.appendingPathComponent("wp"), atomically: true, encoding: .utf8)
        chmod(docker, 0o755)
        chmod(bin.appendingPathComponent("wp").path, 0o755)
    }

    /// `ssh … -- HOST LINE`, the host being this one: like sshd, the remote shell reads the line, and the command
    /// is not the client's: killing the client leaves it running.
    static func emulateHost(at ssh: String, in directory: URL) throws {
        try emulateContainer(at: ssh + ".unused", in: directory)
        let bin = directory.appendingPathComponent("bin").path
        try """
            #!/bin/sh
            while [ "$1" != "--" ]; do shift; done
            shift 2
            PATH="\(bin):$PATH"; export PATH
            out=$(mktemp)
            setsid sh -c "$1" > "$out" 2>&1 < /dev/null &
            wait $!
            status=$?
            cat "$out"; rm -f "$out"
            exit $status
            """.write(toFile: ssh, atomically: true, encoding: .utf8)
        chmod(ssh, 0o755)
    }

    /// The pids the container's `wp` stand-in recorded.
    var wpPids: [pid_t] {
        let file = URL(fileURLWithPath: docker.path).deletingLastPathComponent().appendingPathComponent("wp.pids").path
        return ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    func ask(_ text: String, as user: SlackUserID = operatorUser) async -> String {
        await router.route(text, user: user, channel: "C0OPS0001", logger: Logger(label: "test")).plainText
    }
}

func woo(_ name: String = "acme-store", container: String = "acme-store-app", plan: Plan = .premium,
         level: AutomationLevel = .safeAutoFix, exceptions: [String] = []) -> Customer {
    Customer(id: StoreID(name)!, platform: .woocommerce, plan: plan, contactEmail: "o@\(name).example",
             container: container, automationLevel: level, automationExceptions: exceptions)
}

func magento(_ name: String = "widgets-inc", container: String = "widgets-inc-app", plan: Plan = .basic) -> Customer {
    Customer(id: StoreID(name)!, platform: .magento, plan: plan, contactEmail: "o@\(name).example", container: container)
}

/// Whether `pid` is a live process (a zombie nobody reaped counts as gone).
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !(stat.split(separator: ")").last?.hasPrefix(" Z") ?? false)
}
