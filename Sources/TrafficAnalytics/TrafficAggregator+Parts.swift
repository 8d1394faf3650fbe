import BotCore
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TrafficAggregator {
    /// Reads the file at `path` in `parts` byte ranges at once (one per core), each cut at a line's end, and merges
    /// what each found. The result is the one a single pass gives.
    /// - Parameter smallest: a file smaller than this is read in one part.
    public static func read(path: String, parts: Int, bots: BotList = .shipped, geo: GeoIP? = nil,
                            pathLimit: Int = 50_000, smallest: Int = 8 << 20) throws -> TrafficAggregator {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AccessLogError.read("\(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw AccessLogError.read("\(path): \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        let count = size < smallest ? 1 : max(1, min(parts, 16))
        // The log's format, from its first request, for every part.
        let format = try firstFormat(descriptor)
        var cuts = [0]
        for index in 1..<count { cuts.append(try lineStart(descriptor, atOrAfter: size * index / count, size: size)) }
        cuts.append(size)
        let bounds = cuts
        // Each part writes its own element only.
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Result<TrafficAggregator, Error>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: count) { index in
            var part = TrafficAggregator(bots: bots, geo: geo, pathLimit: pathLimit, format: format)
            results[index] = Result { try part.read(descriptor: descriptor, from: bounds[index], to: bounds[index + 1]); return part }
        }
        var merged = try results[0]!.get()
        for index in 1..<count { merged.merge(try results[index]!.get()) }
        return merged
    }

    /// The format of the first line that parses within the file's first 64 KiB.
    static func firstFormat(_ descriptor: Int32) throws -> Format {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard read > 0 else { return .unknown }
        return buffer.withUnsafeBufferPointer { all in
            var start = 0
            for index in 0..<read where all[index] == 0x0A {
                if let line = AccessLogLine.parse(UnsafeBufferPointer(rebasing: all[start..<index])) {
                    return line.isCommon ? .common : .combined
                }
                start = index + 1
            }
            return .unknown
        }
    }

    /// The offset just after the first newline at or after `offset` (or the file's end).
    static func lineStart(_ descriptor: Int32, atOrAfter offset: Int, size: Int) throws -> Int {
        var position = offset
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while position < size {
            let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
            guard read > 0 else { throw AccessLogError.read(String(cString: strerror(errno))) }
            if let newline = buffer[0..<read].firstIndex(of: 0x0A) { return position + newline + 1 }
            position += read
        }
        return size
    }

    /// Reads the lines of `from..<to` of the open file `descriptor` (with `pread`, so parts can share it).
    mutating func read(descriptor: Int32, from: Int, to: Int) throws {
        let size = 4 << 20
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size)
        defer { buffer.deallocate() }
        var position = from, filled = 0
        while position < to || filled > 0 {
            let want = min(size - filled, to - position)
            var count = 0
            if want > 0 {
                count = pread(descriptor, buffer.baseAddress! + filled, want, off_t(position))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw AccessLogError.read(String(cString: strerror(errno)))
                }
                position += count
            }
            filled += count
            let end = count == 0 || position >= to
            let consumed = consume(UnsafeBufferPointer(rebasing: buffer[0..<filled]), final: end)
            if end { break }
            if consumed == 0, filled == size {
                lines += 1
                failed += 1
                filled = 0
                continue
            }
            let rest = filled - consumed
            if rest > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + consumed, rest) }
            filled = rest
        }
    }

    /// Adds what `other` read, from the part of the log after this one's.
    mutating func merge(_ other: TrafficAggregator) {
        lines += other.lines
        failed += other.failed
        bandwidth += other.bandwidth
        for code in other.statusCodes.indices where other.statusCodes[code] > 0 { statusCodes[code] += other.statusCodes[code] }
        other.visitors.forEach { hash, _ in visitors.add(hash) }
        firstSeen = min(firstSeen, other.firstSeen)
        lastSeen = max(lastSeen, other.lastSeen)
        // User agents and their crawlers, by hash and identity.
        var agentMap = [Int32](repeating: -1, count: other.agents.count)
        for (index, agent) in other.agents.enumerated() {
            if let known = agentIndex.value(agent.hash) {
                agentMap[index] = known
                continue
            }
            let bot = agent.bot >= 0 ? botSlot(other.bots[Int(agent.bot)]) : -1
            agentMap[index] = Int32(agents.count)
            agentIndex.insert(agent.hash, Int32(agents.count))
            agents.append(Agent(text: agent.text, bot: bot, hash: agent.hash))
        }
        for var client in other.clients {
            client.agent = agentMap[Int(client.agent)]
            if let known = clientIndex.value(client.key) {
                let slot = Int(known)
                clients[slot].requests += client.requests
                clients[slot].assets += client.assets
                clients[slot].errors += client.errors
                clients[slot].pages += client.pages
                clients[slot].firstSeen = min(clients[slot].firstSeen, client.firstSeen)
                clients[slot].lastSeen = max(clients[slot].lastSeen, client.lastSeen)
                for run in client.hours {
                    if let last = clients[slot].hours.last, last.0 == run.0 {
                        clients[slot].hours[clients[slot].hours.count - 1].1 += run.1
                    } else {
                        clients[slot].hours.append(run)
                    }
                }
            } else {
                clientIndex.insert(client.key, Int32(clients.count))
                clients.append(client)
            }
        }
        for hour in other.hours {
            guard let slot = hourIndex[hour.hour] else {
                hourIndex[hour.hour] = hours.count
                hours.append(hour)
                continue
            }
            hours[slot].requests += hour.requests
            hours[slot].bots += hour.bots
            hours[slot].bytes += hour.bytes
            for index in hour.statusClasses.indices { hours[slot].statusClasses[index] += hour.statusClasses[index] }
            for index in hour.bytesByKind.indices { hours[slot].bytesByKind[index] += hour.bytesByKind[index] }
            hours[slot].requestMilliseconds += hour.requestMilliseconds
            hours[slot].timedRequests += hour.timedRequests
        }
        lastHour = .min
        for path in other.paths {
            if let known = pathIndex.value(path.hash) {
                paths[Int(known)].requests += path.requests
            } else if paths.count < pathLimit {
                pathIndex.insert(path.hash, Int32(paths.count))
                paths.append(path)
            } else {
                otherPaths += path.requests
            }
        }
        otherPaths += other.otherPaths
    }
}
