import Foundation

/// Turns a statement into its class: pt-query-digest's fingerprint (`QueryRewriter::fingerprint` of
/// percona-toolkit 3.x), rule for rule, so a class's `query_id` (the uppercase MD5 of the fingerprint)
/// is the checksum pt-query-digest prints for the same queries.
///
/// The rules run in Percona's order over bytes, each as one linear pass into a reused buffer; a pass whose
/// trigger is absent (no comment, no quote, no `union`, …) is skipped. Keep one fingerprinter per thread.
public struct QueryFingerprinter {
    private var front: UnsafeMutablePointer<UInt8>
    private var back: UnsafeMutablePointer<UInt8>
    private var frontCount = 0
    private var capacity: Int

    public init() {
        capacity = 4096
        front = .allocate(capacity: capacity)
        back = .allocate(capacity: capacity)
    }

    /// Frees the buffers; the fingerprinter must not be used after.
    public mutating func close() {
        front.deallocate()
        back.deallocate()
        capacity = 0
    }

    /// The fingerprint of `query` (a statement as the slow log wrote it, without its final `;`).
    public static func fingerprint(_ query: String) -> String {
        var fingerprinter = QueryFingerprinter()
        defer { fingerprinter.close() }
        let bytes = Array(query.utf8)
        return bytes.withUnsafeBufferPointer { String(decoding: fingerprinter.fingerprint($0), as: UTF8.self) }
    }

    /// The fingerprint of `query`, as a view valid until the next call.
    public mutating func fingerprint(_ query: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if let special = Self.special(query) {
            reserve(special.count)
            special.withUnsafeBufferPointer { _ = UnsafeMutableBufferPointer(start: front, count: $0.count).initialize(from: $0) }
            frontCount = special.count
            return UnsafeBufferPointer(start: front, count: frontCount)
        }
        let start = Self.multiRowInsertPrefix(query)
        // Passes shrink the text, except IN lists and UNIONs, which grow it by a few bytes at most.
        reserve(start.count * 3 + 128)
        if start.count > 0 { front.update(from: start.baseAddress!, count: start.count) }
        frontCount = start.count
        let flags = Flags(UnsafeBufferPointer(start: front, count: frontCount))
        if flags.slashStar { pass(Self.stripBlockComments) }
        if flags.lineComment { pass(Self.stripLineComments) }
        if Self.isUse(UnsafeBufferPointer(start: front, count: frontCount)) {
            return Self.use.withUnsafeBufferPointer { use in
                front.update(from: use.baseAddress!, count: use.count)
                frontCount = use.count
                return UnsafeBufferPointer(start: front, count: frontCount)
            }
        }
        if flags.backslash { pass(Self.stripEscapedQuotes) }
        if flags.doubleQuote { pass { Self.replaceQuoted($0, &$1, quote: UInt8(ascii: "\"")) } }
        if flags.singleQuote { pass { Self.replaceQuoted($0, &$1, quote: UInt8(ascii: "'")) } }
        if flags.boolean { pass(Self.replaceBooleans) }
        var shapes = Flags()
        pass { Self.numbersSpacesAndCase($0, &$1, shapes: &shapes) }
        if shapes.null { pass(Self.replaceNull) }
        if shapes.parenthesis { pass(Self.collapseLists) }
        if shapes.union { pass(Self.collapseUnions) }
        if shapes.limit { pass(Self.collapseLimit) }
        if shapes.orderBy { pass(Self.dropAscending) }
        return UnsafeBufferPointer(start: front, count: frontCount)
    }

    private static let use = Array("use ?".utf8)

    private mutating func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        front.deallocate()
        back.deallocate()
        capacity = max(needed, capacity * 2)
        front = .allocate(capacity: capacity)
        back = .allocate(capacity: capacity)
    }

    private mutating func pass(_ body: (UnsafeBufferPointer<UInt8>, inout Writer) -> Void) {
        var writer = Writer(base: back)
        body(UnsafeBufferPointer(start: front, count: frontCount), &writer)
        swap(&front, &back)
        frontCount = writer.count
    }

    /// Appends to a buffer the fingerprinter sized beforehand (no bounds or uniqueness checks per byte).
    struct Writer {
        let base: UnsafeMutablePointer<UInt8>
        var count = 0

        @inline(__always) mutating func append(_ byte: UInt8) {
            base[count] = byte
            count += 1
        }

        @inline(__always) mutating func append(contentsOf bytes: Slice<UnsafeBufferPointer<UInt8>>) {
            guard !bytes.isEmpty else { return }
            (base + count).update(from: bytes.base.baseAddress! + bytes.startIndex, count: bytes.count)
            count += bytes.count
        }

        @inline(__always) mutating func append(contentsOf text: StaticString) {
            (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
            count += text.utf8CodeUnitCount
        }

        @inline(__always) mutating func replaceLast(with byte: UInt8) { base[count - 1] = byte }
    }

    // MARK: Which passes apply

    /// Which passes apply, from one look at each byte through the class table.
    struct Flags {
        var slashStar = false, lineComment = false, backslash = false, doubleQuote = false, singleQuote = false
        var boolean = false, null = false, parenthesis = false, union = false, limit = false, orderBy = false

        init() {}

        /// The flags of the rules that run before lowercasing.
        init(_ b: UnsafeBufferPointer<UInt8>) {
            let classes = byteClasses
            let n = b.count
            var i = 0
            while i < n {
                let byte = b[i]
                if classes[Int(byte)] & ByteClass.marker == 0 {
                    i += 1
                    continue
                }
                switch byte {
                case UInt8(ascii: "/"): if i + 1 < n, b[i + 1] == UInt8(ascii: "*") { slashStar = true }
                case UInt8(ascii: "-"): if i + 1 < n, b[i + 1] == UInt8(ascii: "-") { lineComment = true }
                case UInt8(ascii: "#"): lineComment = true
                case UInt8(ascii: "\\"): backslash = true
                case UInt8(ascii: "\""): doubleQuote = true
                case UInt8(ascii: "'"): singleQuote = true
                case UInt8(ascii: "t"), UInt8(ascii: "T"):
                    if i == 0 || !isWord(b[i - 1]), hasPrefix(b, at: i, "true", caseInsensitive: true) { boolean = true }
                case UInt8(ascii: "f"), UInt8(ascii: "F"):
                    if i == 0 || !isWord(b[i - 1]), hasPrefix(b, at: i, "false", caseInsensitive: true) { boolean = true }
                default: break
                }
                i += 1
            }
        }
    }

    // MARK: Special cases (return at once)

    private static func special(_ q: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        if hasPrefix(q, at: 0, "SELECT /*!40001 SQL_NO_CACHE */ * FROM `") { return Array("mysqldump".utf8) }
        // `/*` is rare: look for one with memchr before trying the pattern at each `/`.
        if let base = q.baseAddress, memchr(base, Int32(UInt8(ascii: "/")), q.count) != nil, containsToolkitComment(q) {
            return Array("percona-toolkit".utf8)
        }
        if hasPrefix(q, at: 0, "administrator command: ") { return Array(q) }
        // `\A\s*(call\s+\S+)\(` → lc($1): the name is the longest run of non-spaces that a `(` follows.
        var i = 0
        while i < q.count, isSpace(q[i]) { i += 1 }
        if hasPrefix(q, at: i, "call", caseInsensitive: true) {
            var j = i + 4
            let spaces = j
            while j < q.count, isSpace(q[j]) { j += 1 }
            if j > spaces {
                var end = j
                while end < q.count, !isSpace(q[end]) { end += 1 }
                var paren = end - 1
                while paren > j, q[paren] != UInt8(ascii: "(") { paren -= 1 }
                if paren > j { return q[i..<paren].map(lower) }
            }
        }
        return nil
    }

    /// `/*\w+\.\w+:[0-9]/[0-9]*/`, the comment pt-table-checksum and friends put in their queries.
    private static func containsToolkitComment(_ q: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = q.count
        while i + 1 < n {
            defer { i += 1 }
            guard q[i] == UInt8(ascii: "/"), q[i + 1] == UInt8(ascii: "*") else { continue }
            var j = i + 2
            let first = j
            while j < n, isWord(q[j]) { j += 1 }
            guard j > first, j < n, q[j] == UInt8(ascii: ".") else { continue }
            j += 1
            let second = j
            while j < n, isWord(q[j]) { j += 1 }
            // `\w+` backtracks, but the next byte must be `:` and `:` is not a word byte: one place to look.
            guard j > second, j + 5 <= n, q[j] == UInt8(ascii: ":"), isDigit(q[j + 1]), q[j + 2] == UInt8(ascii: "/"),
                  isDigit(q[j + 3]), q[j + 4] == UInt8(ascii: "*"), j + 5 < n, q[j + 5] == UInt8(ascii: "/") else { continue }
            return true
        }
        return false
    }

    /// A multi-row INSERT or REPLACE cut after its first row:
    /// `\A((?:INSERT|REPLACE)(?: IGNORE)?\s+INTO.+?VALUES\s*\(.*?\))\s*,\s*\(` (case-insensitive, `.` matches newlines).
    private static func multiRowInsertPrefix(_ q: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var i: Int
        if hasPrefix(q, at: 0, "insert", caseInsensitive: true) { i = 6 }
        else if hasPrefix(q, at: 0, "replace", caseInsensitive: true) { i = 7 }
        else { return q }
        if hasPrefix(q, at: i, " ignore", caseInsensitive: true) {
            // `(?: IGNORE)?` is optional: try with it, and without it when `\s+INTO` does not follow.
            if let cut = afterVerb(q, from: i + 7) { return UnsafeBufferPointer(rebasing: q[..<cut]) }
        }
        if let cut = afterVerb(q, from: i) { return UnsafeBufferPointer(rebasing: q[..<cut]) }
        return q
    }

    private static func afterVerb(_ q: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        while i < q.count, isSpace(q[i]) { i += 1 }
        guard i > start, hasPrefix(q, at: i, "into", caseInsensitive: true) else { return nil }
        // `.+?VALUES`: the first VALUES at least one byte after INTO; any later VALUES finds no other `)`.
        var v = i + 5
        while v + 6 <= q.count {
            if hasPrefix(q, at: v, "values", caseInsensitive: true) {
                var p = v + 6
                while p < q.count, isSpace(q[p]) { p += 1 }
                if p < q.count, q[p] == UInt8(ascii: "(") {
                    var close = p + 1
                    while close < q.count {
                        if q[close] == UInt8(ascii: ")") {
                            var k = close + 1
                            while k < q.count, isSpace(q[k]) { k += 1 }
                            if k < q.count, q[k] == UInt8(ascii: ",") {
                                k += 1
                                while k < q.count, isSpace(q[k]) { k += 1 }
                                if k < q.count, q[k] == UInt8(ascii: "(") { return close + 1 }
                            }
                        }
                        close += 1
                    }
                    return nil
                }
            }
            v += 1
        }
        return nil
    }

    // MARK: Comments

    /// `/\*[^!].*?\*/` (dot matches newlines): block comments, but not `/*!version */` hints.
    private static func stripBlockComments(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        let n = q.count
        var i = 0
        var copied = 0
        while i + 2 < n {
            if q[i] == UInt8(ascii: "/"), q[i + 1] == UInt8(ascii: "*"), q[i + 2] != UInt8(ascii: "!") {
                // No `*/` after this one means none after any later `/*` either: the rest stays as it is.
                guard let end = find(q, "*/", from: i + 3) else { break }
                out.append(contentsOf: q[copied..<i])
                i = end + 2
                copied = i
                continue
            }
            i += 1
        }
        out.append(contentsOf: q[copied..<n])
    }

    /// `(?:--|#)[^'"\r\n]*(?=[\r\n]|\Z)`: a comment to the end of its line, unless a quote comes first.
    private static func stripLineComments(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        let n = q.count
        var i = 0
        var copied = 0
        while i < n {
            let starts = q[i] == UInt8(ascii: "#") || (q[i] == UInt8(ascii: "-") && i + 1 < n && q[i + 1] == UInt8(ascii: "-"))
            if starts {
                var j = i + (q[i] == UInt8(ascii: "#") ? 1 : 2)
                while j < n, q[j] != UInt8(ascii: "'"), q[j] != UInt8(ascii: "\""), q[j] != 10, q[j] != 13 { j += 1 }
                // `\Z`: the end, or just before a final newline.
                if j == n || q[j] == 10 || q[j] == 13 {
                    out.append(contentsOf: q[copied..<i])
                    i = j
                    copied = j
                    continue
                }
                // A quote came first. Every comment start before it would reach the same quote: none of them is a
                // comment either, so the scan goes on from the quote (one pass, where trying each start was quadratic).
                i = j
                continue
            }
            i += 1
        }
        out.append(contentsOf: q[copied..<n])
    }

    /// `\Ause \S+\Z` (case-insensitive).
    private static func isUse(_ q: UnsafeBufferPointer<UInt8>) -> Bool {
        guard hasPrefix(q, at: 0, "use ", caseInsensitive: true) else { return false }
        var n = q.count
        if n > 0, q[n - 1] == 10 { n -= 1 }
        guard n > 4 else { return false }
        for i in 4..<n where isSpace(q[i]) { return false }
        return true
    }

    // MARK: Literals

    /// `s/\\["']//g`
    private static func stripEscapedQuotes(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        var i = 0
        while i < q.count {
            if q[i] == UInt8(ascii: "\\"), i + 1 < q.count, q[i + 1] == UInt8(ascii: "'") || q[i + 1] == UInt8(ascii: "\"") {
                i += 2
                continue
            }
            out.append(q[i])
            i += 1
        }
    }

    /// `s/".*?"/?/sg` or the same with `'`.
    private static func replaceQuoted(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer, quote: UInt8) {
        var i = 0
        var copied = 0
        while i < q.count {
            if q[i] == quote {
                guard let close = find(q, quote, from: i + 1) else { break }
                out.append(contentsOf: q[copied..<i])
                out.append(UInt8(ascii: "?"))
                i = close + 1
                copied = i
                continue
            }
            i += 1
        }
        out.append(contentsOf: q[copied..<q.count])
    }

    /// `s/\bfalse\b|\btrue\b/?/isg`
    private static func replaceBooleans(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        replaceWords(q, &out, ["true", "false"], caseInsensitive: true)
    }

    /// `s/\bnull\b/?/g` (after lowercasing).
    private static func replaceNull(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        replaceWords(q, &out, ["null"], caseInsensitive: false)
    }

    private static func replaceWords(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer, _ words: [StaticString],
                                     caseInsensitive: Bool) {
        var i = 0
        let n = q.count
        while i < n {
            if i == 0 || !isWord(q[i - 1]) {
                var replaced = false
                for word in words where hasPrefix(q, at: i, word, caseInsensitive: caseInsensitive) {
                    let end = i + word.utf8CodeUnitCount
                    if end == n || !isWord(q[end]) {
                        out.append(UInt8(ascii: "?"))
                        i = end
                        replaced = true
                        break
                    }
                }
                if replaced { continue }
            }
            out.append(q[i])
            i += 1
        }
    }

    /// Four of Percona's rules in one pass, in their order of effect:
    /// `s/[0-9+-][0-9a-f.xb+-]*/?/g`, then `s/[xb.+-]\?/?/g`, then leading whitespace trimmed, one final
    /// newline chomped, `tr[ \n\t\r\f][ ]s`, and `lc`.
    private static func numbersSpacesAndCase(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer, shapes: inout Flags) {
        let classes = byteClasses
        var n = q.count
        var i = 0
        // A number run never holds whitespace, so trimming first gives the same text.
        while i < n, isPerlSpace(q[i]) { i += 1 }
        if n > i, q[n - 1] == 10 { n -= 1 }
        // The byte last written, as it was before lowercasing (the `[xb.+-]\?` rule is case-sensitive);
        // 0 after a `?` or a space.
        var last: UInt8 = 0
        // Whether the last byte written is a word byte: the later word rules start at word boundaries.
        var afterWord = false
        while i < n {
            let byte = q[i]
            let kind = classes[Int(byte)]
            if kind & ByteClass.numberStart != 0 {
                i += 1
                while i < n, classes[Int(q[i])] & ByteClass.numberTail != 0 { i += 1 }
                question(&out, last: &last)
                afterWord = false
                continue
            }
            if kind & ByteClass.space != 0 {
                out.append(32)
                i += 1
                while i < n, classes[Int(q[i])] & ByteClass.space != 0 { i += 1 }
                last = 0
                afterWord = false
                continue
            }
            if byte == UInt8(ascii: "?") {
                question(&out, last: &last)
                afterWord = false
                i += 1
                continue
            }
            if kind & ByteClass.word != 0 {
                if !afterWord, kind & ByteClass.shapeWord != 0 {
                    // Tell the later passes whether their word occurs (a false alarm costs one pass).
                    switch byte | 0x20 {
                    case UInt8(ascii: "n"): if hasPrefix(q, at: i, "null", caseInsensitive: true) { shapes.null = true }
                    case UInt8(ascii: "u"): if hasPrefix(q, at: i, "union", caseInsensitive: true) { shapes.union = true }
                    case UInt8(ascii: "l"): if hasPrefix(q, at: i, "limit", caseInsensitive: true) { shapes.limit = true }
                    default: if hasPrefix(q, at: i, "order", caseInsensitive: true) { shapes.orderBy = true }
                    }
                }
                afterWord = true
            } else {
                if byte == UInt8(ascii: "(") { shapes.parenthesis = true }
                afterWord = false
            }
            out.append(lower(byte))
            last = byte
            i += 1
        }
    }

    @inline(__always)
    private static func question(_ out: inout Writer, last: inout UInt8) {
        switch last {
        case UInt8(ascii: "x"), UInt8(ascii: "b"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"):
            out.replaceLast(with: UInt8(ascii: "?"))
        default:
            out.append(UInt8(ascii: "?"))
        }
        last = 0
    }

    // MARK: Shapes (after lowercasing)

    /// `s/\b(in|values?)(?:[\s,]*\([\s?,]*\))+/$1(?+)/gx`
    private static func collapseLists(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        let n = q.count
        var i = 0
        var copied = 0
        while i < n {
            let byte = q[i]
            guard byte == UInt8(ascii: "i") || byte == UInt8(ascii: "v"), i == 0 || !isWord(q[i - 1]) else {
                i += 1
                continue
            }
            var matched = false
            for word: StaticString in ["in", "values", "value"] where hasPrefix(q, at: i, word) {
                let wordEnd = i + word.utf8CodeUnitCount
                var end = wordEnd
                while let next = listGroup(q, from: end) { end = next }
                if end > wordEnd {
                    out.append(contentsOf: q[copied..<wordEnd])
                    out.append(contentsOf: "(?+)")
                    i = end
                    copied = end
                    matched = true
                    break
                }
            }
            if !matched { i += 1 }
        }
        out.append(contentsOf: q[copied..<n])
    }

    /// `[\s,]*\([\s?,]*\)` at `start`: the index after it.
    private static func listGroup(_ q: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        while i < q.count, isPerlSpace(q[i]) || q[i] == UInt8(ascii: ",") { i += 1 }
        guard i < q.count, q[i] == UInt8(ascii: "(") else { return nil }
        i += 1
        while i < q.count, isPerlSpace(q[i]) || q[i] == UInt8(ascii: "?") || q[i] == UInt8(ascii: ",") { i += 1 }
        guard i < q.count, q[i] == UInt8(ascii: ")") else { return nil }
        return i + 1
    }

    /// `s/\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+/$1 \/*repeat$2*\//xg`
    private static func collapseUnions(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        let n = q.count
        // `.*?` grows one byte at a time (it does not cross a newline; there are none left), but it can only end
        // where ` union` follows: those places, found once, are the only lengths tried.
        var unions: [Int] = []
        var at = 0
        while at + 6 <= n {
            if isPerlSpace(q[at]), hasPrefix(q, at: at + 1, "union") { unions.append(at) }
            at += 1
        }
        guard !unions.isEmpty else {
            out.append(contentsOf: q[0..<n])
            return
        }
        // Bytes compared in all: a statement built to make the lazy match try every pair stops being collapsed once
        // this is spent (Perl would take quadratic time over it); real statements spend a small part of it.
        var budget = 16 * n + 65_536
        var i = 0
        var copied = 0
        scan: while i < n {
            guard (i == 0 || !isWord(q[i - 1])), hasPrefix(q, at: i, "select"), i + 6 < n, isPerlSpace(q[i + 6]) else {
                i += 1
                continue
            }
            var next = Self.firstIndex(in: unions, atLeast: i + 7)
            while next < unions.count {
                let length = unions[next] - i
                var end = i + length
                var separator: Range<Int>?
                budget -= length
                while budget > 0, let (after, sep) = unionRepeat(q, body: i..<(i + length), at: end) {
                    end = after
                    separator = sep
                    budget -= length
                }
                if let separator {
                    out.append(contentsOf: q[copied..<(i + length)])
                    out.append(contentsOf: " /*repeat")
                    out.append(contentsOf: q[separator])
                    out.append(contentsOf: "*/")
                    i = end
                    copied = end
                    continue scan
                }
                guard budget > 0 else { break scan }
                next += 1
            }
            i += 1
        }
        out.append(contentsOf: q[copied..<n])
    }

    /// The first index of `sorted` whose value is at least `value` (`sorted.count` when none is).
    private static func firstIndex(in sorted: [Int], atLeast value: Int) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// `(\sunion(?:\sall)?)\s\1` at `at`: the index after it and the separator's range.
    private static func unionRepeat(_ q: UnsafeBufferPointer<UInt8>, body: Range<Int>, at: Int) -> (Int, Range<Int>)? {
        guard at < q.count, isPerlSpace(q[at]), hasPrefix(q, at: at + 1, "union") else { return nil }
        var candidates: [Int] = []
        if at + 10 < q.count, isPerlSpace(q[at + 6]), hasPrefix(q, at: at + 7, "all") { candidates.append(at + 10) }
        candidates.append(at + 6)
        for sepEnd in candidates {
            guard sepEnd < q.count, isPerlSpace(q[sepEnd]) else { continue }
            let start = sepEnd + 1
            guard start + body.count <= q.count else { continue }
            var same = true
            for k in 0..<body.count where q[start + k] != q[body.lowerBound + k] {
                same = false
                break
            }
            if same { return (start + body.count, at..<sepEnd) }
        }
        return nil
    }

    /// `s/\blimit \?(?:, ?\?| offset \?)?/limit ?/` (the first only).
    private static func collapseLimit(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        let n = q.count
        var i = 0
        while i < n {
            if (i == 0 || !isWord(q[i - 1])), hasPrefix(q, at: i, "limit ?") {
                var end = i + 7
                if hasPrefix(q, at: end, ", ?") { end += 3 }
                else if hasPrefix(q, at: end, ",?") { end += 2 }
                else if hasPrefix(q, at: end, " offset ?") { end += 9 }
                out.append(contentsOf: q[0..<i])
                out.append(contentsOf: "limit ?")
                out.append(contentsOf: q[end..<n])
                return
            }
            i += 1
        }
        out.append(contentsOf: q[0..<n])
    }

    /// After the first `\bORDER BY `, `1 while s/\G(.+?)\s+ASC/$1/gi && pos`: consecutive `… asc` lose their ` asc`.
    private static func dropAscending(_ q: UnsafeBufferPointer<UInt8>, _ out: inout Writer) {
        let n = q.count
        var start = 0
        while start < n {
            if (start == 0 || !isWord(q[start - 1])), hasPrefix(q, at: start, "order by ", caseInsensitive: true) { break }
            start += 1
        }
        guard start < n else {
            out.append(contentsOf: q[0..<n])
            return
        }
        var position = start + 9
        out.append(contentsOf: q[0..<position])
        // Each match starts where the last one ended; `.+?` takes at least one byte.
        while position < n {
            var k = position + 1
            var found: (body: Int, end: Int)?
            while k < n {
                if isPerlSpace(q[k]) {
                    var m = k
                    while m < n, isPerlSpace(q[m]) { m += 1 }
                    if hasPrefix(q, at: m, "asc", caseInsensitive: true) {
                        found = (k, m + 3)
                        break
                    }
                }
                k += 1
            }
            guard let match = found else { break }
            out.append(contentsOf: q[position..<match.body])
            position = match.end
        }
        out.append(contentsOf: q[position..<n])
    }

    // MARK: Bytes

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
    @inline(__always) static func isWord(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20) &- 97 < 26 || b == UInt8(ascii: "_")
    }
    /// `\s` of the patterns that run before lowercasing: space, tab, newline, CR, form feed, vertical tab.
    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 32 || (b >= 9 && b <= 13) }
    @inline(__always) static func isPerlSpace(_ b: UInt8) -> Bool { isSpace(b) }
    /// `[0-9a-f.xb+-]`
    @inline(__always) static func isNumberTail(_ b: UInt8) -> Bool {
        isDigit(b) || b &- 97 < 6 || b == UInt8(ascii: ".") || b == UInt8(ascii: "x") || b == UInt8(ascii: "+")
            || b == UInt8(ascii: "-")
    }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b &- 65 < 26 ? b | 0x20 : b }

    static func hasPrefix(_ q: UnsafeBufferPointer<UInt8>, at i: Int, _ prefix: StaticString,
                          caseInsensitive: Bool = false) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard i >= 0, i + count <= q.count else { return false }
        let p = prefix.utf8Start
        for k in 0..<count {
            let a = q[i + k]
            if caseInsensitive ? lower(a) != lower(p[k]) : a != p[k] { return false }
        }
        return true
    }

    private static func find(_ q: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from: Int) -> Int? {
        var i = from
        while i < q.count {
            if q[i] == byte { return i }
            i += 1
        }
        return nil
    }

    private static func find(_ q: UnsafeBufferPointer<UInt8>, _ pair: StaticString, from: Int) -> Int? {
        var i = from
        while i + 1 < q.count {
            if hasPrefix(q, at: i, pair) { return i }
            i += 1
        }
        return nil
    }
}


/// What each byte is to the fingerprint rules, one table lookup per byte.
enum ByteClass {
    static let word: UInt8 = 1
    /// `[0-9+-]`
    static let numberStart: UInt8 = 2
    /// `[0-9a-f.xb+-]`
    static let numberTail: UInt8 = 4
    /// `[ \n\t\r\f]`, what `tr[ \n\t\r\f][ ]s` collapses.
    static let space: UInt8 = 8
    /// A byte that may start something a pass before lowercasing handles: `/ - # \ " '`, `t`, `f`.
    static let marker: UInt8 = 16
    /// `n u l o` in either case: the first letters of `null`, `union`, `limit`, `order`.
    static let shapeWord: UInt8 = 32
}

/// The class table (256 entries), built once.
nonisolated(unsafe) let byteClasses: UnsafePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    table.initialize(repeating: 0, count: 256)
    for byte in 0..<256 {
        let b = UInt8(byte)
        var kind: UInt8 = 0
        if QueryFingerprinter.isWord(b) { kind |= ByteClass.word }
        if QueryFingerprinter.isDigit(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { kind |= ByteClass.numberStart }
        if QueryFingerprinter.isNumberTail(b) { kind |= ByteClass.numberTail }
        if [32, 10, 9, 13, 12].contains(b) { kind |= ByteClass.space }
        if Array("/-#\\\"'tTfF".utf8).contains(b) { kind |= ByteClass.marker }
        if Array("nulNUL".utf8).contains(b) || b | 0x20 == UInt8(ascii: "o") { kind |= ByteClass.shapeWord }
        table[byte] = kind
    }
    return UnsafePointer(table)
}()
