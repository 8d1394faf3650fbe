import BotChannels
import Foundation
import Testing

/// The reply corpus: one message a file, its expected decision and extracted text in `expected.tsv`.
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
        let body = try String(contentsOf: ReplyCorpus.directory.appendingPathComponent(expected.file), encoding: .utf8)
        let (text, decision) = ReplyReader.read(body)
        #expect(decision.rawValue == expected.decision, "\(expected.file): \(decision)")
        #expect(text == expected.text, "\(expected.file)")
    }
}
