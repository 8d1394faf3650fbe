import BotChannels
import BotCore
import BotPlaybooks
import BotStore
import Foundation
import HummingbirdOTP
import HummingbirdTesting
import NIOCore
import PerfbotApp
import Testing

/// `/perf intervene` against the live server and a Slack stand-in: the plan first, the admin's code in a modal
/// (`views.open` with the command's `trigger_id`), the job only once the code holds, the code in no channel, no log.
@Suite struct InterventionTests {
    static let admin = "U0DEMOADM"
    static let second = "U0SECOND1"

    /// A `view_submission` as Slack sends it, with `code` typed in perfbot's input.
    static func submission(callbackID: String, metadata: String, code: String, user: String = admin) -> String {
        let payload: [String: Any] = [
            "type": "view_submission", "team": ["id": "T0BOT0001", "domain": "acmeops"],
            "user": ["id": user, "username": "alice", "team_id": "T0BOT0001"], "api_app_id": "A0BOT0001",
            "token": "legacy-ignored", "trigger_id": "333.444.\(UUID().uuidString.prefix(6))",
            "view": ["id": "V0MODAL\(Int.random(in: 10...99))", "type": "modal", "callback_id": callbackID,
                     "private_metadata": metadata, "hash": "1767225700.abc",
                     "state": ["values": ["perfbot_input": ["perfbot_input": ["type": "plain_text_input", "value": code]]]]],
            "response_urls": [] as [Any],
        ]
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        return FormBody.encode([("payload", json)])
    }

    func bot(_ base: String, docker: String) async throws -> TestBot {
        try await TestBot(extra: ["SLACK_API_URL": base + "/api", "SLACK_BOT_TOKEN": "xoxb-test",
                                  "PERFBOT_SLACK_USERS": "\(Self.admin):admin,\(Self.second):admin,U0DEMOOPS:operator"],
                          executors: ExecutorFactory(docker: docker))
    }

    @Test func aDestructiveInterventionRunsOnlyOnceTheAdminsCodeHolds() async throws {
        let docker = try standInDocker("echo ok")
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await bot(base, docker: docker)
            let secret = TOTPFactor.newSecret()
            try await bot.store.enrollFactor(SlackUserID(Self.admin)!, secret: secret, at: t0)
            let totp = TOTP(secret: secret, length: 6, timeStep: 30)
            try await bot.app.test(.live) { client in
                func post(_ path: String, _ body: String) async throws -> TestResponse {
                    try await client.execute(uri: path, method: .post, headers: bot.slackHeaders(body), body: ByteBuffer(string: body))
                }
                // Without a reason: refused, nothing opened.
                let bare = try await post("/slack/commands", TestBot.commandBody("intervene optimize_store acme-store"))
                #expect(try json(bare)["text"] as? String ?? "" == "An intervention needs a reason, kept in the audit log: "
                    + "`/perf intervene optimize_store acme-store --reason \"…\"`.")
                // An operator may not intervene.
                let operatorReply = try await post("/slack/commands", TestBot.commandBody(
                    "intervene optimize_store acme-store --reason \"slow\"", user: "U0DEMOOPS"))
                #expect((try json(operatorReply)["text"] as? String ?? "").contains("needs the admin role"))
                // The admin asks: the plan comes back and a modal opens over the command.
                let asked = try await post("/slack/commands", TestBot.commandBody(
                    "intervene optimize_store acme-store --reason \"checkout slow since the sale\"", trigger: "111.222.abc"))
                let text = try json(asked)["text"] as? String ?? ""
                #expect(text.contains("Intervention · Optimize store (WooCommerce) · acme-store"), "\(text)")
                #expect(text.contains("mysqlcheck --optimize --skip-write-binlog wordpress`"), "\(text)")
                #expect(text.contains("window that opened"))
                let opened = try #require(await slack.received.first { $0.path == "/api/views.open" })
                #expect(opened.authorization == "Bearer xoxb-test")
                let view = try #require(try JSONSerialization.jsonObject(with: Data(opened.body.utf8)) as? [String: Any])
                #expect(view["trigger_id"] as? String == "111.222.abc")
                let modal = try #require(view["view"] as? [String: Any])
                #expect(modal["callback_id"] as? String == "intervention_factor")
                let metadata = try #require(modal["private_metadata"] as? String)
                let job = try #require(try await bot.store.jobs(store: StoreID("acme-store")!, limit: 5).first)
                #expect(job.state == .requested)
                // A wrong code keeps the modal open with the reason under the input; nothing runs.
                let now = bot.clock.now
                let valid = Set([-30.0, 0, 30].map { TOTPFactor.format(totp.compute(date: now.addingTimeInterval($0)), digits: 6) })
                let wrong = (0..<1000).lazy.map { String(format: "%06d", ($0 * 7919) % 1_000_000) }.first { !valid.contains($0) }!
                let refused = try await post("/slack/interactions", Self.submission(callbackID: "intervention_factor", metadata: metadata, code: wrong))
                let errors = try json(refused)
                #expect(errors["response_action"] as? String == "errors")
                #expect((errors["errors"] as? [String: String])?["perfbot_input"]?.contains("does not match") == true)
                #expect(try await bot.store.job(job.id)?.state == .requested)
                // The right code closes the modal (an empty 200) and queues the job, which runs.
                let good = TOTPFactor.format(totp.compute(date: now), digits: 6)
                let accepted = try await post("/slack/interactions", Self.submission(callbackID: "intervention_factor", metadata: metadata, code: good))
                #expect(accepted.status == .ok && accepted.body.readableBytes == 0)
                let outcome = await bot.wiring.engine.outcome(of: job.id)
                #expect(outcome.job.state == .succeeded, "\(outcome.job)")
                // The same code again (a retry of another submission, or someone who saw it): refused.
                let again = try await post("/slack/interactions", Self.submission(callbackID: "intervention_factor", metadata: metadata, code: good))
                #expect(again.body.readableBytes == 0)
                // The reason, the check and the run are audited; the code is nowhere: not in the audit log, the
                // deliveries kept, the outbox.
                let audit = try await bot.store.auditEntries(store: StoreID("acme-store")!, limit: 20)
                #expect(audit.contains { $0.action == "intervention.request" && $0.details["reason"] == "checkout slow since the sale" })
                #expect(audit.contains { $0.action == "mfa.check" && $0.result == "wrong code" })
                #expect(audit.contains { $0.action == "mfa.check" && $0.result == "verified" })
                var kept: [String] = []
                for id in Int64(1)...100 {
                    guard let delivery = try await bot.store.delivery(id: id) else { break }
                    kept.append(String(decoding: delivery.body, as: UTF8.self))
                }
                #expect(!kept.isEmpty && kept.allSatisfy { !$0.contains(good) && !$0.contains(wrong) })
                let queued = try await bot.store.pendingMessages().map { "\($0.message)" }
                #expect(queued.allSatisfy { !$0.contains(good) })
                #expect(audit.allSatisfy { !"\($0.details)".contains(good) })
            }
        }
    }

    /// Without an enrolled factor a destructive intervention is refused and says how to enrol.
    @Test func anInterventionWithoutASecondFactorIsRefused() async throws {
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await bot(base, docker: try standInDocker("echo ok"))
            let reply = await (try bot.wiring.commandRouter()).route("intervene optimize_store acme-store --reason \"slow\"",
                                                                      user: SlackUserID(Self.admin)!, channel: nil, logger: .init(label: "t"))
            #expect(reply.plainText.contains("needs your second factor, and you have none enrolled"))
            #expect(reply.plainText.contains("perfbot admins enroll U0DEMOADM"))
            #expect(reply.modal == nil)
            #expect(try await bot.store.jobs(store: StoreID("acme-store")!, limit: 5).isEmpty)
            // `/perf run` does not run an intervention either.
            let run = await (try bot.wiring.commandRouter()).route("run optimize_store acme-store", user: SlackUserID(Self.admin)!,
                                                                    channel: nil, logger: .init(label: "t"))
            #expect(run.plainText.contains("is an intervention: `/perf intervene optimize_store acme-store"))
        }
    }

    /// A two-person intervention waits, after its requester's code, for another admin, who confirms with theirs.
    @Test func aTwoPersonInterventionWaitsForASecondAdmin() async throws {
        let docker = try standInDocker("echo ok")
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await bot(base, docker: docker)
            var codes: [String: TOTP] = [:]
            for user in [Self.admin, Self.second] {
                let secret = TOTPFactor.newSecret()
                try await bot.store.enrollFactor(SlackUserID(user)!, secret: secret, at: t0)
                codes[user] = TOTP(secret: secret, length: 6, timeStep: 30)
            }
            let factor = TOTPFactor(store: bot.store, grace: 300)
            // Both admins typed a good code a minute ago.
            for user in [Self.admin, Self.second] {
                let at = bot.clock.now.addingTimeInterval(-60)
                #expect(try await factor.verify(SlackUserID(user)!, code: TOTPFactor.format(codes[user]!.compute(date: at), digits: 6),
                                                at: at) != .wrong)
            }
            let router = try bot.wiring.commandRouter()
            func say(_ text: String, as user: String) async -> BotReply {
                await router.route(text, user: SlackUserID(user)!, channel: nil, logger: .init(label: "t"))
            }
            let asked = await say("intervene emergency_stabilize acme-store --reason \"site down, queries piling up\"", as: Self.admin)
            #expect(asked.plainText.contains("needs a second admin"), "\(asked.plainText)")
            let job = try #require(try await bot.store.jobs(store: StoreID("acme-store")!, limit: 5).first)
            #expect(job.state == .held)
            #expect(await say("confirm \(job.id)", as: Self.admin).plainText.contains("another admin must confirm it"))
            #expect(try await bot.store.job(job.id)?.state == .held)
            let confirmed = await say("confirm \(job.id)", as: Self.second)
            #expect(confirmed.plainText.contains("is queued"), "\(confirmed.plainText)")
            #expect(await bot.wiring.engine.outcome(of: job.id).job.state == .succeeded)
            let audit = try await bot.store.auditEntries(store: StoreID("acme-store")!, limit: 20)
            #expect(audit.contains { $0.action == "intervention.confirm" && $0.actor == Self.second })
        }
    }

    /// `--at` schedules the job (the jobs list says when); `off-peak` needs a window.
    @Test func anInterventionCanWaitForItsTime() async throws {
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await bot(base, docker: try standInDocker("echo ok"))
            let router = try bot.wiring.commandRouter()
            let user = SlackUserID(Self.admin)!
            let offPeak = await router.route("intervene schedule_maintenance acme-store --reason \"monthly\"", user: user,
                                             channel: nil, logger: .init(label: "t"))
            #expect(offPeak.plainText.contains("acme-store has no maintenance window yet"), "\(offPeak.plainText)")
            let past = await router.route("intervene schedule_maintenance acme-store --reason \"monthly\" --at \"2020-01-01 03:00\"",
                                          user: user, channel: nil, logger: .init(label: "t"))
            #expect(past.plainText.contains("is in the past"))
            let later = await router.route("intervene schedule_maintenance acme-store --reason \"monthly\" --at \"2027-01-20 03:00\"",
                                           user: user, channel: nil, logger: .init(label: "t"))
            #expect(later.plainText.contains("not before Wednesday 20 January, 03:00"), "\(later.plainText)")
            let job = try #require(try await bot.store.jobs(store: StoreID("acme-store")!, limit: 5).first)
            #expect(job.state == .queued && job.notBefore == Date(timeIntervalSince1970: 1_800_000_000 + 5 * 86400 - 5 * 3600))
        }
    }

    /// Contact Customer: the report e-mail is shown in Slack first and queued only on a click of Send, once.
    @Test func theContactReportIsPreviewedThenSentOnAClick() async throws {
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await bot(base, docker: try standInDocker("echo ok"))
            let router = try bot.wiring.commandRouter()
            let early = await router.route("contact-send acme-store", user: SlackUserID(Self.admin)!, channel: nil, logger: .init(label: "t"))
            #expect(early.plainText.contains("Preview the report first"))
            try await bot.app.test(.router) { client in
                func post(_ path: String, _ body: String) async throws -> TestResponse {
                    try await client.execute(uri: path, method: .post, headers: bot.slackHeaders(body), body: ByteBuffer(string: body))
                }
                let preview = try await post("/slack/commands", TestBot.commandBody(
                    "intervene contact_customer acme-store --reason \"asked why checkout is slow\""))
                let text = try json(preview)["text"] as? String ?? ""
                #expect(text.contains("Contact Customer · acme-store"), "\(text)")
                #expect(text.contains("To: owner@acme-store.example"), "\(text)")
                #expect(text.contains("> Health score: "), "\(text)")
                #expect(text.contains("> What we recommend:"), "\(text)")
                #expect(try await bot.store.pendingMessages().filter { $0.channel == "email" }.isEmpty)
                func click() -> String {
                    let payload = #"{"type":"block_actions","user":{"id":"\#(Self.admin)"},"trigger_id":"1.2.\#(UUID().uuidString)","#
                        + #""response_url":"https://hooks.slack.com/actions/T0BOT0001/444/xyz","container":{"type":"message","channel_id":"C0OPS0001"},"#
                        + #""actions":[{"type":"button","action_id":"contact_send","value":"acme-store","action_ts":"\#(UUID().uuidString)"}]}"#
                    return "payload=" + (payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                }
                #expect(try await post("/slack/interactions", click()).status == .ok)
                let mails = try await bot.store.pendingMessages().filter { $0.channel == "email" }
                #expect(mails.count == 1 && mails.first?.destination == "owner@acme-store.example")
                // A second click sends nothing more.
                #expect(try await post("/slack/interactions", click()).status == .ok)
                #expect(try await bot.store.pendingMessages().filter { $0.channel == "email" }.count == 1)
                let audit = try await bot.store.auditEntries(store: StoreID("acme-store")!, limit: 20)
                #expect(audit.contains { $0.action == "contact.sent" && $0.details["reason"] == "asked why checkout is slow" })
            }
        }
    }

    /// Migrate to Larger Plan and Enable Premium Caching run the hosting company's tools (configured argv, on perfbot's
    /// host) after the checklist and plan are shown; the store's record changes only when the tool succeeded.
    @Test func hostingInterventionsRunTheConfiguredToolAndRecordTheChange() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let calls = directory.appendingPathComponent("calls").path
        let tool = directory.appendingPathComponent("hosting-tool").path
        try """
        #!/bin/sh
        echo "$*" >> \(calls)
        case "$*" in *gold*) echo "no capacity left on the host" >&2; exit 3;; esac
        echo done
        """.write(toFile: tool, atomically: true, encoding: .utf8)
        chmod(tool, 0o755)
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await TestBot(extra: [
                "SLACK_API_URL": base + "/api", "SLACK_BOT_TOKEN": "xoxb-test", "PERFBOT_SLACK_USERS": "\(Self.admin):admin",
                "PERFBOT_PLANS": "enterprise:premium,gold:premium",
                "PERFBOT_PROVISION_COMMAND": "\(tool) resize --store {store} --plan {plan}",
                "PERFBOT_CACHING_COMMAND": #"["\#(tool)", "cache", "{store}", "{cache}"]"#,
            ], executors: ExecutorFactory(docker: try standInDocker("echo ok")))
            let user = SlackUserID(Self.admin)!
            let secret = TOTPFactor.newSecret()
            try await bot.store.enrollFactor(user, secret: secret, at: t0)
            let code = TOTPFactor.format(TOTP(secret: secret, length: 6, timeStep: 30).compute(date: bot.clock.now), digits: 6)
            #expect(try await TOTPFactor(store: bot.store, grace: 3600).verify(user, code: code, at: bot.clock.now) != .wrong)
            let router = try bot.wiring.commandRouter()
            func ask(_ text: String) async -> String {
                await router.route(text, user: user, channel: nil, logger: .init(label: "t")).plainText
            }
            let store = StoreID("acme-store")!
            #expect(await ask("intervene migrate_plan acme-store --reason \"outgrew it\"").contains("Which plan? Add `--plan <name>`"))
            #expect(await ask("intervene migrate_plan acme-store --plan basic --reason \"outgrew it\"")
                .contains("basic is a basic plan and acme-store is on premium (premium): that is not a larger plan"))
            #expect(await ask("intervene migrate_plan acme-store --plan premium --reason \"outgrew it\"").contains("on the premium plan already"))
            #expect(try await bot.store.jobs(store: store, limit: 5).isEmpty)

            let asked = await ask("intervene migrate_plan acme-store --plan enterprise --reason \"outgrew premium\"")
            #expect(asked.contains("Before it runs, check"), "\(asked)")
            #expect(asked.contains("☐ The customer agreed to the new plan and its price"))
            #expect(asked.contains("plan premium → enterprise"))
            #expect(asked.contains("`\(tool) resize --store acme-store --plan enterprise`"), "\(asked)")
            let job = try #require(try await bot.store.jobs(store: store, limit: 5).first)
            #expect(job.kind == .hosting(HostingChange(playbook: "migrate_plan", target: .plan("enterprise"))))
            let moved = await bot.wiring.engine.outcome(of: job.id)
            #expect(moved.job.state == .succeeded, "\(moved.job)")
            #expect(moved.job.summary?.contains("acme-store is now on the enterprise plan (was premium)") == true, "\(moved.job)")
            #expect(try await bot.store.customer(store)?.plan.rawValue == "enterprise")
            #expect(try String(contentsOfFile: calls, encoding: .utf8) == "resize --store acme-store --plan enterprise\n")

            // The tool fails: the job says why and the plan stays.
            let failing = await ask("intervene migrate_plan acme-store --plan gold --reason \"try gold\"")
            #expect(failing.contains("plan enterprise → gold"))
            let failed = await bot.wiring.engine.outcome(of: try #require(try await bot.store.jobs(store: store, limit: 5).first).id)
            #expect(failed.job.state == .failed)
            #expect(failed.report?.steps.contains { $0.status == .failed("exit 3: no capacity left on the host") } == true,
                    "\(String(describing: failed.report?.steps.map(\.status)))")
            #expect(try await bot.store.customer(store)?.plan.rawValue == "enterprise")

            // Premium caching: the tool, then perfbot measures the new cache.
            let before = try #require(try await bot.store.customer(store)).probes
            let cache = before.contains(.redis) ? "varnish" : "redis"
            let cached = await ask("intervene enable_premium_caching acme-store --cache \(cache) --reason \"slow catalogue\"")
            #expect(cached.contains("`\(tool) cache acme-store \(cache)`"), "\(cached)")
            let enabled = await bot.wiring.engine.outcome(of: try #require(try await bot.store.jobs(store: store, limit: 5).first).id)
            #expect(enabled.job.state == .succeeded, "\(enabled.job)")
            #expect(try await bot.store.customer(store)?.probes == before.union([PremiumCache(rawValue: cache)!.probe]))
            #expect(await ask("intervene enable_premium_caching acme-store --cache \(cache) --reason \"again\"").contains("already"))

            let audit = try await bot.store.auditEntries(store: store, limit: 30)
            #expect(audit.contains { $0.action == "hosting.plan" && $0.details["from"] == "premium" && $0.details["to"] == "enterprise" })
            #expect(audit.filter { $0.action == "hosting.plan" }.count == 1)
            #expect(audit.contains { $0.action == "hosting.cache" && $0.details["to"] == cache })
        }
    }

    /// Without the operator's tool configured, the intervention is refused before any code is asked for.
    @Test func aHostingInterventionWithoutItsToolIsRefused() async throws {
        let slack = SlackStandIn()
        try await slack.serve { base in
            let bot = try await bot(base, docker: try standInDocker("echo ok"))
            try await bot.store.enrollFactor(SlackUserID(Self.admin)!, secret: TOTPFactor.newSecret(), at: t0)
            let reply = await (try bot.wiring.commandRouter()).route(
                "intervene enable_premium_caching widgets-inc --cache redis --reason \"slow\"", user: SlackUserID(Self.admin)!,
                channel: nil, logger: .init(label: "t"))
            #expect(reply.plainText.contains("PERFBOT_CACHING_COMMAND is not set on perfbot's host"), "\(reply.plainText)")
            #expect(reply.modal == nil)
            #expect(try await bot.store.jobs(store: StoreID("widgets-inc")!, limit: 5).isEmpty)
        }
    }
}

/// The hosting company's tools are configured as argv, never a shell line: checked when perfbot starts.
@Suite struct HostCommandConfigurationTests {
    @Test func aToolIsAnAbsoluteProgramWithTheValuesItsChangeNeeds() throws {
        let words = try PerfbotConfiguration(values: ["PERFBOT_PROVISION_COMMAND": "/opt/hosting/resize --store {store} --plan {plan}"])
        #expect(words.hostCommands.templates[.provision] == ["/opt/hosting/resize", "--store", "{store}", "--plan", "{plan}"])
        let json = try PerfbotConfiguration(values: ["PERFBOT_CACHING_COMMAND": #"["/opt/hosting/cache", "{store} and {cache}"]"#])
        #expect(json.hostCommands.templates[.caching] == ["/opt/hosting/cache", "{store} and {cache}"])
        func refusal(_ key: String, _ value: String) -> String {
            do {
                _ = try PerfbotConfiguration(values: [key: value])
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal("PERFBOT_PROVISION_COMMAND", "resize {store} {plan}").contains("the program's absolute path"))
        #expect(refusal("PERFBOT_PROVISION_COMMAND", "/bin/resize {store}").contains("must carry {plan}"))
        #expect(refusal("PERFBOT_CACHING_COMMAND", "/bin/cache {store} {cache} {db_option_file}").contains("unknown placeholder {db_option_file}"))
        #expect(refusal("PERFBOT_CACHING_COMMAND", "{cache} {store}").contains("absolute path"))
        #expect(refusal("PERFBOT_CACHING_COMMAND", #"["/bin/cache", 3]"#).contains("not a JSON array of strings"))
    }
}
