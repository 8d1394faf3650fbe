import BotCore
import BotPlaybooks
import Foundation
import Testing

/// What the store owner reads about each step of a fix they approved.
@Suite struct CustomerWordingTests {
    let reload = PlaybookAction(name: "Reload PHP-FPM if memory is still high", run: ["pkill", "-USR2", "-o", "php-fpm"],
                                when: MetricCondition(metric: .memoryPercent, op: .above, threshold: 85),
                                tags: [.restart], reversible: true, safe: false)

    func line(_ status: StepStatus, held: [Int: String] = [:]) -> String {
        StepResult(action: reload, argv: [], status: status, startedAt: Date()).customerLine(held: held)
    }

    @Test func stepsReadWithoutMetricNamesOrCommandOutput() {
        #expect(line(.succeeded) == "Reload PHP-FPM if memory is still high: done")
        #expect(line(.skipped("memory_percent is 61%, not > 85%"))
            == "Reload PHP-FPM if memory is still high: not needed (memory use is no longer above 85%)")
        #expect(line(.failed("exit code 1: pkill: permission denied"))
            == "Reload PHP-FPM if memory is still high: did not work; our team has been told and will look at it")
        let excluded = "'Reload PHP-FPM' restarts a service, which acme-store excludes (skip_restarts)"
        #expect(line(.skipped(excluded), held: [2: excluded]) == "Reload PHP-FPM if memory is still high: skipped (\(excluded))")
    }
}
