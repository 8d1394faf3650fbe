import ArgumentParser
import BotCore
import BotPlaybooks
import Foundation
import PerfbotApp

/// The admins' second factor for interventions.
struct Admins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Admins' second factor (TOTP) for interventions.",
                                                    subcommands: [Enroll.self])

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol an admin's authenticator app: prints the otpauth:// URI and its QR code (a new secret replaces the old).")

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The admin's Slack user id (U…).") var user: String

        func run() async throws {
            let configuration = try options.load()
            guard let id = SlackUserID(user) else { throw fail("`\(user.prefix(40))` is not a Slack user id (U… or W…)") }
            guard configuration.slackUsers.role(of: id) == .admin else {
                throw fail("\(id) is not an admin in PERFBOT_SLACK_USERS: only admins intervene")
            }
            let secret = TOTPFactor.newSecret()
            try await Runner.withStore(configuration, logger: makeLogger()) { try await $0.enrollFactor(id, secret: secret, at: Date()) }
            let uri = TOTPFactor.enrolmentURI(secret: secret, user: id)
            print("Enrolled \(id). Scan this with the admin's authenticator app, or enter the URI by hand:\n\n\(uri)\n")
            print(await Self.qrCode(uri) ?? "(Install qrencode to see the QR code here.)")
            print("\nA code is asked for each destructive intervention, in a Slack window; "
                + "a good one lasts \(Int(configuration.factorGrace / 60)) min. Enrol again to replace a lost phone.")
        }

        /// The URI as a QR code of terminal characters, through `qrencode` (the URI goes in a private file, not argv).
        static func qrCode(_ uri: String) async -> String? {
            let directory = URL(fileURLWithPath: PrivateHome.path)
            let file = directory.appendingPathComponent("enrol-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: file.path, contents: Data(uri.utf8), attributes: [.posixPermissions: 0o600])
            else { return nil }
            defer { try? FileManager.default.removeItem(at: file) }
            guard let outcome = try? await LocalExecutor().run(CommandRequest(argv: ["qrencode", "-t", "UTF8", "-m", "2", "-r", file.path],
                                                                             timeout: 10)),
                  outcome.succeeded else { return nil }
            return outcome.output
        }
    }
}
