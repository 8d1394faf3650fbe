import BotCore
import BotPlaybooks
import Foundation
import Testing

@Suite struct InjectionTests {
    static let hostile = [
        "acme; rm -rf /", "acme && reboot", "$(reboot)", "`reboot`", "acme'quoted", "acme\"quoted", "acme\nreboot",
        "../../etc", "-oProxyCommand=reboot", "--help", "acme|tee", "acme > /etc/passwd", "acme\u{0}x", " acme", "",
    ]

    @Test(arguments: TemplateVariable.allCases)
    func everyVariableRefusesHostileValues(_ variable: TemplateVariable) {
        for value in Self.hostile {
            var values = TemplateValues()
            #expect(throws: PlaybookError.unsafeValue(variable: variable.rawValue), "\(variable) accepted \(value)") {
                try values.set(variable, value)
            }
        }
    }

    @Test func storeNamesAndExecutorsRefuseThemToo() {
        for value in Self.hostile {
            #expect(StoreID(value) == nil, "store id accepted \(value)")
            #expect(throws: ExecutorError.self) { try DockerExecutor(container: value) }
            #expect(throws: ExecutorError.self) { try SSHExecutor(host: value) }
        }
    }

    @Test func hostileCommandArgumentsNeverReachAProcess() async throws {
        let bot = try await OperationsBot(customers: [woo()])
        for text in ["optimize acme;reboot", "optimize \"acme-store; reboot\"", "run ../../bin/sh acme-store",
                     "run disk_filling acme-store && reboot", "optimize $(reboot)", "optimize `reboot`",
                     "automation acme-store skip ';reboot'", "run disk_filling --path=/ acme-store"] {
            let reply = await bot.ask(text, as: admin)
            #expect(reply.contains("Usage:") || reply.contains("is not") || reply.contains("has no option"), "\(text) → \(reply)")
        }
        #expect(bot.docker.runs().isEmpty)
    }

    @Test func aHostileValueStoredForACustomerStopsTheRunBeforeAnyProcess() async throws {
        // The customers file refuses such values; this one bypasses it, as a corrupted row would.
        let bot = try await OperationsBot(customers: [woo(container: "acme;reboot"),
                                                      woo("second-shop", container: "-oProxyCommand=reboot")])
        let first = await bot.ask("optimize acme-store")
        let second = await bot.ask("optimize second-shop")
        #expect(first.contains("Cannot run on acme-store: the store's container is not a safe value for a command"))
        #expect(second.contains("Cannot run on second-shop"))
        #expect(bot.docker.runs().isEmpty)
    }
}
