import BotChannels
import BotCore
import Foundation
import Testing

/// The structure the MIME parser recovers; what perfbot reads in each of these messages is checked
/// with the rest of the reply corpus (`ReplyReaderTests`).
@Suite struct MIMEMessageTests {
    func message(_ name: String) throws -> MIMEMessage {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/replies/\(name)")
        return MIMEMessage(raw: Array(try Data(contentsOf: url)))
    }

    /// RFC 2047 decoding is one linear pass: a header of 1 MiB of encoded words costs about eight times one of
    /// 128 KiB (a quadratic decoder, 64 times). The figure itself, in a release build, is `scripts/fuzz`'s
    /// (`rfc2047 … 1 MiB in … ms`, limit 100 ms).
    @Test func aMebibyteOfEncodedWordsIsReadInLinearTime() {
        let word = "=?utf-8?q?caf=C3=A9_au_lait?= "
        func header(_ bytes: Int) -> [UInt8] { Array(("Subject: " + String(repeating: word, count: bytes / word.utf8.count) + "\r\n\r\n").utf8) }
        func fastest(_ raw: [UInt8]) -> (Duration, String) {
            var best = Duration.seconds(3600), subject = ""
            for _ in 0..<3 {
                let start = ContinuousClock.now
                subject = InboundMail(raw: raw).subject
                best = min(best, ContinuousClock.now - start)
            }
            return (best, subject)
        }
        let (small, _) = fastest(header(128 << 10))
        let (large, subject) = fastest(header(1 << 20))
        #expect(subject.hasPrefix("café au laitcafé au lait"))
        #expect(subject.utf8.count > 400_000)
        let ratio = large / small
        print("1 MiB of encoded words: \(large); 128 KiB: \(small); ratio \(ratio) (linear: 8)")
        #expect(ratio < 20, "decoding grows faster than its input: \(small) for 128 KiB, \(large) for 1 MiB")
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

extension MIMEMessageTests {
    /// Every raw message of the corpus, cut at every 7th byte and corrupted at random (seeded), is read
    /// into some text or none, never a crash: headers, boundaries, encodings and charsets all broken.
    @Test func brokenMessagesNeverCrashTheReader() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/replies")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }.sorted()
        #expect(files.count >= 10)
        var generator = SplitMix64(seed: 0xface)
        for file in files {
            let raw = Array(try Data(contentsOf: folder.appendingPathComponent(file)))
            #expect(!InboundMail(raw: raw).text.isEmpty, "\(file) intact reads as no text")
            var samples = stride(from: 0, through: raw.count, by: 7).map { Array(raw[..<$0]) }
            for _ in 0..<100 {
                var mutated = raw
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    let index = Int.random(in: 0..<mutated.count, using: &generator)
                    mutated[index] = [10, 13, 61, 45, 63, 0xc3, 0xff, 0x00].randomElement(using: &generator)!
                }
                samples.append(mutated)
            }
            for bytes in samples {
                let mail = InboundMail(raw: bytes)
                _ = ReplyReader.read(mail.text)
                _ = (mail.token, mail.isAutomatic, mail.failedAuthentication)
            }
        }
    }
}

extension MIMEMessageTests {
    /// A message of thousands of nested multiparts (a stack-exhaustion attempt) is read without following them all.
    @Test func deeplyNestedMultipartsAreCutOff() {
        let depth = 5000
        var raw = "From: a@b.example\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n"
        for level in 1..<depth { raw += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=\"b\(level)\"\n\n" }
        raw += "--b\(depth - 1)\nContent-Type: text/plain\n\nAPPROVE\n"
        let message = MIMEMessage(raw: Array(raw.utf8))
        var levels = 0
        var current = message
        while let first = current.parts.first { levels += 1; current = first }
        #expect(levels == 12)
        #expect(message.plainText.isEmpty)
    }
}

@Suite struct HostileHTMLTests {
    /// HTML is read in one pass: 1 MiB of each hostile shape takes well under a second even in a debug
    /// build under load (`perfbot bench-mail` prints the release figures; the old regular expressions
    /// took over 20 s on 560 kB of `<style>` tags).
    @Test(arguments: HostileHTML.cases().map(\.name))
    func hostileHTMLIsReadInBoundedTime(_ name: String) {
        let html = HostileHTML.cases().first { $0.name == name }!.html
        let started = ContinuousClock.now
        _ = MIMEMessage.text(fromHTML: html)
        #expect(ContinuousClock.now - started < .seconds(3), "\(name)")
    }

    @Test func htmlBecomesTheTextAPersonReads() {
        let html = """
            <html><head><style>p { color: red } </style><script>var x = "<p>";</script></head><body>
            <div dir="ltr">Approve, <b>thanks</b>!<br>Dana&nbsp;&amp; team &#39;ops&#x27; &lt;3</div>
            <div class="gmail_quote"><div>On Tue wrote:</div><blockquote>Reply YES</blockquote></div></body></html>
            """
        #expect(MIMEMessage.text(fromHTML: html) == "Approve, thanks!\nDana & team 'ops' <3\n\n> (quoted)")
        #expect(MIMEMessage.text(fromHTML: "<p>one</p><P>two</P>x <unclosed") == "one\ntwo\nx <unclosed")
    }
}
