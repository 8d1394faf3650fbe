import BotCore
import Foundation

/// The e-mails perfbot sends customers: each `CustomerMail` rendered as text and HTML, in one place.
public enum MailTemplates {
    /// Renders `mail` as a message from `from`.
    /// - Parameter statusLink: the signed link to the store's status page, added to every e-mail about a store.
    public static func message(_ mail: CustomerMail, from: String, domain: String, now: Date,
                               statusLink: ((StoreID) -> String)? = nil) -> MailMessage {
        let store = mail.store?.rawValue ?? ""
        let signature = "— perfbot, for your hosting team"
        func bullets(_ steps: [String]) -> [String] { steps.map { "  • \($0)" } }
        let subject: String
        let lines: [String]
        switch mail.kind {
        case let .proposal(issue, explanation, _, steps, expiresAt, true):
            // Something the contact asked for by e-mail: confirmed by a reply before anything runs.
            subject = "[\(store)] Please confirm \(issue)"
            lines = ["Hello,", "", explanation, "", "These are the steps:"] + bullets(steps) + [
                "",
                "To be sure the request came from you, nothing runs until you confirm. Reply YES to this e-mail to go "
                    + "ahead, or NO to cancel. The request stands until \(Wording.dayAndTime(expiresAt)).", "",
                signature,
            ]
        case let .proposal(issue, explanation, _, steps, expiresAt, false):
            subject = "[\(store)] \(issue): may we fix it?"
            lines = [
                "Hello,", "",
                "perfbot noticed a problem on your store \(store): \(issue).",
                explanation, "",
                "To fix it, we propose these steps:",
            ] + bullets(steps) + [
                "",
                "This proposal stands until \(Wording.dayAndTime(expiresAt)).",
                "Reply YES to let us apply it, or NO to decline. Nothing runs without your yes.", "",
                signature,
            ]
        case let .predictionNotice(resource, eta, basis, recommendation):
            subject = "[\(store)] Your store will reach its \(resource) limit in \(eta)"
            lines = [
                "Hello,", "",
                "At its current trend, your store \(store) will reach its \(resource) limit in \(eta) (\(basis)).", "",
                recommendation, "Your hosting team has been told and will help you choose.", "",
                signature,
            ]
        case let .fixApplied(playbook, steps):
            subject = "[\(store)] Done: \(playbook)"
            lines = ["Hello,", "", "Thank you. We applied the fix for \"\(playbook)\" on \(store):"] + bullets(steps)
                + ["", "We keep watching the store and will tell you if anything else needs your attention.", "", signature]
        case let .automaticFix(fix, issue, explanation, playbook, steps):
            subject = "[\(store)] \(fix.subject)"
            lines = ["Hello,", "",
                     "perfbot noticed a problem on your store \(store): \(issue).",
                     explanation, "",
                     "As your automation settings allow, we fixed it right away (\"\(playbook)\"):"] + bullets(steps)
                + ["", "Nothing is needed from you. If you would rather be asked before each fix, tell your hosting team.", "",
                   signature]
        case let .approvalAcknowledged(playbook):
            subject = "[\(store)] Approved: applying the fix for \"\(playbook)\" now"
            lines = ["Hello,", "",
                     "Thank you — your approval arrived. We are applying the fix for \"\(playbook)\" on \(store) now "
                        + "(right after any fix already under way on the store).",
                     "We will e-mail you the result as soon as it is done.", "",
                     signature]
        case let .rejectionAcknowledged(playbook):
            subject = "[\(store)] Understood: we will not apply the fix for \(playbook)"
            lines = ["Hello,", "", "Understood — nothing was changed on \(store). Our team has been told and may get in touch.",
                     "", signature]
        case let .replyNotUnderstood(read, why):
            subject = "[\(store)] Please reply YES or NO"
            lines = ["Hello,", "",
                     read.isEmpty ? "We could not find an answer in your reply, so nothing was changed."
                        : "We read: “\(read.count > 300 ? String(read.prefix(300)) + "…" : read)”",
                     read.isEmpty ? "" : "We could not tell for sure whether that is a yes (\(why)), so nothing was changed.",
                     "",
                     "Please reply to the proposal with one word: YES to apply the fix, or NO to leave it.", "",
                     signature]
        case let .weeklyReport(report, commandAddress):
            subject = "[\(store)] Your week with perfbot"
            lines = ["Hello,", ""] + report + [
                "", "This report comes every Monday. To stop it, write \"reports off\" to \(commandAddress).", "",
                signature]
        case let .commandReply(title, reply):
            subject = "[perfbot] " + title
            lines = ["Hello,", ""] + reply + ["", signature]
        case let .proposalExpired(playbook, proposedAt):
            subject = "[\(store)] Our proposal has expired; nothing was changed"
            lines = ["Hello,", "",
                     "On \(Wording.dayAndTime(proposedAt)) we proposed a fix for \"\(playbook)\" on your store \(store). "
                        + "We had no answer before the proposal expired, so nothing was changed.", "",
                     "If the problem is still there, our team will be in touch; if it returns later, we will send a new proposal.",
                     "", signature]
        case let .proposalClosed(reason):
            subject = "[\(store)] This proposal is closed"
            lines = ["Hello,", "", "Thank you for your reply. \(reason) Nothing was changed by this reply.", "",
                     signature]
        }
        var body = lines
        if let statusLink, let id = mail.store, let end = body.lastIndex(of: signature) {
            body.insert(contentsOf: ["Your store's status page (health, trends, what perfbot did, proposals waiting for you):",
                                      statusLink(id), ""], at: end)
        }
        let text = body.joined(separator: "\n")
        let html = "<html><body>" + Self.html(body) + "</body></html>"
        return MailMessage(from: from, to: mail.to, replyTo: mail.replyTo, subject: subject, text: text,
                           html: html, messageID: "<\(UUID().uuidString.lowercased())@\(domain)>", date: now)
    }

    /// The lines as HTML: paragraphs, and the `  • ` lines as a list.
    static func html(_ lines: [String]) -> String {
        let escaped = HTMLText.escaped
        var html = "", inList = false
        for line in lines {
            let item = line.hasPrefix("  • ")
            if item != inList { html += item ? "<ul>" : "</ul>"; inList = item }
            if item {
                html += "<li>" + escaped(String(line.dropFirst(4))) + "</li>"
            } else if line.hasPrefix("https://") || line.hasPrefix("http://"), !line.contains(" ") {
                html += "<p><a href=\"" + escaped(line) + "\">" + escaped(line) + "</a></p>"
            } else if !line.isEmpty {
                html += "<p>" + escaped(line) + "</p>"
            }
        }
        return html + (inList ? "</ul>" : "")
    }
}
