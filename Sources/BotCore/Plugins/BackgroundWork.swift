import Foundation

/// Runs work that may outlast Slack's 3-second limit for an answer.
public protocol BackgroundWork: Sendable {
    /// Starts `work`. Returns its reply when it finishes within `patience`; otherwise returns nil at
    /// once, and `late` receives the reply when the work is done.
    func run(patience: Duration, work: @escaping @Sendable () async -> BotReply,
             late: @escaping @Sendable (BotReply) async -> Void) async -> BotReply?
}

/// Runs the work inline and always answers with its reply (for the CLI and tests).
public struct InlineWork: BackgroundWork {
    public init() {}

    public func run(patience: Duration, work: @escaping @Sendable () async -> BotReply,
                    late: @escaping @Sendable (BotReply) async -> Void) async -> BotReply? {
        await work()
    }
}

/// A reply that one side fulfils and the other waits for, with the waiter free to give up.
actor ReplyPromise {
    private var reply: BotReply?
    private var waiter: CheckedContinuation<BotReply?, Never>?
    private var abandoned = false

    /// Hands over the reply; returns false when the waiter gave up (the reply must go out later).
    func fulfil(_ value: BotReply) -> Bool {
        guard !abandoned else { return false }
        reply = value
        waiter?.resume(returning: value)
        waiter = nil
        return true
    }

    /// Waits for the reply.
    func value() async -> BotReply? {
        if let reply { return reply }
        if abandoned { return nil }
        return await withCheckedContinuation { waiter = $0 }
    }

    /// Stops waiting: from now on the reply goes out later.
    func abandon() {
        guard reply == nil else { return }
        abandoned = true
        waiter?.resume(returning: nil)
        waiter = nil
    }
}

/// Runs background work as children of one long-running service, so nothing is fire-and-forget and
/// shutdown waits for work in progress.
public final class JobRunner: BackgroundWork, BotService {
    public let name = "background"
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let submit: AsyncStream<@Sendable () async -> Void>.Continuation

    public init() {
        (jobs, submit) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await job() }
            }
        }
    }

    public func run(patience: Duration, work: @escaping @Sendable () async -> BotReply,
                    late: @escaping @Sendable (BotReply) async -> Void) async -> BotReply? {
        let promise = ReplyPromise()
        submit.yield {
            let reply = await work()
            if await !promise.fulfil(reply) { await late(reply) }
        }
        return await withTaskGroup(of: BotReply?.self) { group in
            group.addTask { await promise.value() }
            group.addTask {
                try? await Task.sleep(for: patience)
                await promise.abandon()
                return nil
            }
            let first = await group.next() ?? nil
            await promise.abandon()
            group.cancelAll()
            return first
        }
    }
}
