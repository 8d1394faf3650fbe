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
/// a quote (bottom posts) and between quotes (inline answers). The decision leans to the safe side:
/// see `explain`.
public enum ReplyReader {
    /// The reply text and the decision in it.
    public static func read(_ body: String) -> (text: String, decision: ReplyDecision) {
        let text = extract(body)
        if isForward(body, before: text) { return (text, .forwarded) }
        return (text, decide(text))
    }

    /// The text the customer wrote, without quotes, splitters and signatures.
    public static func extract(_ body: String) -> String {
        let lines = Self.lines(body)
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
        while let last = kept.last, last.trimmingCharacters(in: .whitespaces).isEmpty { kept.removeLast() }
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

    /// The lines of a reply that are read: an answer is at its top or just below the quote, and past this a
    /// reply of nothing but lines is not read further (what was not read cannot make a yes).
    static let maxLines = 1_000

    /// The first `maxLines` lines of `body` (CRLF, CR and LF all end a line), cut in its bytes.
    static func lines(_ body: String) -> [String] {
        var lines: [String] = []
        let bytes = Array(body.utf8)
        var start = 0, index = 0
        while index < bytes.count, lines.count < maxLines {
            let byte = bytes[index]
            if byte == 10 || byte == 13 {
                lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10 ? 2 : 1
                start = index
                continue
            }
            index += 1
        }
        if lines.count < maxLines { lines.append(String(decoding: bytes[start..<bytes.count], as: UTF8.self)) }
        return lines
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
        lines(body).contains { isForwardMarker($0.trimmingCharacters(in: .whitespaces)) }
            || body.prefix(8).lowercased().hasPrefix("fwd:") || body.prefix(8).lowercased().hasPrefix("fw:")
    }

    // MARK: Decision

    /// Words and phrases that say yes, in English, German, French, Spanish, Dutch and Portuguese.
    static let approvePhrases: [[String]] = [
        ["approve"], ["approved"], ["approving"], ["yes"], ["yep"], ["yeah"], ["ok"], ["okay"], ["sure"], ["agree"],
        ["agreed"], ["confirm"], ["confirmed"], ["go", "ahead"], ["do", "it"], ["👍"], ["✅"],
        ["ja"], ["freigeben"], ["genehmigt"], ["genehmigen"], ["einverstanden"], ["gerne"], ["in", "ordnung"],
        ["oui"], ["approuvé"], ["approuve"], ["d'accord"], ["accepté"], ["accepte"], ["allez", "y"],
        ["sí"], ["adelante"], ["apruebo"], ["aprobado"], ["de", "acuerdo"], ["vale"],
        ["akkoord"], ["goedgekeurd"], ["prima"], ["ga", "je", "gang"],
        ["sim"], ["aprovado"], ["aprovo"], ["de", "acordo"], ["pode", "aplicar"], ["pode", "fazer"],
    ]
    /// Words and phrases that say no, or negate what stands beside them (a "yes" with one of these is no yes).
    static let rejectPhrases: [[String]] = [
        ["reject"], ["rejected"], ["no"], ["nope"], ["decline"], ["declined"], ["deny"], ["denied"], ["refuse"],
        ["not"], ["don't"], ["dont"], ["do", "not"], ["never"], ["stop"], ["cancel"], ["hold", "off"], ["👎"], ["❌"],
        ["nein"], ["nicht"], ["kein"], ["keine"], ["ablehnen"], ["abgelehnt"],
        ["non"], ["pas"], ["ne"], ["n'"], ["refusé"], ["rejeté"], ["jamais"],
        ["rechazo"], ["rechazar"], ["rechazado"], ["nunca"],
        ["nee"], ["niet"], ["afgewezen"], ["afwijzen"],
        ["não"], ["nao"], ["rejeitado"], ["recuso"],
    ]
    /// Words that make a yes conditional ("approve, but only after 6 pm"): no yes can be read from them.
    static let conditions: Set<String> = [
        "but", "only", "if", "unless", "after", "later", "tomorrow", "tonight", "wait", "until", "first", "maybe",
        "aber", "nur", "wenn", "falls", "erst", "später", "morgen", "vielleicht",
        "mais", "seulement", "si", "après", "demain", "peut-être", "attendez",
        "pero", "solo", "sólo", "después", "mañana", "quizás",
        "maar", "alleen", "als", "straks", "misschien",
        "mas", "só", "depois", "amanhã", "talvez",
    ]

    /// The words of `text`: lowercased, split at anything that is not a letter, digit or apostrophe
    /// (curly apostrophes are straightened); an emoji is a word of its own, skin tones dropped.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        func flush() {
            if !current.isEmpty { words.append(current) }
            current = ""
        }
        for character in text.lowercased().replacingOccurrences(of: "’", with: "'") {
            if character.isLetter || character.isNumber || character == "'" {
                current.append(character)
            } else if let scalar = character.unicodeScalars.first, scalar.properties.isEmojiPresentation || character == "✅" || character == "❌" {
                flush()
                words.append(String(scalar))
            } else {
                flush()
            }
        }
        flush()
        // "n'est" and "l'ai": the elided French negation stands on its own.
        return words.flatMap { word in word.hasPrefix("n'") && word.count > 2 ? ["n'", String(word.dropFirst(2))] : [word] }
    }

    /// The phrases of `phrases` found in `words`, as written.
    static func found(_ phrases: [[String]], in words: [String]) -> [String] {
        // Where each word stands, so each phrase is looked for only where its first word is: one pass over the text.
        var positions: [String: [Int]] = [:]
        for (index, word) in words.enumerated() { positions[word, default: []].append(index) }
        return phrases.filter { phrase in
            (positions[phrase[0]] ?? []).contains { start in
                start + phrase.count <= words.count && zip(phrase.dropFirst(), words[(start + 1)...]).allSatisfy { $0 == $1 }
            }
        }.map { $0.joined(separator: " ") }
    }

    /// The decision in the customer's own text, and why, in words (for `perfbot mail explain` and tests).
    ///
    /// A yes is taken only when nothing else in the text could mean otherwise: a word of yes, and no word
    /// of no or negation, no question, no condition. A no is taken when there is a word of no and no yes
    /// and no question. Anything else, both kinds of word, a question, a condition, or no decision word at
    /// all, is not understood: a wrong yes runs a fix the customer refused, a "not understood" only asks again.
    public static func explain(_ text: String) -> (decision: ReplyDecision, reason: String) {
        let words = words(text)
        guard !words.isEmpty else { return (.notUnderstood, "the reply has no text of its own") }
        let yes = found(approvePhrases, in: words)
        let no = found(rejectPhrases, in: words)
        let conditional = words.filter(conditions.contains)
        func quoted(_ list: [String]) -> String { list.prefix(3).map { "'\($0)'" }.joined(separator: ", ") }
        if text.contains("?") || text.contains("¿") {
            return (.notUnderstood, "it asks a question")
        }
        switch (yes.isEmpty, no.isEmpty) {
        case (false, false):
            return (.notUnderstood, "it says both yes (\(quoted(yes))) and no or not (\(quoted(no)))")
        case (false, true):
            guard conditional.isEmpty else {
                return (.notUnderstood, "its yes (\(quoted(yes))) comes with a condition (\(quoted(conditional)))")
            }
            return (.approve, "it says yes (\(quoted(yes))) with no negation, question or condition")
        case (true, false):
            return (.reject, "it says no (\(quoted(no))) and nothing that means yes")
        case (true, true):
            return (.notUnderstood, "it has no word of yes or no")
        }
    }

    /// The decision in the customer's own text (see `explain`).
    public static func decide(_ text: String) -> ReplyDecision { explain(text).decision }
}
