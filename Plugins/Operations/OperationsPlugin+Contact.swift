import BotCore
import BotPlaybooks
import Foundation

/// The Contact Customer intervention (ORIGINAL-DESIGN §3.4): a performance report e-mail with recommendations,
/// previewed in Slack first and sent to the store's contact only when an admin clicks Send.
extension OperationsPlugin {
    static let contactIntervention = "contact_customer"
    /// How long a preview lets an admin send.
    static let contactWindow: TimeInterval = 1800

    static let contactSpec = CommandSpec(
        "contact-send", arguments: [ArgumentSpec("store", .store)], role: .admin,
        summary: "Send the performance report previewed by `/perf intervene contact_customer` (its Send button does the same).",
        examples: ["contact-send acme-store"])

    /// The report as the contact will read it, from the store's newest readings, open issues and recommendations.
    func performanceReport(_ customer: Customer, now: Date) async throws -> CustomerMail {
        let latest = try await store.latestMetrics(stores: [customer.id])[customer.id]?.fresh(asOf: now) ?? MetricSnapshot()
        let report = latest.values.isEmpty ? nil : HealthScorer().report(HealthInputs(latest: latest, uptime24h: nil))
        var lines = ["Our team has looked at how \(customer.id) is doing, and here is what we found.", ""]
        if let score = report?.score {
            lines.append("Health score: \(score) of 100 (\(HealthBand(score: score).rawValue)).")
            for factor in report?.factors ?? [] where factor.score < 70 {
                let measured = factor.measures.map { "\($0.name) \(Wording.measure($0.value, unit: $0.unit))" }.joined(separator: ", ")
                lines.append("  • \(factor.factor.title): \(measured)")
            }
        } else {
            lines.append("We have no recent measurements of your store, so there is no health score to report.")
        }
        let issues = try await store.openIssues(store: customer.id)
        if !issues.isEmpty {
            lines += ["", "What needs attention now:"] + issues.prefix(5).map { "  • \($0.summary) (since \(Wording.dayAndTime($0.detectedAt)))" }
        }
        let tips = advice.current(latest, platform: customer.platform)
        if !tips.isEmpty {
            lines += ["", "What we recommend:"] + tips.prefix(5).map { "  • \($0.title): \($0.evidence)" }
        }
        lines += ["", "Reply to this e-mail if you would like us to help with any of it."]
        return CustomerMail(customer, .commandReply(subject: "\(customer.id): a performance report from your hosting team", lines: lines))
    }

    /// `/perf intervene contact_customer <store> --reason "…"`: the e-mail shown first, with its Send button.
    func contactPreview(_ customer: Customer, reason: String, member: TeamMember) async throws -> BotReply {
        let now = clock.now
        let mail = try await performanceReport(customer, now: now)
        guard case let .commandReply(subject, lines) = mail.kind else { return .text("Nothing to preview.") }
        try await store.audit(actor: member.user.rawValue, channel: "slack", action: "intervention.request", store: customer.id,
                              details: ["playbook": Self.contactIntervention, "reason": reason, "to": customer.contactEmail],
                              result: "previewed", at: now)
        return BotReply([
            .header("Contact Customer · \(customer.id)"),
            .fields([("To", customer.contactEmail), ("Reason", Wording.escapedForSlack(reason))]),
            .text("*Subject:* [perfbot] \(Wording.escapedForSlack(subject))\n" + lines.map { "> " + Wording.escapedForSlack($0) }.joined(separator: "\n")),
            .buttons([ReplyButton(label: "Send to \(customer.contactEmail)", actionID: "contact_send", value: customer.id.rawValue,
                                  style: .primary, command: "/perf contact-send \(customer.id)")]),
            .context("Nothing is sent until an admin clicks Send (within \(Int(Self.contactWindow / 60)) min); "
                + "the figures are read again then."),
        ], visibility: .inChannel)
    }

    /// `/perf contact-send <store>` (the Send button): sends the report, only after a preview of the last half hour.
    func contactSend(_ id: StoreID, context: CommandContext) async throws -> BotReply {
        let member = try context.member()
        let customer = try await customer(id)
        let now = clock.now
        let recent = try await store.auditEntries(store: id, limit: 100)
        guard let preview = recent.first(where: { $0.action == "intervention.request" && $0.details["playbook"] == Self.contactIntervention
            && $0.at >= now.addingTimeInterval(-Self.contactWindow) }) else {
            throw BotError.invalid("Preview the report first: `/perf intervene contact_customer \(id) --reason \"…\"`.")
        }
        guard !recent.contains(where: { $0.action == "contact.sent" && $0.at >= preview.at }) else {
            return .text("That report was sent already; nothing was sent again.")
        }
        let mail = try await performanceReport(customer, now: now)
        try await store.enqueue(.mail(mail), at: now)
        try await store.audit(actor: member.user.rawValue, channel: "slack", action: "contact.sent", store: id,
                              details: ["to": customer.contactEmail, "reason": preview.details["reason"] ?? "", "previewed_by": preview.actor],
                              result: "queued", at: now)
        return BotReply([.text("📧 The performance report is on its way to \(customer.contactEmail) (sent by <@\(member.user)>).")],
                        visibility: .inChannel)
    }
}
