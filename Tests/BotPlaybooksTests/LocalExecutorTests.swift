import BotCore
import BotPlaybooks
import Foundation
import Testing

/// A fresh temporary directory.
func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

@Suite struct LocalExecutorTests {
    let executor = LocalExecutor()

    @Test func exitCodesAreReportedNotThrown() async throws {
        let ok = try await executor.run(CommandRequest(argv: ["true"], timeout: 5))
        #expect(ok.exitCode == 0 && ok.succeeded)
        let failed = try await executor.run(CommandRequest(argv: ["sh", "-c", "echo broken >&2; exit 3"], timeout: 5))
        #expect(failed.exitCode == 3)
        #expect(failed.output == "broken\n")
        #expect(failed.failureReason == "exit 3: broken")
    }

    @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
        let directory = try temporaryDirectory()
        let pidFile = directory.appendingPathComponent("child.pid").path
        let started = Date()
        // The shell starts a grandchild that would outlive a plain kill of the shell.
        let outcome = try await executor.run(CommandRequest(
            argv: ["sh", "-c", "sleep 30 & echo $! > \(pidFile); wait"], timeout: 0.5))
        #expect(outcome.timedOut)
        #expect(outcome.signal == 9)
        #expect(Date().timeIntervalSince(started) < 20)  // a guard against hanging, not a speed claim
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        try await Task.sleep(for: .milliseconds(200))
        // Gone, or a zombie waiting to be reaped by init: either way no longer running.
        let state = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("State:") }.map(String.init)
        #expect(state == nil || state?.contains("Z") == true, "the grandchild \(pid) survived the timeout: \(state ?? "")")
    }

    /// The kill ends the output too, so both of the run's tasks finish at once: a command the timer killed is
    /// reported timed out whichever of the two the scheduler hands back first (many at once, to crowd it). The
    /// command outlives any delay a busy machine may give the timer, so only the kill can end it.
    @Test func aCommandKilledByItsTimerIsAlwaysReportedTimedOut() async throws {
        let outcomes = try await withThrowingTaskGroup(of: CommandOutcome.self) { group in
            for _ in 0..<40 {
                group.addTask { try await executor.run(CommandRequest(argv: ["sleep", "600"], timeout: 0.05)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 40)
        #expect(outcomes.allSatisfy { $0.timedOut && $0.signal == 9 })
    }

    @Test func outputIsBoundedAndTheRestDrained() async throws {
        let bounded = LocalExecutor(outputLimit: 1024)
        // A generous timer: this is about the bound, and a machine busy with the other suites may be slow to drain.
        let outcome = try await bounded.run(CommandRequest(argv: ["seq", "1", "200000"], timeout: 60))
        #expect(outcome.exitCode == 0)
        #expect(outcome.output.utf8.count == 1024)
        #expect(outcome.truncated)
        #expect(outcome.output.hasPrefix("1\n2\n3\n"))
    }

    @Test func theEnvironmentIsScrubbed() async throws {
        setenv("PERFBOT_TEST_SECRET", "do-not-leak", 1)
        setenv("SLACK_SIGNING_SECRET", "do-not-leak-either", 1)
        let outcome = try await executor.run(CommandRequest(argv: ["env"], timeout: 5))
        let names = Set(outcome.output.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        #expect(names == ["PATH", "LANG", "LC_ALL", "HOME", "TMPDIR"])
        #expect(!outcome.output.contains("do-not-leak"))
    }

    /// Every child gets a HOME of perfbot's own (0700), never the shared temp directory where anyone may plant a
    /// `.my.cnf` or a `.ssh/config`; if it stops being private, nothing starts.
    @Test func childrenGetAPrivateHome() async throws {
        let outcome = try await executor.run(CommandRequest(argv: ["env"], timeout: 5))
        let home = try #require(outcome.output.split(separator: "\n").first { $0.hasPrefix("HOME=") }).dropFirst(5)
        #expect(String(home) == PrivateHome.path && !PrivateHome.path.isEmpty)
        #expect(String(home) != FileManager.default.temporaryDirectory.path && home != "/tmp")
        let mode = try await executor.run(CommandRequest(argv: ["stat", "--format=%a %u %F", "--", String(home)], timeout: 5))
        #expect(mode.output.trimmingCharacters(in: .whitespacesAndNewlines) == "700 \(geteuid()) directory")
        #expect(PrivateHome.isPrivate)
        // The check that runs before every child: a shared or borrowed directory is not private.
        let other = try temporaryDirectory()
        chmod(other.path, 0o700)
        #expect(PrivateHome.isPrivate(other.path))
        chmod(other.path, 0o1777)
        #expect(!PrivateHome.isPrivate(other.path) && !PrivateHome.isPrivate("/tmp"))
        let link = other.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: PrivateHome.path)
        #expect(!PrivateHome.isPrivate(link))
    }

    @Test func theWorkingDirectoryAndRelativeProgramsResolveInIt() async throws {
        let directory = try temporaryDirectory()
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let script = bin.appendingPathComponent("magento")
        try "#!/bin/sh\npwd\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let outcome = try await executor.run(CommandRequest(argv: ["bin/magento"], timeout: 5, workingDirectory: directory.path))
        #expect(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
            == directory.resolvingSymlinksInPath().path)
    }

    @Test func anUnknownProgramIsAnErrorBeforeAnythingStarts() async {
        await #expect(throws: ExecutorError.programNotFound("no-such-program-here")) {
            try await executor.run(CommandRequest(argv: ["no-such-program-here"], timeout: 5))
        }
    }
}
