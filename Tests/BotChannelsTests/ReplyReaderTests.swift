import BotChannels
import Foundation
import Testing

/// The reply corpus: one message a file, its expected decision and extracted text in `expected.tsv`.
/// A `.txt` file is a plain-text body as a provider hands it over (Mailgun's `body-plain`, Postmark's
/// `TextBody`); an `.eml` file is a whole raw message, read through the MIME parser as `/email/inbound`
/// reads `message/rfc822`. `ignored` means perfbot sees a robot and neither acts nor answers.
enum ReplyCorpus {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/replies")

    struct Case: Sendable, CustomStringConvertible {
        var file: String
        var decision: String
        var text: String
        var description: String { file }
    }

    static var cases: [Case] {
        let table = (try? String(contentsOf: directory.appendingPathComponent("expected.tsv"), encoding: .utf8)) ?? ""
        return table.split(separator: "\n").compactMap { line in
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard columns.count == 3 else { return nil }
            return Case(file: columns[0], decision: columns[1],
                        text: columns[2].replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\\", with: "\\"))
        }
    }
}

@Suite struct ReplyReaderTests {
    @Test func theCorpusHasAtLeastSixtyMessages() {
        #expect(ReplyCorpus.cases.count >= 60)
    }

    /// Each way a reply can be unclear is read as "not understood", never as a yes.
    @Test(arguments: [
        ("OK, reject it.", "both yes and no"), ("Yes, please don't do that right now.", "both yes and no"),
        ("Ok? What does this do exactly?", "a question"), ("OK\n\nOn second thought, reject.", "both yes and no"),
        ("Approve. Actually no, reject.", "both yes and no"), ("Approve, but only after 18:00.", "a condition"),
        ("Ja, aber erst morgen.", "a condition"), ("Oui si vous voulez", "a condition"), ("Not approved.", "both yes and no"),
        ("Fine by me", "no word of yes or no"), ("¿Sí?", "a question"), ("👍 👎", "both yes and no"),
    ])
    func ambiguousRepliesAreNotUnderstood(_ text: String, _ why: String) {
        let (decision, reason) = ReplyReader.explain(text)
        #expect(decision == .notUnderstood, "\(text): \(reason)")
        let expected = ["both yes and no": "it says both yes", "a question": "it asks a question",
                        "a condition": "comes with a condition", "no word of yes or no": "it has no word of yes or no"][why] ?? why
        #expect(reason.contains(expected), "\(text): \(reason)")
    }

    @Test func yesAndNoAreReadInSixLanguagesAndEmoji() {
        for yes in ["Yes", "Sure, go ahead", "Ja, gerne", "Oui, d'accord", "Sí, de acuerdo", "Akkoord", "Sim, aprovado", "👍🏽", "✅"] {
            #expect(ReplyReader.decide(yes) == .approve, "\(yes)")
        }
        for no in ["No", "Nein danke", "Non", "No, gracias", "Nee", "Não", "👎", "❌ please leave it"] {
            #expect(ReplyReader.decide(no) == .reject, "\(no)")
        }
    }

    @Test(arguments: ReplyCorpus.cases)
    func eachReplyIsReadAsExpected(_ expected: ReplyCorpus.Case) throws {
        let url = ReplyCorpus.directory.appendingPathComponent(expected.file)
        let body: String
        if expected.file.hasSuffix(".eml") {
            let mail = InboundMail(raw: Array(try Data(contentsOf: url)))
            #expect(mail.token == "abcdefghijklmnopqrstuvwxyz234567", "\(expected.file): the reply address")
            if mail.isAutomatic {
                #expect(expected.decision == "ignored", "\(expected.file) was taken for an auto-reply")
                return
            }
            body = mail.text
        } else {
            body = try String(contentsOf: url, encoding: .utf8)
        }
        let (text, decision) = ReplyReader.read(body)
        #expect(decision.rawValue == expected.decision, "\(expected.file): \(decision)")
        #expect(text == expected.text, "\(expected.file)")
    }

    @Test func theCorpusCoversRawMessagesAndRobots() {
        let raw = ReplyCorpus.cases.filter { $0.file.hasSuffix(".eml") }
        #expect(raw.count >= 10)
        #expect(raw.filter { $0.decision == "ignored" }.count >= 4)
    }
}
