import BotCore
import Foundation

/// Opens a Slack modal over a command or a click (`views.open`, within the ~3 s its `trigger_id` lives).
public protocol ModalOpener: Sendable {
    /// Opens `modal`. - Returns: nil when Slack opened it, else why not (in words, without secrets).
    func open(_ modal: ModalRequest, triggerID: String) async -> String?
}

/// `views.open` through the Slack Web API.
public struct SlackModalOpener: ModalOpener {
    let poster: any HTTPPoster
    let apiURL: URL
    let token: String

    public init(poster: any HTTPPoster, apiURL: URL, token: String) {
        self.poster = poster
        self.apiURL = apiURL
        self.token = token
    }

    public func open(_ modal: ModalRequest, triggerID: String) async -> String? {
        do {
            let answer = try await poster.post(apiURL.appendingPathComponent("views.open"),
                                               json: BlockKitRenderer.modal(modal, triggerID: triggerID).bytes(), bearer: token)
            guard (200..<300).contains(answer.status) else { return "Slack answered HTTP \(answer.status)" }
            let json = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
            guard json?["ok"] as? Bool == true else { return "Slack said \((json?["error"] as? String).map { String($0.prefix(80)) } ?? "no")" }
            return nil
        } catch {
            return "Slack could not be reached"
        }
    }
}

/// What perfbot sends through a modal and gets back on submission: the plugin's own metadata, and where the
/// command was asked (its `response_url`, for the outcome).
public struct ModalEnvelope: Sendable, Equatable, Codable {
    public var metadata: String
    public var responseURL: String?

    enum CodingKeys: String, CodingKey {
        case metadata = "m"
        case responseURL = "r"
    }

    public init(metadata: String, responseURL: String?) {
        self.metadata = metadata
        self.responseURL = responseURL
    }

    public var text: String { (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? "{}" }

    public init?(text: String) {
        guard let decoded = try? JSONDecoder().decode(ModalEnvelope.self, from: Data(text.utf8)) else { return nil }
        self = decoded
    }
}
