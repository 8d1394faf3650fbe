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
    @Test func theCorpusHasAtLeastThirtyMessages() {
        #expect(ReplyCorpus.cases.count >= 30)
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
