import Foundation

/// A store's traffic in one UTC hour, from its access log (ORIGINAL-DESIGN §1.6): aggregates only, never a line or
/// an address. Kept per store and hour; what later reads of the same hour find is added in.
public struct TrafficHour: Sendable, Equatable, Codable {
    public var hour: Date
    public var requests: Int
    /// Requests of crawlers.
    public var bots: Int
    public var bytes: Int
    /// Requests by status class: index 1 is 1xx … 5 is 5xx (0: no status).
    public var statusClasses: [Int]
    public var notFound: Int
    /// Bytes by content kind (`html`, `images`, `scripts`, `styles`, `fonts`, `api`, `other`).
    public var bytesByKind: [String: Int]
    public var requestMilliseconds: Int
    public var timedRequests: Int
    /// Crawler name → requests, kind and whether it is abusive.
    public var crawlers: [String: CrawlerTally]
    /// The most requested pages of the reads that fell in this hour (at most 20 each).
    public var paths: [String: Int]
    /// Country code → requests (empty without a GeoIP database).
    public var countries: [String: Int]

    public struct CrawlerTally: Sendable, Equatable, Codable {
        public var requests: Int
        public var kind: BotKind
        public var abusive: Bool
        public var evidence: String

        public init(requests: Int, kind: BotKind, abusive: Bool, evidence: String) {
            self.requests = requests
            self.kind = kind
            self.abusive = abusive
            self.evidence = evidence
        }
    }

    public init(hour: Date, requests: Int = 0, bots: Int = 0, bytes: Int = 0, statusClasses: [Int] = Array(repeating: 0, count: 6),
                notFound: Int = 0, bytesByKind: [String: Int] = [:], requestMilliseconds: Int = 0, timedRequests: Int = 0,
                crawlers: [String: CrawlerTally] = [:], paths: [String: Int] = [:], countries: [String: Int] = [:]) {
        self.hour = hour
        self.requests = requests
        self.bots = bots
        self.bytes = bytes
        self.statusClasses = statusClasses
        self.notFound = notFound
        self.bytesByKind = bytesByKind
        self.requestMilliseconds = requestMilliseconds
        self.timedRequests = timedRequests
        self.crawlers = crawlers
        self.paths = paths
        self.countries = countries
    }

    /// This hour with `other`'s figures (the same hour, read later) added in. Pages stay bounded: the 50 most
    /// requested are kept.
    public func adding(_ other: TrafficHour) -> TrafficHour {
        var sum = self
        sum.requests += other.requests
        sum.bots += other.bots
        sum.bytes += other.bytes
        sum.statusClasses = (0..<6).map { (statusClasses.indices.contains($0) ? statusClasses[$0] : 0)
            + (other.statusClasses.indices.contains($0) ? other.statusClasses[$0] : 0) }
        sum.notFound += other.notFound
        sum.bytesByKind.merge(other.bytesByKind, uniquingKeysWith: +)
        sum.requestMilliseconds += other.requestMilliseconds
        sum.timedRequests += other.timedRequests
        sum.crawlers.merge(other.crawlers) { a, b in
            CrawlerTally(requests: a.requests + b.requests, kind: a.kind, abusive: a.abusive || b.abusive, evidence: a.evidence)
        }
        sum.paths.merge(other.paths, uniquingKeysWith: +)
        if sum.paths.count > 50 {
            sum.paths = Dictionary(uniqueKeysWithValues: sum.paths.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(50).map { ($0.key, $0.value) })
        }
        sum.countries.merge(other.countries, uniquingKeysWith: +)
        return sum
    }
}

/// Where access-log traffic is kept.
public protocol TrafficStore: Sendable {
    /// Where perfbot is in the store's access log.
    func accessLogCursor(_ store: StoreID) async throws -> SlowLogCursor?
    /// Adds each hour's figures to what is stored for it and moves the cursor, in one transaction.
    func recordTraffic(_ store: StoreID, hours: [TrafficHour], cursor: SlowLogCursor, at: Date) async throws
    /// The store's hours in `from..<to`, oldest first.
    func trafficHours(_ store: StoreID, from: Date, to: Date) async throws -> [TrafficHour]
}
