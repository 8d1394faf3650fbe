import BotChannels
import BotCore
import Foundation
import Hummingbird
import Logging

extension PerfbotServer {
    /// Reads and verifies a Slack request; the body is not looked at before the signature holds.
    func verifiedSlackBody(_ request: Request, route: String) async throws -> [UInt8] {
        guard let verifier = slackVerifier else {
            throw APIError.disabled("Slack requests", missing: "SLACK_SIGNING_SECRET")
        }
        let body = try await request.boundedBody(limit: settings.bodyLimit)
        try verified(route: route) { () throws(VerificationFailure) in
            try verifier.verify(timestamp: request.headers[.slackTimestamp],
                                signature: request.headers[.slackSignature], body: body)
        }
        return body
    }

    func form(_ body: [UInt8]) throws -> FormBody {
        do { return try FormBody(body) } catch { throw APIError.malformed(error.field, "is not valid form encoding") }
    }

    func slackCommand(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await verifiedSlackBody(request, route: "/slack/commands")
        try request.requireMediaType("application/x-www-form-urlencoded")
        let fields = try form(body)
        if fields["ssl_check"] == "1" { return Response(status: .ok) }
        let command: SlackCommand
        do { command = try SlackCommand(form: fields) } catch { throw APIError.malformed(error.field, error.problem) }
        let key = "slack-command:" + (command.triggerID ?? BodyDigest.sha256Hex(body))
        try await limit(.slackUser, key: command.user.rawValue, route: "/slack/commands") { seconds in
            await replyLater(command.responseURL, logger: context.logger)?(Self.slowDown(seconds))
        }
        let record = gate.record(source: "slack_command", key: key, contentType: request.headers[.contentType], body: body)
        let question = ReusedAnswers.Question(user: command.user, channel: command.channelID, text: command.text)
        let changes = store.storedChanges
        if let changes, let kept = answers.answer(question, changes: changes, now: record.at) {
            metrics.recordReusedAnswer()
            return gate.respond(await gate.recorder.record(record, kept), record, logger: context.logger)
        }
        var userLog = context.logger
        userLog[metadataKey: "user"] = .string(command.user.rawValue)
        let log = userLog
        let later = replyLater(command.responseURL, logger: log)
        let answer: @Sendable () async -> StoredResponse = {
            var reply = await dispatch(command.text, user: command.user, channel: command.channelID, logger: log,
                                       replyLater: later)
            if let modal = reply.modal {
                reply = await open(modal, for: reply, triggerID: command.triggerID, responseURL: command.responseURL, logger: log)
            }
            return .json(BlockKitRenderer.message(reply))
        }
        // A command that changes nothing is answered first and its record written after, in a batch; one that acts is
        // recorded before it acts, so a retry can never act twice. One that shows what is stored may be answered as
        // the same question was a moment ago (`ReusedAnswers`).
        switch commands.effect(of: command.text) {
        case .acts:
            return try await gate.once(record, logger: log) { _ in await answer() }
        case .reads:
            return try await gate.recordAfter(record, logger: log, work: answer)
        case .showsStored:
            return try await gate.recordAfter(record, logger: log) {
                let built = await answer()
                if let changes { answers.keep(built, for: question, changes: changes, at: record.at) }
                return built
            }
        }
    }

    /// Opens the modal a command's reply asks for over the command; when it cannot open, the reply says why
    /// instead (and nothing waits on the modal but a job that lapses).
    func open(_ modal: ModalRequest, for reply: BotReply, triggerID: String?, responseURL: String?, logger: Logger) async -> BotReply {
        var wrapped = modal
        wrapped.metadata = ModalEnvelope(metadata: modal.metadata, responseURL: responseURL).text
        var answered = reply
        answered.modal = nil
        guard let modals, let triggerID else {
            return .text("⚠️ perfbot cannot open the window for your code here (it needs SLACK_BOT_TOKEN and a slash command), "
                + "so nothing was done.")
        }
        if let problem = await modals.open(wrapped, triggerID: triggerID) {
            logger.warning("could not open a modal", metadata: ["reason": "\(problem)"])
            return .text("⚠️ The window for your code did not open (\(problem)), so nothing was done. Try the command again.")
        }
        return answered
    }

    func slackInteraction(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await verifiedSlackBody(request, route: "/slack/interactions")
        try request.requireMediaType("application/x-www-form-urlencoded")
        let interaction: SlackInteraction
        do { interaction = try SlackInteraction(form: form(body)) } catch let error as SlackPayloadError {
            throw APIError.malformed(error.field, error.problem)
        }
        try await limit(.slackUser, key: interaction.user.id, route: "/slack/interactions") { seconds in
            await replyLater(interaction.responseURL, logger: context.logger)?(Self.slowDown(seconds))
        }
        if let view = interaction.view {
            // What was typed (a second-factor code) is not kept: the record holds who submitted which modal.
            let kept = JSONValue.object([("type", .string(interaction.type)), ("user", .string(interaction.user.id)),
                                         ("callback_id", .string(view.callbackID)),
                                         ("private_metadata", .string(view.privateMetadata))]).bytes()
            let record = gate.record(source: "slack_interaction", key: interaction.idempotencyKey,
                                     contentType: "application/json", body: kept)
            return try await gate.onceQueuing(record, logger: context.logger) { _ in
                await handleSubmission(view, user: interaction.user.id, logger: context.logger)
            }
        }
        let record = gate.record(source: "slack_interaction", key: interaction.idempotencyKey,
                                 contentType: request.headers[.contentType], body: body)
        return try await gate.onceQueuing(record, logger: context.logger) { _ in
            (StoredResponse(status: 200, body: []), await handleClick(interaction, logger: context.logger))
        }
    }

    /// An Approve or Reject button goes through the same router as `/perf approve|reject <id>`, as the
    /// user who clicked (so the same roles apply); the original message is replaced with the outcome.
    func handleClick(_ interaction: SlackInteraction, logger: Logger) async -> [Addressed] {
        guard interaction.type == "block_actions", let action = interaction.actions.first,
              let verb = ["fix_approve": "approve", "fix_reject": "reject", "intervention_confirm": "confirm",
                          "contact_send": "contact-send"][action.actionID],
              let value = action.value,
              verb == "confirm" ? Int64(value) != nil : verb == "contact-send" ? StoreID(value) != nil : Approval.isValidID(value),
              let user = SlackUserID(interaction.user.id) else { return [] }
        let later = replyLater(interaction.responseURL, logger: logger)
        var reply = await dispatch("\(verb) \(value)", user: user, channel: interaction.container?.channelID, logger: logger,
                                   replyLater: later)
        if let modal = reply.modal {
            // The second admin's code: a modal over the click; the message with the button stays as it is.
            reply = await open(modal, for: reply, triggerID: interaction.triggerID, responseURL: interaction.responseURL, logger: logger)
            guard let url = interaction.responseURL, later != nil else { return [] }
            return [Addressed(destination: url, message: .response(reply, replaceOriginal: false))]
        }
        guard let url = interaction.responseURL, later != nil else { return [] }
        return [Addressed(destination: url, message: .response(reply, replaceOriginal: reply.visibility == .inChannel))]
    }

    /// A submitted modal goes to the plugin that opened it, as the user who submitted it: closed with the outcome
    /// posted where the command was asked, or kept open with the problem under its input.
    func handleSubmission(_ view: SlackInteraction.View, user: String, logger: Logger) async -> (StoredResponse, [Addressed]) {
        guard let user = SlackUserID(user), let envelope = ModalEnvelope(text: view.privateMetadata) else {
            return (.json(BlockKitRenderer.modalError("This window is not one of perfbot's; nothing was done.")), [])
        }
        let input = view.values[BlockKitRenderer.modalInput]?[BlockKitRenderer.modalInput] ?? ""
        let outcome = await commands.submit(ModalSubmission(callbackID: view.callbackID, metadata: envelope.metadata, input: input),
                                            user: user, channel: nil, logger: logger,
                                            replyLater: replyLater(envelope.responseURL, logger: logger))
        switch outcome {
        case let .inputError(message):
            return (.json(BlockKitRenderer.modalError(message)), [])
        case let .close(reply):
            guard let reply, let url = envelope.responseURL, replyLater(url, logger: logger) != nil else {
                return (StoredResponse(status: 200, body: []), [])
            }
            return (StoredResponse(status: 200, body: []),
                    [Addressed(destination: url, message: .response(reply, replaceOriginal: false))])
        }
    }

    func slackEvent(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await verifiedSlackBody(request, route: "/slack/events")
        try request.requireMediaType("application/json")
        let event: SlackEvent
        do { event = try SlackEvent(json: body) } catch { throw APIError.malformed(error.field, error.problem) }
        switch event {
        case let .urlVerification(challenge):
            return APIError.jsonResponse(status: .ok, body: .object([("challenge", .string(challenge))]))
        case let .callback(eventID, inner):
            // Slack retries a refused event later, so nothing is lost; mentions by bots are not counted.
            if let user = inner.user, inner.botID == nil {
                try await limit(.slackUser, key: user, route: "/slack/events")
            }
            let record = gate.record(source: "slack_event", key: "slack-event:\(eventID)",
                                     contentType: request.headers[.contentType], body: body)
            return try await gate.onceQueuing(record, logger: context.logger) { _ in
                (.json(.object([("ok", .bool(true))])), await handleEvent(inner, logger: context.logger))
            }
        }
    }

    /// Answers an `app_mention` through the same router as slash commands. - Returns: the reply, to be
    /// queued in the outbox together with the delivery's completion.
    func handleEvent(_ event: SlackEvent.Event, logger: Logger) async -> [Addressed] {
        guard event.type == "app_mention", event.botID == nil,
              let user = event.user.flatMap(SlackUserID.init), let channel = event.channel else { return [] }
        let text = Self.withoutMentions(event.text ?? "")
        let reply = await dispatch(text, user: user, channel: channel, logger: logger)
        return [Addressed(destination: channel, message: .post(reply, replyingTo: event.threadTS ?? event.ts))]
    }

    /// Told once when a user's commands are refused for going too fast.
    static func slowDown(_ seconds: Int) -> BotReply {
        .text("⏳ You are sending commands faster than perfbot takes them, so that one was not run. "
            + "Try again in \(seconds) s.")
    }

    /// `<@U0BOT0001> store acme` → `store acme`.
    static func withoutMentions(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: true)
            .filter { !($0.hasPrefix("<@") && $0.hasSuffix(">")) }
            .joined(separator: " ")
    }

    /// How a later reply reaches the user: queued in the outbox for the command's `response_url`,
    /// when that points at Slack (or the configured stand-in).
    func replyLater(_ responseURL: String?, logger: Logger) -> (@Sendable (BotReply) async -> Void)? {
        guard let responseURL, let url = URL(string: responseURL), url.scheme == "https" || url.scheme == "http",
              let host = url.host, settings.responseHosts.contains(host) else { return nil }
        let store = self.store
        let clock = self.clock
        return { reply in
            do {
                try await store.enqueue(Addressed(destination: responseURL, message: .response(reply, replaceOriginal: false)),
                                        at: clock.now)
            } catch {
                logger.error("could not queue a later reply", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Routes command text, timing it.
    func dispatch(_ text: String, user: SlackUserID, channel: String?, logger: Logger,
                  replyLater: (@Sendable (BotReply) async -> Void)? = nil) async -> BotReply {
        let start = ContinuousClock.now
        let reply = await commands.route(text, user: user, channel: channel, logger: logger, replyLater: replyLater)
        let name = CommandTokenizer.words(text).first.map { word in
            commands.specs.contains { $0.name == word.lowercased() } ? word.lowercased() : "unknown"
        } ?? "help"
        metrics.recordDispatch(command: name, duration: ContinuousClock.now - start)
        return reply
    }
}
