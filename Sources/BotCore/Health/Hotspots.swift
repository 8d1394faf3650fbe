import Foundation

/// A host's readings from node_exporter (through Prometheus), matched to stores by their `host`.
public struct HostReading: Sendable, Equatable {
    /// Share of CPU time not idle, 0–1.
    public var cpuBusy: Double?
    /// Share of CPU time waiting for I/O, 0–1.
    public var ioWait: Double?
    /// Share of memory available, 0–1.
    public var memoryAvailable: Double?
    /// CPU pressure (PSI): share of time some task waited for a CPU, 0–1, where the kernel reports it.
    public var cpuPressure: Double?

    public init(cpuBusy: Double? = nil, ioWait: Double? = nil, memoryAvailable: Double? = nil, cpuPressure: Double? = nil) {
        self.cpuBusy = cpuBusy
        self.ioWait = ioWait
        self.memoryAvailable = memoryAvailable
        self.cpuPressure = cpuPressure
    }

    /// Why the host is saturated, in words; empty when it is not.
    public var saturation: [String] {
        var reasons: [String] = []
        if let cpuBusy, cpuBusy >= 0.9 { reasons.append("CPU \(Wording.number(cpuBusy * 100, decimals: 0)) % busy") }
        if let ioWait, ioWait >= 0.2 { reasons.append("\(Wording.number(ioWait * 100, decimals: 0)) % of CPU time waiting for disk") }
        if let memoryAvailable, memoryAvailable <= 0.1 {
            reasons.append("only \(Wording.number(memoryAvailable * 100, decimals: 0)) % of memory available")
        }
        if let cpuPressure, cpuPressure >= 0.5 {
            reasons.append("tasks waiting for a CPU \(Wording.number(cpuPressure * 100, decimals: 0)) % of the time")
        }
        return reasons
    }
}

/// Per-container traffic over a period from cAdvisor (through Prometheus), in bytes per second.
public struct ContainerTraffic: Sendable, Equatable {
    public var diskIO: [String: Double]
    public var network: [String: Double]

    public init(diskIO: [String: Double] = [:], network: [String: Double] = [:]) {
        self.diskIO = diskIO
        self.network = network
    }
}

/// Where the console reads containers' and hosts' use: a Prometheus with cAdvisor and node_exporter.
public protocol ResourceReadings: Sendable {
    /// Disk I/O (reads and writes) and network sent, per container name, averaged over `period`.
    func containerTraffic(period: TimeInterval) async throws -> ContainerTraffic
    /// Each host's readings now, by host name.
    func hosts() async throws -> [String: HostReading]
}

/// A store that takes more than its share (§3.2), with the evidence and what to do.
public struct Hotspot: Sendable, Equatable {
    public var store: StoreID
    public var host: String?
    public var evidence: [String]
    public var suggestions: [String]
}

/// What the hotspot criteria read per store over the period.
public struct HotspotInputs: Sendable {
    /// `cpu_percent` (of the plan's allocation) over the period.
    public var cpu: [StoreID: MetricAggregate] = [:]
    /// `memory_percent` over the period, counting samples at or above 90 %.
    public var memory: [StoreID: MetricAggregate] = [:]
    /// Samples of `active_connections` at or above 90 % of the store's `max_connections`.
    public var connectionsNearLimit: [StoreID: Int] = [:]
    public var traffic = ContainerTraffic()

    public init() {}
}

/// §3.2's criteria, over the fleet's readings of one period.
public enum HotspotAnalysis {
    /// CPU above twice the plan's allocation.
    public static let cpuShare = 200.0
    /// Memory above 90 % of its limit for most of the period.
    public static let memoryLevel = 90.0
    /// Far above peers: a modified z-score from 3.5 (Iglewicz and Hoaglin's outlier bound).
    public static let outlierZ = 3.5
    /// Connections near the limit this many times in the period: repeated exhaustion.
    public static let connectionRepeats = 3

    /// The stores that take more than their share, the worst (most criteria, then most CPU) first.
    public static func find(_ customers: [Customer], inputs: HotspotInputs, period: TimeInterval) -> [Hotspot] {
        let span = Wording.span(period)
        let containers = Dictionary(customers.compactMap { customer in customer.container.map { ($0, customer.id) } },
                                    uniquingKeysWith: { first, _ in first })
        let disk = Dictionary(inputs.traffic.diskIO.compactMap { name, value in containers[name].map { ($0, value) } },
                              uniquingKeysWith: +)
        let network = Dictionary(inputs.traffic.network.compactMap { name, value in containers[name].map { ($0, value) } },
                                 uniquingKeysWith: +)
        let diskValues = Array(disk.values), networkValues = Array(network.values)
        var found: [Hotspot] = []
        for customer in customers where customer.active {
            var evidence: [String] = [], suggestions: [String] = []
            if let cpu = inputs.cpu[customer.id], cpu.count > 0, cpu.mean > cpuShare {
                evidence.append("CPU averaged \(Wording.number(cpu.mean, decimals: 0)) % of its plan's allocation over \(span) "
                    + "(more than twice its share)")
                suggestions.append("move it to a plan with more CPU, or find what burns it (`/perf run high_cpu \(customer.id) --dry-run`)")
            }
            if let memory = inputs.memory[customer.id], memory.count > 0, memory.atOrAbove * 2 > memory.count {
                let share = Double(memory.atOrAbove) / Double(memory.count) * 100
                evidence.append("memory above \(Int(memoryLevel)) % of its limit for \(Wording.number(share, decimals: 0)) % of \(span)")
                suggestions.append("raise its memory limit (a larger plan), or look for what holds memory")
            }
            if let value = disk[customer.id], let z = FleetStatistics.robustZ(value, among: diskValues), z >= outlierZ {
                evidence.append("disk I/O \(Wording.bytes(value))/s, \(ratio(value, diskValues)) the fleet's median (robust z \(Wording.number(z, decimals: 1)))")
                suggestions.append("look for imports, backups or cron jobs hammering the disk; dedicated storage if it is its normal load")
            }
            if let value = network[customer.id], let z = FleetStatistics.robustZ(value, among: networkValues), z >= outlierZ {
                evidence.append("network out \(Wording.bytes(value))/s, \(ratio(value, networkValues)) the fleet's median (robust z \(Wording.number(z, decimals: 1)))")
                suggestions.append("check its access log for bots or hotlinking; a CDN for its media")
            }
            if let near = inputs.connectionsNearLimit[customer.id], near >= connectionRepeats {
                evidence.append("database connections at 90 % of the limit \(near) times in \(span)")
                suggestions.append("find the queries that hold connections (`/perf slow-queries \(customer.id)`), then pool them or raise max_connections")
            }
            if !evidence.isEmpty {
                found.append(Hotspot(store: customer.id, host: customer.host, evidence: evidence, suggestions: suggestions))
            }
        }
        return found.sorted {
            ($0.evidence.count, inputs.cpu[$0.store]?.mean ?? 0, $1.store.rawValue) > ($1.evidence.count, inputs.cpu[$1.store]?.mean ?? 0, $0.store.rawValue)
        }
    }

    /// "12×" against the median of `values`.
    static func ratio(_ value: Double, _ values: [Double]) -> String {
        guard let median = FleetStatistics.median(values), median > 0 else { return "far above" }
        return "\(Wording.number(value / median, decimals: value / median >= 10 ? 0 : 1))×"
    }
}

/// A saturated host: the tenant that drives it and those that suffer, with what to do (§3.2).
public struct NeighbourFinding: Sendable, Equatable {
    public var host: String
    public var saturation: [String]
    public var driver: StoreID?
    /// The driver's share of its tenants' CPU, 0–1.
    public var driverShare: Double?
    /// Tenants whose TTFB is well above their own baseline: (store, now, baseline).
    public var suffering: [(store: StoreID, ttfb: Double, baseline: Double)]

    public static func == (lhs: NeighbourFinding, rhs: NeighbourFinding) -> Bool {
        lhs.host == rhs.host && lhs.saturation == rhs.saturation && lhs.driver == rhs.driver && lhs.driverShare == rhs.driverShare
            && lhs.suffering.map(\.store) == rhs.suffering.map(\.store)
    }

    /// The message for the alerts channel.
    public var reply: BotReply {
        var lines = ["🏚️ *Noisy neighbour on \(host)*: " + saturation.joined(separator: ", ") + "."]
        if let driver, let driverShare {
            lines.append("Driven by *\(driver)*: \(Wording.number(driverShare * 100, decimals: 0)) % of the CPU its tenants use.")
        }
        if !suffering.isEmpty {
            lines.append("Suffering: " + suffering.map { "\($0.store) (TTFB \(Wording.number($0.ttfb, decimals: 0)) ms against "
                + "\(Wording.number($0.baseline, decimals: 0)) ms usually)" }.joined(separator: ", ") + ".")
        }
        var blocks: [ReplyBlock] = [.text(lines.joined(separator: "\n"))]
        if let driver {
            blocks.append(.context("Recommendation: move \(driver) to dedicated resources or a larger plan "
                + "(`/perf benchmark \(driver)`, `/perf hotspots --host \(host)`)."))
        }
        return BotReply(blocks)
    }
}

public enum NeighbourAnalysis {
    /// A tenant suffers when its TTFB over the last hour is at least this many times its own baseline.
    public static let sufferingRatio = 1.5

    /// The saturated hosts among `hosts`, each with its driver (the tenant using the most CPU cores: `cpu_percent`
    /// × its plan's cores) and the tenants whose TTFB is far above their baseline.
    public static func find(hosts: [String: HostReading], customers: [Customer], latest: [StoreID: MetricSnapshot],
                            ttfbNow: [StoreID: Double], ttfbBaseline: [StoreID: Double]) -> [NeighbourFinding] {
        var findings: [NeighbourFinding] = []
        for (host, reading) in hosts.sorted(by: { $0.key < $1.key }) {
            let saturation = reading.saturation
            guard !saturation.isEmpty else { continue }
            let tenants = customers.filter { $0.active && $0.host == host }
            let cores = tenants.compactMap { tenant -> (StoreID, Double)? in
                guard let share = latest[tenant.id]?.values[.cpuPercent] else { return nil }
                return (tenant.id, share / 100 * (tenant.limits.cpuCores ?? 1))
            }
            let total = cores.reduce(0) { $0 + $1.1 }
            let driver = cores.max { ($0.1, $1.0.rawValue) < ($1.1, $0.0.rawValue) }
            let suffering = tenants.compactMap { tenant -> (store: StoreID, ttfb: Double, baseline: Double)? in
                guard tenant.id != driver?.0, let now = ttfbNow[tenant.id], let baseline = ttfbBaseline[tenant.id], baseline > 0,
                      now >= baseline * sufferingRatio else { return nil }
                return (tenant.id, now, baseline)
            }
            findings.append(NeighbourFinding(host: host, saturation: saturation, driver: driver?.0,
                                             driverShare: total > 0 ? driver.map { $0.1 / total } : nil, suffering: suffering))
        }
        return findings
    }
}
