import BotChannels
import BotCore
import BotStore
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
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        let mail: InboundMail
        let record: DeliveryRecord
        if mediaType == "application/json" {
            guard let token = settings.webhookToken else { throw APIError.disabled("Postmark", missing: "PERFBOT_WEBHOOK_TOKEN") }
            try verified(route: "/email/inbound") { () throws(VerificationFailure) in
                try BasicPasswordVerifier(password: token).verify(authorization: request.headers[.authorization])
            }
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
            guard let verifier = tokenVerifier else { throw APIError.disabled("Raw e-mail", missing: "PERFBOT_WEBHOOK_TOKEN") }
            try verified(route: "/email/inbound") { () throws(VerificationFailure) in
                try verifier.verify(authorization: request.headers[.authorization])
            }
            let body = try await request.boundedBody(limit: settings.bodyLimit)
            mail = InboundMail(raw: body)
            record = gate.record(source: "raw_mail", key: "raw:\(mail.messageID ?? BodyDigest.sha256Hex(body))",
                                 contentType: request.headers[.contentType], body: body)
        } else {
            throw APIError.unsupportedMediaType(
                expected: "application/x-www-form-urlencoded or multipart/form-data (Mailgun), application/json (Postmark) or message/rfc822 (raw)")
        }
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

/// Checks `Authorization: Basic …` against the expected password (any user name), in constant time.
struct BasicPasswordVerifier {
    let password: String

    func verify(authorization: String?) throws(VerificationFailure) {
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(authorization.dropFirst(6))),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else { throw .badToken }
        try BearerTokenVerifier(token: password).verify(authorization: "Bearer " + text[text.index(after: colon)...])
    }
}
