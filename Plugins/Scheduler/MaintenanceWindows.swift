import BotCore
import Foundation

/// The maintenance windows derived from each store's traffic: its quietest two hours of the week over the last
/// four weeks of `requests`, worked out at most once a day, in the background (a fleet's rollups take a while).
actor DerivedWindows {
    private var windows: [StoreID: MaintenanceWindow] = [:]
    private var computedAt: Date?
    private var computing = false

    /// The windows known now; starts working them out again when the last result is a day old.
    func current(now: Date, load: @escaping @Sendable () async throws -> [StoreID: [Int: Double]]) -> [StoreID: MaintenanceWindow] {
        if !computing, computedAt.map({ now.timeIntervalSince($0) >= 86400 }) ?? true {
            computing = true
            Task { await self.refresh(now: now, load: load) }
        }
        return windows
    }

    private func refresh(now: Date, load: @Sendable () async throws -> [StoreID: [Int: Double]]) async {
        defer { computing = false }
        guard let profiles = try? await load() else { return }
        windows = profiles.compactMapValues { MaintenanceWindow.quietest($0) }
        computedAt = now
    }

    /// Waits for a computation under way (tests, `check --once`).
    func settled() async {
        while computing { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

extension CheckCycle {
    /// A store's window: its own, or the one its traffic gives.
    func window(of customer: Customer, derived: [StoreID: MaintenanceWindow]) -> MaintenanceWindow? {
        customer.maintenanceWindow ?? derived[customer.id]
    }

    /// Every store whose maintenance window is open now is silenced until the window closes: once per opening,
    /// audited. Its end is then announced (only when something is still open) and what opened meanwhile handled.
    func openWindows(_ customers: [Customer], now: Date) async throws -> [CycleReport.Event] {
        let derived = await derivedWindows.current(now: now) { [store] in
            try await store.weeklyProfile(.requests, from: now.addingTimeInterval(-28 * 86400), to: now)
        }
        var events: [CycleReport.Event] = []
        for customer in customers {
            guard let window = window(of: customer, derived: derived), let opening = window.opening(containing: now) else { continue }
            let origin = customer.maintenanceWindow == nil ? "from its traffic" : "configured"
            guard try await store.startWindow(customer.id, opening: opening.start, until: opening.end,
                                              reason: "maintenance window \(window) (\(origin))") != nil else { continue }
            try await store.audit(actor: Silence.windowActor, channel: "policy", action: "window.start", store: customer.id,
                                  details: ["window": "\(window)", "origin": origin, "until": Wording.clockTime(opening.end)],
                                  result: "silenced", at: now)
            events.append(.init(store: customer.id, what: "maintenance window \(window) open until \(Wording.clockTime(opening.end))"))
        }
        return events
    }
}
