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
        guard mail.fromAddresses.count == 1, let from = mail.fromAddresses.first,
              let domain = from.split(separator: "@").last.map({ String($0).lowercased() }) else {
            return MailAuthentication(passed: false, reason: "the From line does not name exactly one address")
        }
        if mail.failedAuthentication {
            return MailAuthentication(passed: false, reason: "SPF, DKIM or DMARC failed")
        }
        guard !authservIDs.isEmpty else {
            return MailAuthentication(passed: false, reason: "no trusted authserv-id is configured (PERFBOT_MAIL_AUTHSERV_ID)")
        }
        var untrusted = 0
        for header in mail.header("Authentication-Results") {
            let results = parse(header)
            guard authservIDs.contains(results.authservID) else {
                untrusted += 1
                continue
            }
            for result in results.methods where result.verdict == "pass" {
                switch result.method {
                case "dmarc":
                    return MailAuthentication(passed: true, reason: "DMARC pass from \(results.authservID)")
                case "dkim" where aligned(result.properties["header.d"] ?? result.properties["header.i"], with: domain):
                    return MailAuthentication(passed: true, reason: "DKIM pass for \(domain) from \(results.authservID)")
                case "spf" where aligned(result.properties["smtp.mailfrom"], with: domain):
                    return MailAuthentication(passed: true, reason: "SPF pass for \(domain) from \(results.authservID)")
                default:
                    continue
                }
            }
        }
        return MailAuthentication(passed: false, reason: untrusted > 0
            ? "no pass from a trusted authserv-id (\(untrusted) result\(untrusted == 1 ? "" : "s") from others ignored)"
            : "no authentication results")
    }

    struct Results {
        var authservID: String
        var methods: [(method: String, verdict: String, properties: [String: String])]
    }

    /// `mx.example.com 1; dkim=pass (2048-bit key) header.d=acme.example; spf=pass smtp.mailfrom=a@acme.example`.
    static func parse(_ header: String) -> Results {
        var text = ""
        var depth = 0
        for character in header {  // comments in parentheses go
            if character == "(" { depth += 1; continue }
            if character == ")" { depth = max(0, depth - 1); continue }
            if depth == 0 { text.append(character) }
        }
        let parts = text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let id = parts.first?.split(separator: " ").first.map { String($0).lowercased() } ?? ""
        let methods = parts.dropFirst().compactMap { part -> (String, String, [String: String])? in
            let words = part.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let first = words.first, let equals = first.firstIndex(of: "=") else { return nil }
            var properties: [String: String] = [:]
            for word in words.dropFirst() {
                guard let sign = word.firstIndex(of: "=") else { continue }
                properties[word[..<sign].lowercased()] = String(word[word.index(after: sign)...])
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
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
