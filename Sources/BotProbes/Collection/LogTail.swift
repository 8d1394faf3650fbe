import BotCore
import BotPlaybooks
import Foundation

/// What a store's log gained since perfbot's cursor in it, read through the store's executor: `stat` for the file's
/// identity (inode) and size, then `dd` for at most `window` bytes from the cursor. A new file (rotation) or a shorter
/// one (truncation) starts over at 0; a log never read before starts at its last `window` bytes.
struct LogTail {
    var path: String
    var identity: String
    var size: Int64
    /// Where `bytes` start in the file.
    var offset: Int64
    var bytes: [UInt8]
    /// No cursor was kept for this log: perfbot reads it for the first time.
    var firstRead: Bool

    /// The read began inside the file (a first read of a long log): its first line or entry may be cut.
    var startedInside: Bool { firstRead && offset > 0 }
    /// The cursor after `used` of the bytes.
    func cursor(after used: Int) -> SlowLogCursor { SlowLogCursor(path: path, identity: identity, offset: offset + Int64(used)) }

    static func read(_ path: String, cursor: SlowLogCursor?, window: Int64, context: CollectorContext) async throws -> LogTail {
        let stat = try await context.run(["stat", "--format=%i %s", "--", path])
        let fields = stat.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let size = Int64(fields[1]) else { throw ProbeParseError.invalid("stat \(path): \(stat.prefix(80))") }
        let identity = String(fields[0])
        let offset: Int64
        if let cursor {
            offset = cursor.path == path && cursor.identity == identity && cursor.offset <= size ? cursor.offset : 0
        } else {
            offset = max(0, size - window)
        }
        var tail = LogTail(path: path, identity: identity, size: size, offset: offset, bytes: [], firstRead: cursor == nil)
        guard size > offset else { return tail }
        let count = min(size - offset, window)
        let outcome = try await context.executors.executor(for: context.customer).run(CommandRequest(
            argv: ["dd", "if=\(path)", "bs=65536", "iflag=skip_bytes,count_bytes", "skip=\(offset)", "count=\(count)", "status=none"],
            timeout: 20, outputLimit: Int(count)))
        guard outcome.succeeded else { throw ProbeParseError.invalid("dd \(path): \(outcome.failureReason)") }
        tail.bytes = outcome.bytes
        return tail
    }
}
