import Foundation

/// `docker stats --no-stream --format '{{json .}}' <container>`: one JSON object per container.
public struct DockerStats: Sendable, Equatable {
    /// CPU in percent of one core (above 100 when it uses several).
    public var cpuPercentOfOneCore: Double
    public var memoryPercent: Double

    public init(json line: String) throws(ProbeParseError) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              let cpu = (object["CPUPerc"] as? String).flatMap(Self.percent),
              let memory = (object["MemPerc"] as? String).flatMap(Self.percent) else {
            throw .invalid("docker stats: expected CPUPerc and MemPerc in '\(line.prefix(80))'")
        }
        cpuPercentOfOneCore = cpu
        memoryPercent = memory
    }

    /// `"12.34%"` → 12.34; docker prints `--` for a stopped container.
    static func percent(_ text: String) -> Double? {
        Double(text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: ""))
    }
}

/// What `cat memory.current memory.max memory.events cpu.stat` prints inside a container with cgroup v2.
public struct CgroupStats: Sendable, Equatable {
    public var memoryBytes: Double
    /// nil when `memory.max` is `max` (no limit).
    public var memoryLimit: Double?
    /// Cumulative OOM kills (`memory.events` `oom_kill`).
    public var oomKills: Double
    /// Cumulative CPU time, microseconds (`cpu.stat` `usage_usec`).
    public var cpuMicroseconds: Double

    public init(_ output: String) throws(ProbeParseError) {
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count >= 2, let current = Double(lines[0]) else {
            throw .invalid("cgroup: expected memory.current then memory.max, got '\(output.prefix(80))'")
        }
        memoryBytes = current
        memoryLimit = lines[1] == "max" ? nil : Double(lines[1])
        guard lines[1] == "max" || memoryLimit != nil else { throw .invalid("cgroup: memory.max is '\(lines[1].prefix(20))'") }
        var fields: [String: Double] = [:]
        for line in lines.dropFirst(2) {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { fields[String(parts[0])] = value }
        }
        guard let kills = fields["oom_kill"], let usage = fields["usage_usec"] else {
            throw .invalid("cgroup: expected oom_kill (memory.events) and usage_usec (cpu.stat)")
        }
        oomKills = kills
        cpuMicroseconds = usage
    }

    public var memoryPercent: Double? { memoryLimit.map { memoryBytes / max($0, 1) * 100 } }
}

/// `df -P -B1 PATH`: the filesystem holding PATH, in bytes (POSIX layout, one line per filesystem).
public struct DiskUsage: Sendable, Equatable {
    public var sizeBytes: Double
    public var usedBytes: Double

    public init(_ output: String) throws(ProbeParseError) {
        let lines = output.split(whereSeparator: \.isNewline)
        guard lines.count >= 2, lines[0].hasPrefix("Filesystem") else { throw .invalid("df: no header in '\(output.prefix(80))'") }
        let fields = lines[lines.count - 1].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 6, let size = Double(fields[fields.count - 5]), let used = Double(fields[fields.count - 4]), size > 0 else {
            throw .invalid("df: cannot read '\(lines[lines.count - 1].prefix(80))'")
        }
        sizeBytes = size
        usedBytes = used
    }

    public var percent: Double { usedBytes / sizeBytes * 100 }
}
