import BotCore
import Foundation
import BotProbes
import PerfbotApp
import Testing

@Suite struct CustomerFileTests {
    @Test func theDesignExampleImports() throws {
        let yaml = """
        customers:
          - id: acme-store
            platform: woocommerce
            plan: premium
            contact_email: dana@acme.example
            container: acme-store-app
            automation_level: 2
            automation_exceptions: [skip_restarts, skip_cache_clear]
            limits:
              memory_mb: 2048
              cpu_cores: 1.5
              disk_gb: 40
            catalog_size: 1200
            orders_per_day: 85
        """
        let customers = try CustomerFile.parse(yaml, isCSV: false)
        #expect(customers.count == 1)
        let acme = try #require(customers.first)
        #expect(acme.id.rawValue == "acme-store")
        #expect(acme.automationExceptions == ["skip_restarts", "skip_cache_clear"])
        #expect(acme.limits == ResourceLimits(memoryMB: 2048, cpuCores: 1.5, diskGB: 40))
        #expect(acme.executor == .docker)
    }

    @Test func aStoreMaySetItsOwnPlaybookValues() throws {
        let yaml = """
        customers:
          - id: widgets-inc
            platform: magento
            plan: premium
            contact_email: ops@widgets.example
            container: widgets-app
            settings:
              app_path: /srv/widgets/current
              db_name: widgets_prod
              varnish_url: http://10.0.4.7:6081/
        """
        let widgets = try #require(try CustomerFile.parse(yaml, isCSV: false).first)
        #expect(widgets.settings == ["app_path": "/srv/widgets/current", "db_name": "widgets_prod",
                                     "varnish_url": "http://10.0.4.7:6081/"])
        let csv = "id,platform,plan,contact_email,container,app_path,php_fpm_service\n"
            + "widgets-inc,magento,premium,ops@widgets.example,widgets-app,/srv/w,php8.2-fpm\n"
        #expect(try CustomerFile.parse(csv, isCSV: true).first?.settings == ["app_path": "/srv/w", "php_fpm_service": "php8.2-fpm"])

        let hostile = yaml.replacingOccurrences(of: "db_name: widgets_prod", with: "db_name: \"x; DROP DATABASE y\"")
        #expect(throws: CustomerFileErrors.self) { try CustomerFile.parse(hostile, isCSV: false) }
        do {
            _ = try CustomerFile.parse(hostile, isCSV: false)
        } catch {
            #expect(error.problems.map(\.description) == [
                "line 9: db_name: 'x; DROP DATABASE y' is not allowed (letters, digits and _, at most 64)"])
        }
        let unknown = yaml.replacingOccurrences(of: "db_name: widgets_prod", with: "container: other")
        do {
            _ = try CustomerFile.parse(unknown, isCSV: false)
            Issue.record("accepted an unknown setting")
        } catch {
            #expect(error.problems.first?.message == "settings: unknown field 'container' (expected access_log, app_path, db_client, db_name, db_option_file, db_readonly_user, db_user, deploy_resets_opcache, nginx_deny_file, php_fpm_listen, php_fpm_service, php_ini_dir, php_max_children, slow_log, varnish_url, web_root)")
        }
    }

    @Test func aTypoInAnExceptionIsRefusedWithTheValidOnes() {
        let yaml = """
        customers:
          - id: acme-store
            platform: woocommerce
            plan: premium
            contact_email: dana@acme.example
            container: acme-store-app
            automation_exceptions: [skip_restarst]
        """
        do {
            _ = try CustomerFile.parse(yaml, isCSV: false)
            Issue.record("a misspelt exception, which would exclude nothing, was imported")
        } catch {
            #expect(error.problems.map(\.description) == [
                "line 7: automation_exceptions: 'skip_restarst' is not an exception; valid: skip_cache_clear, skip_restarts, "
                    + "skip_kill_queries, skip_delete_files, skip_reindex, skip_purges, skip_rewrite, skip_optimize_tables",
            ])
        }
        // The words `/perf automation … skip` accepts are accepted here too, and stored by their full name.
        let aliases = yaml.replacingOccurrences(of: "[skip_restarst]", with: "[restarts, kill_query]")
        #expect((try? CustomerFile.parse(aliases, isCSV: false).first?.automationExceptions) == ["skip_restarts", "skip_kill_queries"])
    }

    @Test func yamlProblemsCarryTheirLines() {
        let yaml = """
        customers:
          - id: Acme Store
            platform: woocommerce
            plan: premium
            contact_email: dana@acme.example
            container: acme-app
          - id: widgets-inc
            platform: shopify
            plan: basic
            contact_email: ops@widgets.example
            container: widgets-app
          - id: third-shop
            platform: magento
            plan: basic
            contact_email: not-an-address
            container: third-app
            colour: blue
        """
        do {
            _ = try CustomerFile.parse(yaml, isCSV: false)
            Issue.record("accepted a broken file")
        } catch {
            #expect(error.problems.map(\.description) == [
                "line 2: id: 'Acme Store' is not a store name (lowercase letters, digits and -)",
                "line 8: platform: expected woocommerce or magento (the platform packs perfbot has)",
                "line 17: unknown field 'colour'",
            ])
        }
    }

    @Test func csvWithTheSameColumnsImportsAndReportsLines() throws {
        let csv = """
        id,platform,plan,contact_email,container,automation_level,automation_exceptions,memory_mb
        acme-store,woocommerce,premium,dana@acme.example,acme-app,3,skip_restarts;skip_cache_clear,2048
        "widgets-inc",magento,basic,"ops@widgets.example",widgets-app,,,

        """
        let customers = try CustomerFile.parse(csv, isCSV: true)
        #expect(customers.map(\.id.rawValue) == ["acme-store", "widgets-inc"])
        #expect(customers[0].automationLevel == .fullAuto)
        #expect(customers[0].automationExceptions == ["skip_restarts", "skip_cache_clear"])
        #expect(customers[1].automationLevel == .safeAutoFix)

        let broken = """
        id,platform,plan,contact_email,container,automation_level
        acme-store,woocommerce,premium,dana@acme.example,acme-app,7
        acme-store,woocommerce,premium,dana@acme.example,acme-app,1
        short,row
        """
        do {
            _ = try CustomerFile.parse(broken, isCSV: true)
            Issue.record("accepted a broken file")
        } catch {
            #expect(error.problems.map(\.description) == ["line 4: expected 6 columns, found 2"])
        }
        let duplicate = """
        id,platform,plan,contact_email,container,automation_level
        acme-store,woocommerce,premium,dana@acme.example,acme-app,7
        acme-store,woocommerce,premium,dana@acme.example,acme-app;rm -rf /,1
        """
        do {
            _ = try CustomerFile.parse(duplicate, isCSV: true)
            Issue.record("accepted a broken file")
        } catch {
            #expect(error.problems.map(\.description) == [
                "line 2: automation_level: expected 1, 2 or 3, got '7'",
                "line 3: container: expected a container name (letters, digits, _ . -), got 'acme-app;rm -rf /'",
            ])
        }
    }

    @Test func unknownColumnsAndMissingFieldsAreNamed() {
        #expect(throws: CustomerFileErrors.self) { try CustomerFile.parse("id,colour\nacme,blue\n", isCSV: true) }
        do {
            _ = try CustomerFile.parse("customers:\n  - id: acme-store\n    platform: magento\n", isCSV: false)
        } catch {
            #expect(error.problems.map(\.description) == ["line 2: plan is required"])
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func defaultsAreTheEmbeddedOnes() throws {
        let configuration = try PerfbotConfiguration.load(environment: [:])
        #expect(configuration.databasePath == "perfbot.sqlite")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.playbooksPath == "Playbooks")
        #expect(configuration.checkInterval == 60)
        #expect(configuration.slackSigningSecret == nil)
    }

    @Test func theEnvironmentOverridesTheFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString).yaml")
        try "PERFBOT_PORT: 9000\nPERFBOT_DATABASE: from-file.sqlite\nPERFBOT_SLACK_USERS: U0ADMIN01:admin\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let configuration = try PerfbotConfiguration.load(environment: ["PERFBOT_PORT": "9100"], file: file.path)
        #expect(configuration.port == 9100)
        #expect(configuration.databasePath == "from-file.sqlite")
        #expect(configuration.slackUsers.role(of: SlackUserID("U0ADMIN01")!) == .admin)
    }

    @Test func badValuesNameTheirKeyAndNeverEchoSecrets() {
        #expect(throws: ConfigurationError.invalid(key: "PERFBOT_PORT", reason: "expected a number from 0 to 65535")) {
            try PerfbotConfiguration(values: ["PERFBOT_PORT": "http"])
        }
        do {
            _ = try PerfbotConfiguration(values: ["PERFBOT_WEBHOOK_TOKEN": "short-secret"])
            Issue.record("accepted a short token")
        } catch {
            #expect(!"\(error)".contains("short-secret"))
        }
        let configuration = try? PerfbotConfiguration(values: ["SLACK_SIGNING_SECRET": "s3cr3t-value-123"])
        #expect(configuration?.summary.contains("s3cr3t") == false)
        #expect(configuration?.summary.contains("slack=on") == true)
    }
}

@Suite struct PrometheusConfigurationTests {
    @Test func aPrometheusSectionInTheFileSetsItsKeys() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("perfbot-\(UUID().uuidString).yaml")
        try """
            PERFBOT_PORT: 9000
            prometheus:
              url: http://prometheus:9090
              label: container
              cpu_cores: irate(container_cpu_usage_seconds_total[1m])

            """.write(to: file, atomically: true, encoding: .utf8)
        let configuration = try PerfbotConfiguration.load(environment: [:], file: file.path)
        #expect(configuration.prometheusURL == "http://prometheus:9090")
        #expect(configuration.prometheusQueries.label == "container")
        #expect(configuration.prometheusQueries.cpuCores == "irate(container_cpu_usage_seconds_total[1m])")
        #expect(configuration.prometheusQueries.oomKills == PrometheusQueries().oomKills)
        try "prometheus:\n  urll: http://x\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try PerfbotConfiguration.load(environment: [:], file: file.path) }
    }

    /// Plans are declared: a typo is refused with the nearest name, never read as premium.
    @Test func anUnknownPlanIsRefusedAndDeclaredPlansAreRead() throws {
        let yaml = "customers:\n  - {id: typo-shop, platform: woocommerce, plan: basci, contact_email: o@typo.example}\n"
        do {
            _ = try CustomerFile.parse(yaml, isCSV: false)
            Issue.record("a plan named basci was accepted")
        } catch {
            #expect(error.problems.map(\.message).first?.contains("plan: 'basci' is not a plan perfbot knows (did you mean basic?)") == true, "\(error.problems)")
            #expect(error.problems.map(\.message).first?.contains("basic") == true)
        }
        let catalog = try PlanCatalog.parse("gold:premium,starter:basic").get()
        let gold = try CustomerFile.parse(yaml.replacingOccurrences(of: "basci", with: "gold"), isCSV: false, plans: catalog)
        #expect(gold.first?.plan.isPremium == true && gold.first?.plan.rawValue == "gold")
        let starter = try CustomerFile.parse(yaml.replacingOccurrences(of: "basci", with: "starter"), isCSV: false, plans: catalog)
        #expect(starter.first?.plan.isPremium == false)
    }

    /// Two stores reading one server's slow log must each name their database, or each would see the other's queries.
    @Test func storesSharingASlowLogMustNameTheirDatabases() throws {
        func file(_ first: String, _ second: String) -> String {
            """
            customers:
              - {id: one-shop, platform: woocommerce, plan: premium, contact_email: o@one.example, executor: ssh, host: db1.example,
                 settings: {slow_log: /var/log/mysql/slow.log\(first)}}
              - {id: two-shop, platform: woocommerce, plan: premium, contact_email: o@two.example, executor: ssh, host: db1.example,
                 settings: {slow_log: /var/log/mysql/slow.log\(second)}}
            """
        }
        do {
            _ = try CustomerFile.parse(file("", ""), isCSV: false)
            Issue.record("two stores shared a slow log without db_name")
        } catch {
            #expect(error.problems.map(\.message) == ["settings.slow_log: 'two-shop' reads the same slow log as 'one-shop' (line 2); "
                + "give each its own db_name so each sees only its own database's queries"])
        }
        let apart = try CustomerFile.parse(file(", db_name: one", ", db_name: two"), isCSV: false)
        #expect(apart.map { $0.settings["db_name"] } == ["one", "two"])
    }
}
