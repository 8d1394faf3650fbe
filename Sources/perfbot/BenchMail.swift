import ArgumentParser
import BotChannels
import Foundation

/// `perfbot bench-mail`: how long turning hostile HTML mail into text takes, per 1 MiB case.
struct BenchMail: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-mail", abstract: "Benchmark reading hostile HTML e-mail (1 MiB each) into text.")

    @Option(help: "Bytes per case.") var size = 1 << 20
    @Option(help: "Runs per case (the best is reported).") var runs = 5

    func run() throws {
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
            .joined(separator: " ") ?? "?"
        print("perfbot bench-mail — \(size) bytes a case, best of \(runs), load average \(load)")
        for (name, html) in HostileHTML.cases(size: size) {
            var best = Double.infinity
            var length = 0
            for _ in 0..<max(1, runs) {
                let started = DispatchTime.now().uptimeNanoseconds
                length = MIMEMessage.text(fromHTML: html).utf8.count
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
            }
            print(String(format: "%-22@ %8.1f ms  %7.1f MB/s  (%d bytes of text)", name as NSString, best,
                         Double(html.utf8.count) / 1e6 / (best / 1000), length))
        }
    }
}
