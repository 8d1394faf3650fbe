import BotCore
import CCurl
import CurlTransfer
import Dispatch
import Foundation

/// Sends e-mail through an SMTP server with libcurl: `smtp://` (STARTTLS when offered, required
/// with credentials off loopback), `smtps://`, and AUTH with a user and password.
public struct SMTPSender: Sendable {
    let url: String
    let user: String?
    let password: String?
    let timeout: TimeInterval
    let queue = DispatchQueue(label: "perfbot.smtp", attributes: .concurrent)

    public init(url: String, user: String? = nil, password: String? = nil, timeout: TimeInterval = 30) {
        self.url = url
        self.user = user
        self.password = password
        self.timeout = timeout
        _ = CurlTransfer.initialized
    }

    /// Why a message was not sent (the server's or libcurl's words; never the password).
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Sends `message` to its recipient; the blocking transfer runs on a Dispatch queue.
    public func send(_ message: MailMessage) async throws {
        let data = Array(message.rendered().utf8)
        let (url, user, password, timeout) = (self.url, self.user, self.password, self.timeout)
        let sender = Self.address(in: message.from)
        let recipient = Self.address(in: message.to)
        let result: String? = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Self.perform(url: url, user: user, password: password, timeout: timeout,
                                                            from: sender, to: recipient, data: data))
            }
        }
        if let result { throw Failure(reason: result) }
    }

    /// `Name <a@b>` → `<a@b>`; `a@b` → `<a@b>`.
    static func address(in text: String) -> String {
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            return String(text[open...close])
        }
        return "<\(text.trimmingCharacters(in: .whitespaces))>"
    }

    /// The upload in progress, handed to libcurl's read callback.
    final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// Returns nil on success, else the reason.
    static func perform(url: String, user: String?, password: String?, timeout: TimeInterval, from: String, to: String,
                        data: [UInt8]) -> String? {
        guard let handle = curl_easy_init() else { return "libcurl could not start" }
        defer { curl_easy_cleanup(handle) }
        let upload = Upload(data)
        let context = Unmanaged.passRetained(upload)
        defer { context.release() }
        let recipients = curl_slist_append(nil, to)
        defer { curl_slist_free_all(recipients) }
        _ = ccurl_setopt_str(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        let loopback = url.contains("://127.0.0.1") || url.contains("://localhost") || url.contains("://[::1]")
        if url.hasPrefix("smtp://") {
            // Credentials never cross a network in the clear; on loopback plain SMTP is fine.
            _ = ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int((user != nil && !loopback) ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        }
        if let user { _ = ccurl_setopt_str(handle, CURLOPT_USERNAME, user) }
        if let password { _ = ccurl_setopt_str(handle, CURLOPT_PASSWORD, password) }
        _ = ccurl_setopt_str(handle, CURLOPT_MAIL_FROM, from)
        _ = ccurl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        _ = ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        _ = ccurl_setopt_ptr(handle, CURLOPT_READDATA, context.toOpaque())
        _ = ccurl_setopt_read(handle) { buffer, size, count, pointer in
            guard let buffer, let pointer else { return 0 }
            let upload = Unmanaged<Upload>.fromOpaque(pointer).takeUnretainedValue()
            let length = min(size * count, upload.bytes.count - upload.offset)
            guard length > 0 else { return 0 }
            upload.bytes.withUnsafeBufferPointer { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + upload.offset, byteCount: length)  // non-empty: length > 0
            }
            upload.offset += length
            return length
        }
        let code = curl_easy_perform(handle)
        return code == CURLE_OK ? nil : String(cString: curl_easy_strerror(code))
    }
}
