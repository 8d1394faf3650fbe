import BotCore
@testable import BotPostgres
import Foundation
import Testing
import TestSupport

/// Jobs shared by replicas: one running job per store whoever claims, each job run once, and a dead replica's
/// running job recorded `interrupted` while a live one's is left alone.
@Suite struct PostgresJobTests {
    static func draft(_ store: String, _ playbook: String) -> JobDraft {
        JobDraft(store: StoreID(store)!, kind: .playbook(playbook), requester: .slack(SlackUserID("U0OPS0001")!, .operator),
                 plan: [PlannedStep(name: "Flush the cache", argv: ["wp", "cache", "flush"]), PlannedStep(name: "Warm", argv: ["true"])],
                 planHash: "hash-\(playbook)", reason: "asked in Slack")
    }

    @Test func eachStoreRunsOneJobAtATimeWhicheverReplicaClaims() async throws {
        try await PostgresTestDatabase.with("jobclaims", connections: 8) { database in
            let (one, two) = (PostgresStore(database: database, replica: "r1"), PostgresStore(database: database, replica: "r2"))
            try await one.upsert([shop("acme-store"), shop("beta-shop")], at: t0)
            guard case let .admitted(first, ahead) = try await one.admitJob(Self.draft("acme-store", "clear-cache"), at: t0) else {
                Issue.record("not admitted"); return
            }
            #expect(ahead == 0 && first.state == .queued && first.plan.count == 2)
            #expect(try await two.admitJob(Self.draft("acme-store", "clear-cache"), at: t0) == .duplicate(first), "the same job waits already")
            guard case let .admitted(second, secondAhead) = try await two.admitJob(Self.draft("acme-store", "restart-php"), at: t0) else {
                Issue.record("not admitted"); return
            }
            #expect(secondAhead == 1)
            _ = try await two.admitJob(Self.draft("beta-shop", "clear-cache"), at: t0)
            // Both replicas claim the store's next job at once, ten times over: one job runs.
            var claims: [JobRecord] = []
            for _ in 0..<10 {
                async let a = one.claimNextJob(of: StoreID("acme-store")!, at: t0)
                async let b = two.claimNextJob(of: StoreID("acme-store")!, at: t0)
                claims += [try await a, try await b].compactMap { $0 }
            }
            #expect(claims.map(\.id) == [first.id], "one claim, of the oldest job")
            #expect(try await two.claimNextJob(of: StoreID("beta-shop")!, at: t0) != nil, "another store's job runs beside it")
            try await one.recordJobStep(claims[0], step: JobStepRecord(index: 0, name: "Flush the cache", status: .succeeded, reason: nil,
                                                                       startedAt: t0, duration: 1.5),
                                        argv: ["wp", "cache", "flush"], exitCode: 0, output: "Success", at: t0)
            try await one.finishJob(first.id, state: .succeeded, summary: "done", at: t0)
            let next = try await two.claimNextJob(of: StoreID("acme-store")!, at: t0)
            #expect(next?.id == second.id)
            let finished = try #require(try await two.job(first.id))
            #expect(finished.state == .succeeded && finished.steps.map(\.name) == ["Flush the cache"] && finished.steps[0].duration == 1.5)
            #expect(try await database.count("audit_log") == 1)
            #expect(try await database.count("automation_actions") == 1)
            #expect(try await one.jobCounts() == [.running: 2, .succeeded: 1])
            #expect(try await one.jobs(store: StoreID("acme-store")!, limit: 10).map(\.state) == [.running, .succeeded])
        }
    }

    @Test func aDeadReplicasRunningJobIsInterruptedAndALiveOnesIsNot() async throws {
        try await PostgresTestDatabase.with("jobdeath") { database in
            let (dying, living) = (PostgresStore(database: database, replica: "dying"), PostgresStore(database: database, replica: "living"))
            try await living.upsert([shop("acme-store"), shop("beta-shop")], at: t0)
            try await dying.heartbeat(for: .seconds(60))
            try await living.heartbeat(for: .seconds(60))
            _ = try await dying.admitJob(Self.draft("acme-store", "clear-cache"), at: t0)
            _ = try await living.admitJob(Self.draft("beta-shop", "clear-cache"), at: t0)
            let lost = try #require(try await dying.claimNextJob(of: StoreID("acme-store")!, at: t0))
            let kept = try #require(try await living.claimNextJob(of: StoreID("beta-shop")!, at: t0))
            #expect(try await living.interruptRunningJobs(at: t0).isEmpty, "both replicas are alive")
            // `dying` heartbeats one last time and stops, as a replica killed with SIGKILL would.
            try await dying.heartbeat(for: .milliseconds(300))
            try await Task.sleep(for: .milliseconds(500))
            let interrupted = try await living.interruptRunningJobs(at: t0.addingTimeInterval(60))
            #expect(interrupted.map(\.id) == [lost.id])
            #expect(interrupted.first?.state == .interrupted && interrupted.first?.summary == "interrupted after 0 of 2 steps")
            #expect(try await living.job(kept.id)?.state == .running, "the living replica's job runs on")
            // The store is free again: its next job may start on any replica.
            _ = try await living.admitJob(Self.draft("acme-store", "restart-php"), at: t0)
            #expect(try await living.claimNextJob(of: StoreID("acme-store")!, at: t0) != nil)
        }
    }
}
