import Foundation

/// What a customer decided in a reply.
public enum ReplyDecision: String, Sendable, Equatable {
    case approve, reject
    /// No decision word first, or both kinds of word.
    case notUnderstood = "not_understood"
    /// The message forwards another; a forward is never a decision.
    case forwarded
}

/// Reads what the customer wrote above (or below) the quoted original, and the decision in it.
///
/// Drops `>` quotes, the `On … wrote:` family across line wraps and in common languages, Outlook's
/// `-----Original Message-----` and `From:/Sent:` header blocks (also as `*From:*`), `-- `
/// signatures, phone footers ("Sent from my iPhone") and closing lines ("Thanks"); keeps text below
/// a quote (bottom posts) and between quotes (inline answers). The decision is the first word of the
/// reply (after a courtesy such as "please"): APPROVE/APPROVED/YES/OK or REJECT/REJECTED/NO/DECLINE
/// (and their German and French forms); a reply whose lines start with both kinds is not understood.
public enum ReplyReader {
    /// The reply text and the decision in it.
    public static func read(_ body: String) -> (text: String, decision: ReplyDecision) {
        let text = extract(body)
        if isForward(body, before: text) { return (text, .forwarded) }
        return (text, decide(text))
    }

    /// The text the customer wrote, without quotes, splitters and signatures.
    public static func extract(_ body: String) -> String {
        let lines = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var kept: [String] = []
        var index = 0
        scan: while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(">") { index += 1; continue }
            if let length = wroteSplitter(lines, at: index) { index += length; continue }
            if isOriginalMessage(trimmed) || startsHeaderBlock(lines, at: index) || isForwardMarker(trimmed) { break scan }
            if isSignatureStart(trimmed) { break scan }
            kept.append(line)
            index += 1
        }
        // A closing ("Thanks", "Best regards") near the end, perhaps followed by a name, is not part of the answer.
        if let closing = kept.lastIndex(where: { isClosing($0.trimmingCharacters(in: .whitespaces)) }), closing > 0,
           kept.count - closing <= 3,
           kept[(closing + 1)...].allSatisfy({ $0.split(separator: " ").count <= 4 }) {
            kept.removeSubrange(closing...)
        }
        while let last = kept.last, last.trimmingCharacters(in: .whitespaces).isEmpty { kept.removeLast() }
        while let first = kept.first, first.trimmingCharacters(in: .whitespaces).isEmpty { kept.removeFirst() }
        return kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Splitters

    static let wroteWords = ["wrote:", "a écrit :", "a écrit:", "schrieb:", "schreef:", "escribió:", "escreveu:",
                             "ha scritto:", "skrev:", "kirjoitti:", "napisał:"]
    static let wroteStarts = ["on ", "le ", "am ", "op ", "el ", "em ", "den ", "il ", "w dniu "]

    /// The number of lines of an `On … wrote:` splitter starting at `index` (up to three lines), or nil.
    static func wroteSplitter(_ lines: [String], at index: Int) -> Int? {
        let first = lines[index].trimmingCharacters(in: .whitespaces).lowercased()
        guard wroteStarts.contains(where: { first.hasPrefix($0) }) else { return nil }
        var joined = ""
        for length in 1...3 where index + length <= lines.count {
            joined += (length > 1 ? " " : "") + lines[index + length - 1].trimmingCharacters(in: .whitespaces).lowercased()
            // German and Dutch name the writer after the verb: "Am … schrieb Ops Bot <…>:".
            let verbFirst = ["schrieb ", "schreef ", "skrev "].contains { joined.contains($0) } && joined.hasSuffix(":")
            if wroteWords.contains(where: { joined.hasSuffix($0) }) || verbFirst {
                return length
            }
        }
        return nil
    }

    static func isOriginalMessage(_ line: String) -> Bool {
        let lowered = line.lowercased()
        let markers = ["original message", "ursprüngliche nachricht", "message d'origine", "mensaje original",
                       "reply message", "oorspronkelijk bericht"]
        return lowered.hasPrefix("-----") && markers.contains { lowered.contains($0) }
            || lowered == "________________________________"
    }

    static func isForwardMarker(_ line: String) -> Bool {
        let lowered = line.lowercased()
        return (lowered.hasPrefix("---") || lowered.hasPrefix("begin forwarded"))
            && (lowered.contains("forwarded message") || lowered.contains("weitergeleitete nachricht")
                || lowered.contains("message transféré") || lowered.contains("begin forwarded"))
    }

    static let headerNames = ["from", "sent", "to", "subject", "date", "cc", "von", "gesendet", "an", "betreff",
                              "datum", "de", "envoyé", "à", "objet", "van", "verzonden", "aan", "onderwerp"]

    /// Whether the line is a mail header such as `From: …` or Outlook's `*From:* …`.
    static func isHeader(_ line: String) -> Bool {
        let cleaned = line.replacingOccurrences(of: "*", with: "").trimmingCharacters(in: .whitespaces).lowercased()
        guard let colon = cleaned.firstIndex(of: ":") else { return false }
        let name = cleaned[..<colon].trimmingCharacters(in: .whitespaces)
        return headerNames.contains(name)
    }

    /// Two or more header lines in a row: a quoted original without `>`.
    static func startsHeaderBlock(_ lines: [String], at index: Int) -> Bool {
        index + 1 < lines.count && isHeader(lines[index]) && isHeader(lines[index + 1])
    }

    static func isSignatureStart(_ line: String) -> Bool {
        let lowered = line.lowercased()
        if line == "--" || line == "-- " || line.hasPrefix("-- ") || line.hasPrefix("__") { return true }
        let phones = ["sent from my ", "sent from outlook", "get outlook for", "sent via ", "von meinem ",
                      "gesendet von meinem", "envoyé de mon ", "enviado desde mi "]
        return phones.contains { lowered.hasPrefix($0) } && lowered.split(separator: " ").count <= 8
    }

    static func isClosing(_ line: String) -> Bool {
        let lowered = line.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ",.!"))
        return ["thanks", "thank you", "regards", "best", "best regards", "kind regards", "warm regards", "best wishes",
                "all the best", "sincerely", "cheers", "many thanks", "thx", "danke", "mfg", "lg", "vg", "viele grüße",
                "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "beste grüße", "liebe grüße",
                "merci", "cordialement", "bien cordialement", "bien à vous", "saludos", "un saludo", "met vriendelijke groet",
                "groeten"].contains(lowered)
    }

    /// A forward marker before anything the customer wrote themselves counts as a forward.
    static func isForward(_ body: String, before text: String) -> Bool {
        body.split(separator: "\n").contains { isForwardMarker($0.trimmingCharacters(in: .whitespaces)) }
            || body.lowercased().hasPrefix("fwd:") || body.lowercased().hasPrefix("fw:")
    }

    // MARK: Decision

    static let approveWords: Set<String> = ["approve", "approved", "approving", "yes", "ok", "okay", "agree", "agreed",
                                            "ja", "freigeben", "genehmigt", "genehmigen", "oui", "approuvé", "approuve",
                                            "d'accord", "accepté"]
    static let rejectWords: Set<String> = ["reject", "rejected", "no", "decline", "declined", "deny", "nein", "ablehnen",
                                           "abgelehnt", "non", "refuse", "refusé", "rejeté"]
    static let courtesies: Set<String> = ["please", "pls", "bitte", "hi", "hello", "hallo", "bonjour", "merci", "thanks"]

    static func words(_ line: String) -> [String] {
        line.lowercased().split(whereSeparator: { $0.isWhitespace || ",.!?;:()-–—\"*".contains($0) }).map(String.init)
    }

    static func kind(_ word: String) -> ReplyDecision? {
        approveWords.contains(word) ? .approve : rejectWords.contains(word) ? .reject : nil
    }

    /// The decision: the first word of the reply, unless another line starts with the opposite word.
    public static func decide(_ text: String) -> ReplyDecision {
        let lines = text.split(separator: "\n").map(String.init).filter { !words($0).isEmpty }
        guard let first = lines.first else { return .notUnderstood }
        let leading = words(first).drop { courtesies.contains($0) }
        guard let word = leading.first, let decision = kind(word) else { return .notUnderstood }
        for line in lines.dropFirst() {
            if let other = words(line).first.flatMap(kind), other != decision { return .notUnderstood }
        }
        return decision
    }
}
