import CMaxMindDB
import Foundation

/// Countries of addresses from a MaxMind-format database (GeoLite2-Country, GeoIP2-Country or City, DB-IP's
/// country file), read with libmaxminddb, memory-mapped. `PERFBOT_GEOIP_DATABASE` names it.
public final class GeoIP: @unchecked Sendable {
    // Read-only after `MMDB_open`: libmaxminddb's lookups on one handle are safe from several threads.
    private var database = MMDB_s()

    /// Opens `path`; throws a sentence naming what is wrong.
    public init(path: String) throws {
        let status = perfbot_mmdb_open(path, &database)
        guard status == MMDB_SUCCESS else {
            throw GeoIPError(reason: "\(path): " + String(cString: MMDB_strerror(status)))
        }
    }

    deinit { MMDB_close(&database) }

    /// The database's type (`GeoLite2-Country`) and build date, for the report's footnote.
    public var description: String {
        let type = database.metadata.database_type.map { String(cString: $0) } ?? "MaxMind database"
        let built = Date(timeIntervalSince1970: TimeInterval(database.metadata.build_epoch))
        return "\(type), built \(built.formatted(.iso8601.year().month().day()))"
    }

    /// The country code of `address` packed in two bytes (`"DE"` → 0x4445), or 0 when not known.
    public func country(of address: String) -> UInt16 {
        var code: (CChar, CChar, CChar) = (0, 0, 0)
        let found = withUnsafeMutablePointer(to: &code) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: 3) { perfbot_mmdb_country(&database, address, $0) }
        }
        guard found == 1 else { return 0 }
        return UInt16(UInt8(bitPattern: code.0)) << 8 | UInt16(UInt8(bitPattern: code.1))
    }

    /// `"DE"` from its packed form.
    public static func code(_ packed: UInt16) -> String? {
        guard packed != 0 else { return nil }
        return String(decoding: [UInt8(packed >> 8), UInt8(packed & 0xFF)], as: UTF8.self)
    }
}

public struct GeoIPError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "the GeoIP database cannot be read: \(reason)" }
}
