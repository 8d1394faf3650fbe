@testable import BotChannels
import BotCore
import Foundation
import Testing

/// The sample payloads under webhooks/, shared with scripts/replay.
func sample(_ name: String) throws -> [UInt8] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return Array(try Data(contentsOf: root.appendingPathComponent("webhooks").appendingPathComponent(name)))
}

@Suite struct SlackPayloadTests {
    @Test func slashCommandSampleDecodesIntoTypedFields() throws {
        let command = try SlackCommand(form: FormBody(try sample("slack-command.form")))
        #expect(command.user.rawValue == "U0DEMOADM")
        #expect(command.text == "store acme-store")
        #expect(command.command == "/perf")
        #expect(command.responseURL == "https://hooks.slack.com/commands/T0BOT0001/111/abcDEF")
    }

    @Test func commandWithoutUserNamesTheField() throws {
        #expect(throws: SlackPayloadError(field: "user_id", problem: "missing")) {
            try SlackCommand(form: FormBody(Array("command=%2Fperf&text=fleet".utf8)))
        }
        #expect(throws: SlackPayloadError(field: "user_id", problem: "not a Slack user id")) {
            try SlackCommand(form: FormBody(Array("command=%2Fperf&user_id=%3Bdrop".utf8)))
        }
    }

    @Test func formDecodingHandlesPlusAndPercentAndRefusesBrokenEscapes() throws {
        let form = try FormBody(Array("a=b+c%26d&e=&a=ignored".utf8))
        #expect(form["a"] == "b c&d")
        #expect(form["e"] == "")
        #expect(throws: FormBody.Malformed(field: "x")) { try FormBody(Array("x=%zz".utf8)) }
        #expect(throws: FormBody.Malformed(field: "x")) { try FormBody(Array("x=%e2%28%a1".utf8)) }
    }

    @Test func interactionSampleDecodes() throws {
        let interaction = try SlackInteraction(form: FormBody(try sample("slack-interaction.form")))
        #expect(interaction.type == "block_actions")
        #expect(interaction.actions.first?.actionID == "fix_approve")
        #expect(interaction.actions.first?.value == "fix_01HZX3Q7")
        #expect(interaction.idempotencyKey == "interaction:U0DEMOOPS:fix_approve:1767225650.123456")
    }

    @Test func interactionWithBadJSONNamesThePath() throws {
        let body = "payload=" + (#"{"type":"block_actions","user":{"id":5}}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        #expect(throws: SlackPayloadError(field: "payload.user.id", problem: "expected a string")) {
            try SlackInteraction(form: FormBody(Array(body.utf8)))
        }
    }

    @Test func eventsDecodeHandshakeAndMention() throws {
        #expect(try SlackEvent(json: sample("slack-event-url-verification.json"))
            == .urlVerification(challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"))
        guard case let .callback(id, event) = try SlackEvent(json: sample("slack-event-app-mention.json")) else {
            Issue.record("not a callback")
            return
        }
        #expect(id == "Ev0DEMO0001")
        #expect(event.type == "app_mention")
        #expect(event.text == "<@U0BOT0001> store acme-store")
        #expect(throws: SlackPayloadError(field: "event_id", problem: "missing")) {
            try SlackEvent(json: Array(#"{"type":"event_callback","event":{"type":"app_mention"}}"#.utf8))
        }
        #expect(throws: SlackPayloadError.self) { try SlackEvent(json: Array("not json".utf8)) }
    }
}

@Suite struct BlockKitRendererTests {
    func json(_ value: JSONValue) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: value.data()) as? [String: Any] ?? [:]
    }

    @Test func replyBecomesBlocksWithAPlainTextFallback() throws {
        let reply = BotReply([
            .header("Fleet overview"), .text("*bold*"), .fields([("Customers", "20")]),
            .bars([ReplyBar(label: "Healthy", count: 3, total: 4, marker: "🟢")]),
            .table(ReplyTable(columns: ["Store", "CPU"], rows: [["acme-store", "94%"]], rightAligned: [1])),
            .context("note"), .divider,
        ])
        let message = try json(BlockKitRenderer.message(reply))
        let blocks = try #require(message["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["header", "section", "section", "section", "section", "context", "divider"])
        #expect(message["response_type"] as? String == "ephemeral")
        let text = try #require(message["text"] as? String)
        #expect(text.contains("Customers: 20"))
        #expect(text.contains("███████████████░░░░░  75% 🟢 Healthy (3)"))
        #expect(text.contains("acme-store  94%"))
    }

    @Test func longRepliesStayWithinSlacksLimits() throws {
        let rows = (0..<400).map { ["store-\($0)", String(repeating: "x", count: 40)] }
        let many = BotReply([.table(ReplyTable(columns: ["Store", "Note"], rows: rows))]
                            + (0..<60).map { ReplyBlock.text("line \($0)") })
        let blocks = BlockKitRenderer.blocks(many)
        #expect(blocks.count == 50)
        for block in blocks {
            let object = try JSONSerialization.jsonObject(with: block.data()) as? [String: Any]
            let text = (object?["text"] as? [String: Any])?["text"] as? String ?? ""
            #expect(text.count <= 3000)
        }
    }
}

@Suite struct BlockKitChunkTests {
    /// Chunks keep every non-empty line (cut at the limit), in order, each chunk within the limit and as full as the next
    /// line allows, whatever the mix of long, empty and multi-scalar lines.
    @Test func chunksKeepEveryLineAndFillEachChunk() {
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % bound
        }
        let pieces = ["", "a", "éé", "👩‍💻", "store-00042  94% 🟢", String(repeating: "x", count: 70)]
        for _ in 0..<200 {
            let limit = 20 + next(80)
            let lines = (0..<next(40)).map { _ in (0..<next(4)).map { _ in pieces[next(pieces.count)] }.joined() }
            let chunks = BlockKitRenderer.chunks(lines.joined(separator: "\n"), limit: limit)
            let cut = lines.map { String($0.prefix(limit)) }
            #expect(chunks.allSatisfy { $0.count <= limit })
            // An empty line that would open a chunk is dropped; every other line is kept.
            let kept = chunks.joined(separator: "\n").split(separator: "\n").map(String.init)
            #expect(kept == cut.filter { !$0.isEmpty })
            for (chunk, following) in zip(chunks, chunks.dropFirst()) {
                let first = following.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
                #expect(chunk.count + first.count + 1 > limit, "a chunk closed early")
            }
        }
    }
}

@Suite struct MultipartFormTests {
    @Test func textFieldsAreReadAndFilesSkipped() throws {
        let body = "preamble\r\n--b0\r\nContent-Disposition: form-data; name=\"recipient\"\r\n\r\napprove+x@fix.example.com\r\n"
            + "--b0\r\nContent-Disposition: form-data; name=\"attachment-1\"; filename=\"a.bin\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
        let bytes = Array(body.utf8) + [0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x2d] + Array(("\r\n--b0\r\nContent-Disposition: form-data; "
            + "name=\"body-plain\"\r\n\r\nLine one\r\n\r\nLine two\r\n--b0--\r\n").utf8)
        let form = try FormBody(multipart: bytes, boundary: "b0")
        #expect(form["recipient"] == "approve+x@fix.example.com")
        #expect(form["body-plain"] == "Line one\r\n\r\nLine two")
        #expect(form["attachment-1"] == nil)
    }

    @Test func encodedFieldsRoundTrip() throws {
        let fields = [("a", "x\r\n--not-the-boundary"), ("b", "ünïcödé"), ("a", "second")]
        let form = try FormBody(multipart: Array(FormBody.encodeMultipart(fields, boundary: "zz9").utf8), boundary: "zz9")
        #expect(form["a"] == "x\r\n--not-the-boundary" && form["b"] == "ünïcödé")
    }

    @Test func brokenBodiesAreRefusedWithTheReason() {
        #expect(throws: FormBody.Malformed(field: "(closing boundary)")) {
            try FormBody(multipart: Array("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n".utf8), boundary: "b")
        }
        #expect(throws: FormBody.Malformed(field: "(content-disposition)")) {
            try FormBody(multipart: Array("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--".utf8), boundary: "b")
        }
        #expect(throws: FormBody.Malformed(field: "a")) {
            try FormBody(multipart: Array("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".utf8) + [0xc3, 0x28]
                + Array("\r\n--b--".utf8), boundary: "b")
        }
        #expect(throws: FormBody.Malformed(field: "(boundary)")) { try FormBody(multipart: [], boundary: "") }
    }
}

extension MultipartFormTests {
    /// Truncated, cut and corrupted bodies are refused or read, never a crash: every cut point of a real
    /// body, and seeded random corruptions of it.
    @Test func brokenBodiesNeverCrashTheParser() {
        let body = Array(FormBody.encodeMultipart([("recipient", "approve+x@fix.example.com"), ("body-plain", "Yes\r\n-- \r\nDana"),
                                                   ("timestamp", "1800000000")], boundary: "mgb").utf8)
        var outcomes = (read: 0, refused: 0)
        func parse(_ bytes: [UInt8]) {
            do { _ = try FormBody(multipart: bytes, boundary: "mgb"); outcomes.read += 1 } catch { outcomes.refused += 1 }
        }
        for end in 0...body.count { parse(Array(body[..<end])) }
        var generator = SplitMix64(seed: 0x5eed)
        for _ in 0..<2000 {
            var mutated = body
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<mutated.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: mutated[index] = [10, 13, 45, 34, 59, 0xff].randomElement(using: &generator)!
                case 1: mutated.remove(at: index)
                default: mutated.insert(contentsOf: Array("\r\n--mgb".utf8), at: index)
                }
            }
            parse(mutated)
        }
        #expect(outcomes.read > 0 && outcomes.refused > 0)
    }
}

extension MultipartFormTests {
    /// A value holding a longer boundary that begins with this one is data, not a delimiter.
    @Test func aLongerBoundaryInsideAValueIsNotADelimiter() throws {
        let body = "--mgb\r\nContent-Disposition: form-data; name=\"body-plain\"\r\n\r\nAPPROVE\r\n--mgb2 is not ours\r\n"
            + "--mgb\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nt1\r\n--mgb--\r\n"
        let form = try FormBody(multipart: Array(body.utf8), boundary: "mgb")
        #expect(form["body-plain"] == "APPROVE\r\n--mgb2 is not ours")
        #expect(form["token"] == "t1")
    }
}
