import Foundation

/// Whether the receiving side vouched for who sent a message: an `Authentication-Results` header whose
/// authserv-id is one perfbot trusts (`PERFBOT_MAIL_AUTHSERV_ID`: the receiving MTA, or the provider's,
/// which replace any header claiming their id) with DMARC `pass`, DKIM `pass` for a domain aligned with the
/// From domain, or SPF `pass` for an aligned envelope sender. A header from any other authserv-id could
/// have been written by the sender and is never trusted for a pass; any failure anywhere refuses.
public struct MailAuthentication: Sendable, Equatable {
    public var passed: Bool
    /// In words, for logs and `perfbot mail explain`.
    public var reason: String

    public static func check(_ mail: InboundMail, trusting authservIDs: Set<String>) -> MailAuthentication {
        // The From must be one plain mailbox, read from the header as sent: a comment or an encoded word
        // beside the address is how a second address reaches a reader that differs from the MTA's.
        guard let from = MailAddress.singleMailbox(mail.from),
              let domain = from.split(separator: "@").last.map({ String($0).lowercased() }) else {
            return MailAuthentication(passed: false, reason: "the From line is not exactly one plain address "
                + "(no comments, no encoded words beside the address, no second address)")
        }
        if mail.failedAuthentication {
            return MailAuthentication(passed: false, reason: "SPF, DKIM or DMARC failed")
        }
        guard !authservIDs.isEmpty else {
            return MailAuthentication(passed: false, reason: "no trusted authserv-id is configured (PERFBOT_MAIL_AUTHSERV_ID)")
        }
        // Only the topmost header of a trusted authserv-id: the receiving MTA prepends its own above everything
        // the message carried, so any lower one with that id was written by someone else.
        let all = mail.header("Authentication-Results").map(parse)
        guard let results = all.first(where: { authservIDs.contains($0.authservID) }) else {
            return MailAuthentication(passed: false, reason: all.isEmpty ? "no authentication results"
                : "no result from a trusted authserv-id (\(all.count) from others ignored)")
        }
        for result in results.methods where result.verdict == "pass" {
            switch result.method {
            case "dmarc" where result.properties["header.from"].map({ $0 == domain }) ?? false:
                return MailAuthentication(passed: true, reason: "DMARC pass for \(domain) from \(results.authservID)")
            case "dkim" where aligned(result.properties["header.d"], with: domain):
                return MailAuthentication(passed: true, reason: "DKIM pass for \(domain) from \(results.authservID)")
            case "spf" where aligned(result.properties["smtp.mailfrom"], with: domain):
                return MailAuthentication(passed: true, reason: "SPF pass for \(domain) from \(results.authservID)")
            default:
                continue
            }
        }
        return MailAuthentication(passed: false, reason: "no pass for \(domain) from \(results.authservID)")
    }

    struct Results {
        var authservID: String
        var methods: [(method: String, verdict: String, properties: [String: String])]
    }

    /// `mx.example.com 1; dkim=pass (2048-bit key) header.d=acme.example; spf=pass smtp.mailfrom=a@acme.example`,
    /// read as RFC 8601 writes it: comments (nested, with quoted pairs) dropped, quoted strings kept whole (a `;`
    /// or `(` inside one is text), `;` between results only outside both. Linear in the header.
    static func parse(_ header: String) -> Results {
        var pieces: [[String]] = [[]]
        var word = ""
        var depth = 0, quoted = false, escaped = false
        func endWord() {
            if !word.isEmpty { pieces[pieces.count - 1].append(word) }
            word = ""
        }
        for character in header {
            if escaped {
                if depth == 0 { word.append(character) }
                escaped = false
            } else if character == "\\", quoted || depth > 0 {
                escaped = true
            } else if quoted {
                if character == "\"" { quoted = false } else { word.append(character) }
            } else if character == "(" {
                depth += 1
            } else if depth > 0 {
                if character == ")" { depth -= 1 }
            } else if character == "\"" {
                quoted = true
            } else if character == ";" {
                endWord()
                pieces.append([])
            } else if character.isWhitespace {
                endWord()
            } else {
                word.append(character)
            }
        }
        endWord()
        let id = pieces.first?.first?.lowercased() ?? ""
        let methods = pieces.dropFirst().compactMap { words -> (String, String, [String: String])? in
            guard let first = words.first, let equals = first.firstIndex(of: "=") else { return nil }
            var properties: [String: String] = [:]
            for word in words.dropFirst() {
                guard let sign = word.firstIndex(of: "=") else { continue }
                let key = word[..<sign].lowercased()
                if properties[key] == nil { properties[key] = String(word[word.index(after: sign)...]).lowercased() }
            }
            return (first[..<equals].lowercased(), first[first.index(after: equals)...].lowercased(), properties)
        }
        return Results(authservID: id, methods: methods)
    }

    /// Relaxed alignment: the same domain, or one a subdomain of the other (`mail.acme.example`, `acme.example`).
    static func aligned(_ value: String?, with domain: String) -> Bool {
        guard var other = value?.lowercased(), !other.isEmpty else { return false }
        if let at = other.lastIndex(of: "@") { other = String(other[other.index(after: at)...]) }
        return other == domain || other.hasSuffix("." + domain) || domain.hasSuffix("." + other)
    }
}
