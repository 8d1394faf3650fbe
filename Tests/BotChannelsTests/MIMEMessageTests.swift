import BotChannels
import Foundation
import Testing

@Suite struct MIMEMessageTests {
    func message(_ name: String) throws -> MIMEMessage {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mime/\(name)")
        return MIMEMessage(raw: Array(try Data(contentsOf: url)))
    }

    @Test func htmlOnlyRepliesAreReadWithoutTheirQuote() throws {
        let mail = try message("html-only-gmail.eml")
        #expect(mail.header("Subject") == "Re: [acme-store] High memory")
        #expect(ReplyReader.read(mail.plainText).decision == .approve)
        #expect(ReplyReader.read(mail.plainText).text == "Approve, thanks!")
    }

    @Test func quotedPrintableWithFoldedHeadersAndSoftBreaks() throws {
        let mail = try message("quoted-printable.eml")
        #expect(mail.contentType == "multipart/alternative")
        #expect(mail.plainText.hasPrefix("Nein, bitte nicht während des Sales."))
        #expect(mail.plainText.contains("was Sie möchten."))
        #expect(ReplyReader.read(mail.plainText).decision == .reject)
    }

    @Test func isoLatinCharsetsAreDecoded() throws {
        let mail = try message("iso-8859-1.eml")
        #expect(mail.header("Subject") == "Réponse")
        #expect(mail.plainText.contains("Merci à vous."))
        #expect(ReplyReader.read(mail.plainText) == ("Oui, c'est d'accord. Merci à vous.", .approve))
    }

    @Test func nestedMultipartsWithBase64AndAttachments() throws {
        let mail = try message("nested-base64.eml")
        #expect(mail.parts.count == 2)
        #expect(ReplyReader.read(mail.plainText) == ("APPROVE", .approve))
    }

    @Test func outOfOfficeIsAutomatic() throws {
        let mail = try message("out-of-office.eml")
        let inbound = InboundMail(recipient: mail.header("To") ?? "", from: mail.header("From") ?? "", subject: "",
                                  text: mail.plainText, headers: mail.headers)
        #expect(inbound.isAutomatic)
        #expect(inbound.token == "abcdefghijklmnopqrstuvwxyz234567")
    }
}
