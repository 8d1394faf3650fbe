import Logging
import Synchronization

/// Where pushed samples wait, durably, for the writer that files them: the same design on both engines.
///
/// A push's transaction writes its delivery record and its new samples to `sample_inbox`, a small table appended at
/// its end: a handful of pages. Filing them (the raw samples, their hourly rollups, the newest values and the cycle's
/// journal, each a page of its own per store and metric) is done after the push is answered, by the store's filer,
/// which takes every waiting sample, up to 5,000 a transaction. A push is acknowledged once its inbox
/// rows are committed, so a process killed before they are filed loses nothing: the store files what is left when it
/// opens.
///
/// Every read of samples or what is made of them waits until what this process acknowledged before it began is
/// filed (`settled()`), so a reader never misses a sample it could have seen.
public final class SampleInbox: Sendable {
    private struct State {
        /// The highest inbox sequence number committed, and the highest filed.
        var arrived: Int64 = 0
        var filed: Int64 = 0
        var filing = false
        var waiters: [(target: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    static let logger = Logger(label: "perfbot.store")

    public init() {}

    /// Notes that rows up to `seq` are committed and, when no filer runs, starts one: it calls `file` until everything
    /// noted is filed. `file` files one step and says whether it took everything waiting (fewer rows than a step): then
    /// every row committed before it began is filed, and the readers waiting for those go on at once, even while
    /// pushes keep arriving.
    public func arrived(_ seq: Int64, file: @escaping @Sendable () async throws -> Bool) {
        guard seq > 0 else { return }
        let start = state.withLock { state in
            state.arrived = max(state.arrived, seq)
            guard !state.filing else { return false }
            state.filing = true
            return true
        }
        if start { Task { await runFiler(file) } }
    }

    /// Files until nothing acknowledged is left. When a pass fails, the readers waiting for it go on with what is
    /// filed, and the pass is tried again after a pause that grows to half a minute: the samples stay in the inbox.
    private func runFiler(_ file: @Sendable () async throws -> Bool) async {
        while let target = nextTarget() {
            var failures = 0
            while true {
                do {
                    if try await file() { filed(target) }
                    break
                } catch {
                    failures += 1
                    if failures == 1 {
                        Self.logger.error("pushed samples could not be filed yet; they stay in the inbox",
                                          metadata: ["error": "\(error)"])
                        filed(target)
                    }
                    try? await Task.sleep(for: .seconds(min(30, failures)))
                }
            }
        }
    }

    /// What the next filing pass must reach, or nil when everything is filed (and the filer stops).
    private func nextTarget() -> Int64? {
        state.withLock { state in
            if state.filed >= state.arrived {
                state.filing = false
                return nil
            }
            return state.arrived
        }
    }

    /// Notes that rows up to `seq` are filed (or, after a failure, that readers must not wait for them), and wakes the
    /// readers waiting for no more than that.
    private func filed(_ seq: Int64) {
        let ready = state.withLock { state in
            state.filed = max(state.filed, seq)
            let ready = state.waiters.filter { $0.target <= state.filed }
            state.waiters.removeAll { $0.target <= state.filed }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Returns once every sample acknowledged before the call is filed.
    public func settled() async {
        let target = state.withLock { $0.arrived > $0.filed ? $0.arrived : nil }
        guard let target else { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.filed >= target { return true }
                state.waiters.append((target, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
