import BotChannels
import Foundation
import Testing

/// The structure the MIME parser recovers; what perfbot reads in each of these messages is checked
/// with the rest of the reply corpus (`ReplyReaderTests`).
@Suite struct MIMEMessageTests {
    func message(_ name: String) throws -> MIMEMessage {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/replies/\(name)")
        return MIMEMessage(raw: Array(try Data(contentsOf: url)))
    }

    @Test func htmlOnlyMessagesBecomeTextWithTheirQuoteMarked() throws {
        let mail = try message("35-gmail-html-only.eml")
        #expect(mail.header("Subject") == "Re: [acme-store] High memory")
        #expect(mail.plainText.hasPrefix("Approve, thanks!\n"))
        #expect(mail.plainText.contains("> (quoted)"))
    }

    @Test func quotedPrintableWithFoldedHeadersAndSoftBreaks() throws {
        let mail = try message("36-german-quoted-printable.eml")
        #expect(mail.contentType == "multipart/alternative")
        #expect(mail.plainText.hasPrefix("Nein, bitte nicht während des Sales."))
        #expect(mail.plainText.contains("was Sie möchten."))
    }

    @Test func singleByteCharsetsAreDecodedInBodiesAndHeaders() throws {
        #expect(try message("37-french-iso-8859-1.eml").header("Subject") == "Réponse")
        #expect(try message("37-french-iso-8859-1.eml").plainText.contains("Merci à vous."))
        let german = try message("42-german-windows-1252.eml")
        #expect(german.header("From") == "Jürgen Maier <owner@acme-store.example>")
        #expect(german.plainText.contains("Mit freundlichen Grüßen"))
    }

    @Test func nestedMultipartsWithBase64AndAttachments() throws {
        let mail = try message("38-iphone-nested-base64.eml")
        #expect(mail.parts.count == 2)
        #expect(mail.parts[0].contentType == "multipart/alternative")
        #expect(mail.plainText.hasPrefix("APPROVE\n\nSent from my iPhone"))
    }
}
