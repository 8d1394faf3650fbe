import BotChannels
import BotCore
import Foundation
import Hummingbird
import Logging

/// Postmark's inbound JSON, the fields perfbot reads.
struct PostmarkInbound: Decodable {
    struct Header: Decodable {
        var name: String
        var value: String
        enum CodingKeys: String, CodingKey { case name = "Name", value = "Value" }
    }

    var from: String
    var originalRecipient: String?
    var to: String?
    var mailboxHash: String?
    var subject: String?
    var textBody: String?
    var htmlBody: String?
    var messageID: String?
    var headers: [Header]?

    enum CodingKeys: String, CodingKey {
        case from = "From", originalRecipient = "OriginalRecipient", to = "To", mailboxHash = "MailboxHash"
        case subject = "Subject", textBody = "TextBody", htmlBody = "HtmlBody", messageID = "MessageID", headers = "Headers"
    }
}

extension PerfbotServer {
    /// `POST /email/inbound`: Mailgun (form or multipart, signed) or Postmark (JSON, basic auth with the webhook token).
    func emailInbound(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard let inboundMail else { throw APIError.disabled("Inbound e-mail", missing: "PERFBOT_REPLY_DOMAIN") }
        let mediaType = request.headers[.contentType].map(Request.mediaType)
        let mail: InboundMail
        let record: DeliveryRecord
        if mediaType == "application/json" {
            // Postmark sends the token as the basic-auth password; `verifiedCaller` reads either form.
            _ = try await verifiedCaller(request, source: .mail, route: "/email/inbound")
            let body = try await request.boundedBody(limit: settings.bodyLimit)
            let postmark = try decodeJSON(PostmarkInbound.self, body)
            let domain = (postmark.originalRecipient ?? postmark.to ?? "").split(separator: "@").last.map(String.init) ?? ""
            // Postmark sends an empty MailboxHash for an address without one (the command address).
            let hash = postmark.mailboxHash.flatMap { $0.isEmpty ? nil : $0 }
            let recipient = hash.map { "approve+\($0)@\(domain)" } ?? postmark.originalRecipient ?? postmark.to ?? ""
            mail = InboundMail(recipient: recipient, from: postmark.from, subject: postmark.subject ?? "",
                               text: postmark.textBody.flatMap { $0.isEmpty ? nil : $0 }
                                   ?? postmark.htmlBody.map(MIMEMessage.text(fromHTML:)) ?? "", headers: (postmark.headers ?? []).map { ($0.name, $0.value) })
            record = gate.record(source: "postmark", key: "postmark:\(postmark.messageID ?? BodyDigest.sha256Hex(body))",
                                 contentType: request.headers[.contentType], body: body)
        } else if mediaType == "application/x-www-form-urlencoded" || mediaType == "multipart/form-data" {
            guard let key = settings.mailgunSigningKey else { throw APIError.disabled("Mailgun", missing: "MAILGUN_SIGNING_KEY") }
            let body = try await request.boundedBody(limit: settings.bodyLimit)
            // Mailgun signs fields of the form itself, so the form is split before, and read after, the check.
            let fields = try mediaType == "multipart/form-data"
                ? multipartForm(body, contentType: request.headers[.contentType] ?? "") : form(body)
            try verified(route: "/email/inbound") { () throws(VerificationFailure) in
                try MailgunVerifier(signingKey: key, clock: clock).verify(timestamp: fields["timestamp"], token: fields["token"],
                                                                           signature: fields["signature"])
            }
            let headers = fields["message-headers"].flatMap { try? JSONDecoder().decode([[String]].self, from: Data($0.utf8)) }?
                .compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil } ?? []
            mail = InboundMail(recipient: fields["recipient"] ?? "", from: fields["from"] ?? fields["sender"] ?? "",
                               subject: fields["subject"] ?? "", text: fields["body-plain"] ?? "", headers: headers)
            // The signature's token is single use: a replayed delivery is answered from the log, never acted on.
            record = gate.record(source: "mailgun", key: "mailgun:\(fields["token"] ?? "")",
                                 contentType: request.headers[.contentType], body: body)
        } else if mediaType == "message/rfc822" {
            _ = try await verifiedCaller(request, source: .mail, route: "/email/inbound")
            let body = try await request.boundedBody(limit: settings.bodyLimit)
            mail = InboundMail(raw: body)
            record = gate.record(source: "raw_mail", key: "raw:\(mail.messageID ?? BodyDigest.sha256Hex(body))",
                                 contentType: request.headers[.contentType], body: body)
        } else {
            throw APIError.unsupportedMediaType(
                expected: "application/x-www-form-urlencoded or multipart/form-data (Mailgun), application/json (Postmark) or message/rfc822 (raw)")
        }
        // Counted per sender address (as written: an unauthenticated sender is refused later, but counted here).
        let sender = (mail.fromAddress ?? String(mail.from.prefix(320))).lowercased()
        try await limit(.emailContact, key: sender, route: "/email/inbound")
        return try await gate.once(record, logger: context.logger) { _ in
            .json(.object([("result", .string(try await inboundMail(mail)))]))
        }
    }
}

extension PerfbotServer {
    func multipartForm(_ body: [UInt8], contentType: String) throws -> FormBody {
        guard let boundary = MIMEMessage.boundary(in: contentType) else {
            throw APIError.malformed("Content-Type", "has no multipart boundary")
        }
        do { return try FormBody(multipart: body, boundary: boundary) } catch {
            throw APIError.malformed(error.field, "is not valid multipart/form-data")
        }
    }
}
