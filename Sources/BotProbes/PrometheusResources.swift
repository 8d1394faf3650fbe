import BotCore
import Foundation

/// The PromQL of the admin console's resource readings: cAdvisor's disk and network counters per container, and
/// node_exporter's host series, whose host label (`instance` by default, its `:port` dropped) names a store's `host`.
public struct ResourceQueries: Sendable, Equatable {
    public var hostLabel = "instance"
    public var diskReads = #"rate(container_fs_reads_bytes_total{name!=""}[PERIOD])"#
    public var diskWrites = #"rate(container_fs_writes_bytes_total{name!=""}[PERIOD])"#
    public var networkSent = #"rate(container_network_transmit_bytes_total{name!=""}[PERIOD])"#
    public var hostCPUBusy = #"1 - avg by (HOST) (rate(node_cpu_seconds_total{mode="idle"}[5m]))"#
    public var hostIOWait = #"avg by (HOST) (rate(node_cpu_seconds_total{mode="iowait"}[5m]))"#
    public var hostMemoryAvailable = "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"
    public var hostCPUPressure = "rate(node_pressure_cpu_waiting_seconds_total[5m])"

    public init() {}
}

/// Containers' traffic and hosts' saturation from a Prometheus, one query per reading for the whole fleet.
public struct PrometheusResources: ResourceReadings {
    let client: PrometheusClient
    let queries: ResourceQueries
    /// The label that names a container (the collectors' `PERFBOT_PROMETHEUS_LABEL`).
    let containerLabel: String

    public init(client: PrometheusClient, queries: ResourceQueries = ResourceQueries(), containerLabel: String = "name") {
        self.client = client
        self.queries = queries
        self.containerLabel = containerLabel
    }

    /// A PromQL range for `period`: whole minutes, at least one.
    static func range(_ period: TimeInterval) -> String { "\(max(1, Int(period / 60)))m" }

    public func containerTraffic(period: TimeInterval) async throws -> ContainerTraffic {
        let range = Self.range(period)
        async let reads = client.query(queries.diskReads.replacingOccurrences(of: "PERIOD", with: range), label: containerLabel)
        async let writes = client.query(queries.diskWrites.replacingOccurrences(of: "PERIOD", with: range), label: containerLabel)
        async let sent = client.query(queries.networkSent.replacingOccurrences(of: "PERIOD", with: range), label: containerLabel)
        return ContainerTraffic(diskIO: try await reads.merging(try await writes, uniquingKeysWith: +), network: try await sent)
    }

    public func hosts() async throws -> [String: HostReading] {
        let label = queries.hostLabel
        func hostQuery(_ text: String) -> String { text.replacingOccurrences(of: "HOST", with: label) }
        async let busy = client.query(hostQuery(queries.hostCPUBusy), label: label)
        async let wait = client.query(hostQuery(queries.hostIOWait), label: label)
        async let memory = client.query(queries.hostMemoryAvailable, label: label)
        // Pressure is reported by kernels with PSI only; its absence is no failure.
        let pressure = (try? await client.query(queries.hostCPUPressure, label: label)) ?? [:]
        var readings: [String: HostReading] = [:]
        func host(_ instance: String) -> String {
            // `web-1:9100` → `web-1`; an IPv6 `[::1]:9100` keeps its brackets' content.
            if instance.hasPrefix("["), let close = instance.firstIndex(of: "]") {
                return String(instance[instance.index(after: instance.startIndex)..<close])
            }
            return instance.split(separator: ":").count == 2 ? String(instance.split(separator: ":")[0]) : instance
        }
        for (instance, value) in try await busy { readings[host(instance), default: HostReading()].cpuBusy = value }
        for (instance, value) in try await wait { readings[host(instance), default: HostReading()].ioWait = value }
        for (instance, value) in try await memory { readings[host(instance), default: HostReading()].memoryAvailable = value }
        for (instance, value) in pressure { readings[host(instance), default: HostReading()].cpuPressure = value }
        return readings
    }
}
