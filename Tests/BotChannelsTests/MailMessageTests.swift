import BotChannels
import Foundation
import Testing

@Suite struct MailMessageTests {
    @Test func mimeBodiesAreQuotedPrintableAndSubjectsEncoded() {
        let message = MailMessage(from: "perfbot <p@fix.example.com>", to: "dana@shop.example", replyTo: "approve+x@fix.example.com",
                                  subject: "Mémoire élevée", text: "Très bien = ok\n" + String(repeating: "x", count: 100),
                                  html: "<p>é</p>", messageID: "<1@fix.example.com>", date: Date(timeIntervalSince1970: 0))
        let rendered = message.rendered(boundary: "b")
        #expect(rendered.contains("Subject: =?UTF-8?B?TcOpbW9pcmUgw6lsZXbDqWU=?="))
        #expect(rendered.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        #expect(rendered.contains("Tr=C3=A8s bien =3D ok\r\n"))
        #expect(rendered.split(separator: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(rendered.hasSuffix("--b--\r\n"))
    }
}
