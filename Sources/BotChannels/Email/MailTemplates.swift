import BotCore
import Foundation

/// The e-mails perfbot sends customers, built from the outbox's JSON payloads.
public enum MailTemplates {
    /// A payload perfbot cannot turn into an e-mail.
    public struct UnknownTemplate: Error, Equatable { public let name: String }

    /// The store and recipient of a payload about a store, for the link it will carry.
    public static func addressee(of payload: [UInt8]) -> (StoreID, String)? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any],
              let store = (object["store"] as? String).flatMap(StoreID.init), let to = object["to"] as? String else { return nil }
        return (store, to)
    }

    /// Renders `payload` (`{"template": …, "to": …, …}`) as a message from `from`.
    /// - Parameter statusLink: the signed link to the store's status page, added to every e-mail about a store.
    public static func message(payload: [UInt8], from: String, domain: String, now: Date,
                               statusLink: ((StoreID) -> String)? = nil) throws -> MailMessage {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any],
              let template = object["template"] as? String, let to = object["to"] as? String else {
            throw UnknownTemplate(name: "(unreadable payload)")
        }
        func field(_ name: String) -> String { object[name] as? String ?? "" }
        let store = field("store")
        let subject: String
        let lines: [String]
        switch template {
        case "proposal" where field("requested") == "true":
            // Something the contact asked for by e-mail: confirmed by a reply before anything runs.
            let steps = (object["steps"] as? [String] ?? []).map { "  • \($0)" }
            subject = "[\(store)] Please confirm \(field("issue"))"
            lines = ["Hello,", "", field("explanation"), "", "These are the steps:"] + steps + [
                "",
                "To be sure the request came from you, nothing runs until you confirm. Reply YES to this e-mail to go "
                    + "ahead, or NO to cancel. The request stands until \(field("expires_at")).", "",
                "— perfbot, for your hosting team",
            ]
        case "proposal":
            let steps = (object["steps"] as? [String] ?? []).map { "  • \($0)" }
            subject = "[\(store)] \(field("issue")): may we fix it?"
            lines = [
                "Hello,", "",
                "perfbot noticed a problem on your store \(store): \(field("issue")).",
                field("explanation").isEmpty ? field("condition") : field("explanation"), "",
                "To fix it, we propose these steps:",
            ] + steps + [
                "",
                "This proposal stands until \(field("expires_at")).",
                "Reply YES to let us apply it, or NO to decline. Nothing runs without your yes.", "",
                "— perfbot, for your hosting team",
            ]
        case "prediction_notice":
            subject = "[\(store)] Your store will reach its \(field("resource")) limit in \(field("eta"))"
            lines = [
                "Hello,", "",
                "At its current trend, your store \(store) will reach its \(field("resource")) limit in \(field("eta")) "
                    + "(\(field("basis"))).", "",
                field("recommendation"), "Your hosting team has been told and will help you choose.", "",
                "— perfbot, for your hosting team",
            ]
        case "fix_applied":
            let steps = (object["steps"] as? [String] ?? []).map { "  • \($0)" }
            subject = "[\(store)] Done: \(field("playbook"))"
            lines = ["Hello,", "", "Thank you. We applied the fix for \"\(field("playbook"))\" on \(store):"] + steps
                + ["", "We keep watching the store and will tell you if anything else needs your attention.", "",
                   "— perfbot, for your hosting team"]
        case let name where CustomerMail.automaticFixSubjects[name] != nil:
            let steps = (object["steps"] as? [String] ?? []).map { "  • \($0)" }
            subject = "[\(store)] \(CustomerMail.automaticFixSubjects[name] ?? "")"
            lines = ["Hello,", "",
                     "perfbot noticed a problem on your store \(store): \(field("issue")).",
                     field("explanation"), "",
                     "As your automation settings allow, we fixed it right away (\"\(field("playbook"))\"):"] + steps
                + ["", "Nothing is needed from you. If you would rather be asked before each fix, tell your hosting team.", "",
                   "— perfbot, for your hosting team"]
        case "approval_acknowledged":
            subject = "[\(store)] Approved: applying the fix for \"\(field("playbook"))\" now"
            lines = ["Hello,", "",
                     "Thank you — your approval arrived. We are applying the fix for \"\(field("playbook"))\" on \(store) now "
                        + "(right after any fix already under way on the store).",
                     "We will e-mail you the result as soon as it is done.", "",
                     "— perfbot, for your hosting team"]
        case "rejection_acknowledged":
            subject = "[\(store)] Understood: we will not apply the fix for \(field("playbook"))"
            lines = ["Hello,", "", "Understood — nothing was changed on \(store). Our team has been told and may get in touch.",
                     "", "— perfbot, for your hosting team"]
        case "reply_not_understood":
            subject = "[\(store)] Please reply YES or NO"
            let read = field("read")
            lines = ["Hello,", "",
                     read.isEmpty ? "We could not find an answer in your reply, so nothing was changed."
                        : "We read: “\(read.count > 300 ? String(read.prefix(300)) + "…" : read)”",
                     read.isEmpty ? "" : "We could not tell for sure whether that is a yes (\(field("why"))), so nothing was changed.",
                     "",
                     "Please reply to the proposal with one word: YES to apply the fix, or NO to leave it.", "",
                     "— perfbot, for your hosting team"]
        case "weekly_report":
            subject = "[\(store)] Your week with perfbot"
            lines = ["Hello,", ""] + (object["lines"] as? [String] ?? []) + [
                "", "This report comes every Monday. To stop it, write \"reports off\" to \(field("command_address")).", "",
                "— perfbot, for your hosting team"]
        case "command_reply":
            subject = "[perfbot] " + field("subject")
            lines = ["Hello,", ""] + (object["lines"] as? [String] ?? []) + ["", "— perfbot, for your hosting team"]
        case "proposal_expired":
            subject = "[\(store)] Our proposal has expired; nothing was changed"
            lines = ["Hello,", "",
                     "On \(field("proposed_at")) we proposed a fix for \"\(field("playbook"))\" on your store \(store). "
                        + "We had no answer before the proposal expired, so nothing was changed.", "",
                     "If the problem is still there, our team will be in touch; if it returns later, we will send a new proposal.",
                     "", "— perfbot, for your hosting team"]
        case "proposal_closed":
            subject = "[\(store)] This proposal is closed"
            lines = ["Hello,", "", "Thank you for your reply. \(field("reason")) Nothing was changed by this reply.", "",
                     "— perfbot, for your hosting team"]
        default:
            throw UnknownTemplate(name: template)
        }
        var body = lines
        if let statusLink, let id = StoreID(store), let signature = body.lastIndex(where: { $0.hasPrefix("— perfbot") }) {
            body.insert(contentsOf: ["Your store's status page (health, trends, what perfbot did, proposals waiting for you):",
                                      statusLink(id), ""], at: signature)
        }
        let text = body.joined(separator: "\n")
        let html = "<html><body>" + Self.html(body) + "</body></html>"
        return MailMessage(from: from, to: to, replyTo: object["reply_to"] as? String, subject: subject, text: text,
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
