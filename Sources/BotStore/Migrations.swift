import BotCore
import GRDB

/// The schema: ORIGINAL-DESIGN §5 adapted to SQLite, plus what the bot needs to lose nothing
/// and act once. Times are Unix seconds (INTEGER); JSON columns hold text checked by `json_valid`.
enum Migrations {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core-schema") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2-scheduler") { db in
            try db.execute(sql: v2)
        }
        migrator.registerMigration("v3-monitor-alerts") { db in
            try db.execute(sql: v3)
        }
        migrator.registerMigration("v4-probes") { db in
            try db.execute(sql: "ALTER TABLE customers ADD COLUMN probes TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(probes))")
        }
        migrator.registerMigration("v5-store-settings") { db in
            try db.execute(sql: "ALTER TABLE customers ADD COLUMN settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings))")
        }
        migrator.registerMigration("v6-jobs-retention") { db in
            try db.execute(sql: v6)
        }
        migrator.registerMigration("v7-report-opt-outs") { db in
            // Contacts who wrote "reports off": no weekly report for that store.
            try db.execute(sql: """
                CREATE TABLE report_opt_outs (
                    customer_id TEXT PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
                    at INTEGER NOT NULL
                ) STRICT
                """)
        }
        migrator.registerMigration("v8-slow-queries-hourly") { db in
            // Nothing wrote the v1 table; it becomes per store, class and hour, with the reading position.
            try db.execute(sql: v8)
        }
        migrator.registerMigration("v9-collector-status") { db in
            // What each of a store's readings came from, when it last worked, and its last error.
            try db.execute(sql: """
                CREATE TABLE collector_status (
                    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    reading TEXT NOT NULL,
                    source TEXT NOT NULL,
                    last_success_at INTEGER,
                    last_error TEXT,
                    last_error_at INTEGER,
                    PRIMARY KEY (customer_id, reading)
                ) STRICT
                """)
        }
        migrator.registerMigration("v10-plan-tiers") { db in
            // Premium is what a plan was declared to be, never "any name but basic": only `premium` keeps it
            // until the customers file is imported again with its plans declared.
            try db.execute(sql: """
                ALTER TABLE customers ADD COLUMN plan_premium INTEGER NOT NULL DEFAULT 0 CHECK (plan_premium IN (0, 1));
                UPDATE customers SET plan_premium = 1 WHERE plan = 'premium';
                """)
        }
        migrator.registerMigration("v11-status-links") { db in
            // A decision made on the status page is recorded as such (the CHECK grows `status_page`: the table is
            // rebuilt, as SQLite changes no constraint in place); every link mailed is recorded, to be revoked.
            try db.execute(sql: """
                CREATE TABLE approvals_v11 (
                    id TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    issue_id INTEGER REFERENCES performance_issues(id),
                    playbook_name TEXT NOT NULL,
                    steps TEXT NOT NULL CHECK (json_valid(steps)),
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    status TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
                    decided_at INTEGER,
                    decided_by TEXT,
                    channel TEXT CHECK (channel IS NULL OR channel IN ('email', 'slack', 'status_page')),
                    job_id INTEGER
                ) STRICT;
                INSERT INTO approvals_v11 SELECT id, customer_id, issue_id, playbook_name, steps, token_hash, created_at,
                    expires_at, status, decided_at, decided_by, channel, job_id FROM approvals;
                DROP TABLE approvals;
                ALTER TABLE approvals_v11 RENAME TO approvals;
                CREATE INDEX idx_approvals_status ON approvals (status, expires_at);

                CREATE TABLE status_links (
                    id TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    contact TEXT NOT NULL,
                    issued_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    revoked_at INTEGER
                ) STRICT;
                CREATE INDEX idx_status_links_customer ON status_links (customer_id, contact);
                """)
        }
        migrator.registerMigration("v12-store-tokens") { db in
            // Store-scoped metrics tokens: only their SHA-256 is kept; the token itself is shown once, at issue.
            try db.execute(sql: """
                CREATE TABLE store_tokens (
                    digest TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    issued_at INTEGER NOT NULL,
                    revoked_at INTEGER
                ) STRICT;
                CREATE INDEX idx_store_tokens_customer ON store_tokens (customer_id);
                """)
        }
        migrator.registerMigration("v13-job-kinds") { db in
            // What a job (and its approval) does is stored as a value; the rows written before get it from their name,
            // here, once.
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN kind TEXT CHECK (kind IS NULL OR json_valid(kind));
                ALTER TABLE approvals ADD COLUMN kind TEXT CHECK (kind IS NULL OR json_valid(kind));
                """)
            for table in ["jobs", "approvals"] {
                for row in try Row.fetchAll(db, sql: "SELECT rowid, playbook_name FROM \(table)") {
                    let kind = JobKind(legacyName: row[1])
                    try db.execute(sql: "UPDATE \(table) SET kind = ? WHERE rowid = ?", arguments: [try jsonText(kind), row[0] as Int64])
                }
            }
        }
        migrator.registerMigration("v14-typed-outbox") { db in
            // The outbox keeps what a message means (`Outbound`) and renders it when it sends it. Rows written
            // before hold rendered JSON: each becomes the typed message it carried, once, here.
            for row in try Row.fetchAll(db, sql: "SELECT id, channel, payload FROM outbox") {
                let message = LegacyOutbox.message(channel: row[1], payload: row[2])
                if let message {
                    try db.execute(sql: "UPDATE outbox SET payload = ? WHERE id = ?", arguments: [try message.stored(), row[0] as Int64])
                } else {
                    try db.execute(sql: """
                        UPDATE outbox SET payload = '{}', status = CASE WHEN status = 'sent' THEN 'sent' ELSE 'failed' END,
                            last_error = COALESCE(last_error, 'unreadable after the upgrade to typed messages')
                        WHERE id = ?
                        """, arguments: [row[0] as Int64])
                }
            }
        }
        migrator.registerMigration("v15-open-platforms", foreignKeyChecks: .deferred) { db in
            // Which platforms exist is for the packs to say, not the schema: the CHECK that named two goes (the table
            // is rebuilt, as SQLite changes no constraint in place) and a platform name is only checked for its form.
            guard let create = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'customers'"),
                  let check = create.range(of: "CHECK (platform IN ('woocommerce', 'magento'))") else { return }
            var rebuilt = create.replacingCharacters(in: check, with: "CHECK (length(platform) BETWEEN 1 AND 32)")
            rebuilt = rebuilt.replacingOccurrences(of: "CREATE TABLE customers", with: "CREATE TABLE customers_v15")
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(customers)").map { row -> String in "\"\(row["name"] as String)\"" }
                .joined(separator: ", ")
            try db.execute(sql: rebuilt)
            try db.execute(sql: "INSERT INTO customers_v15 (\(columns)) SELECT \(columns) FROM customers")
            try db.execute(sql: "DROP TABLE customers")
            try db.execute(sql: "ALTER TABLE customers_v15 RENAME TO customers")
        }
        migrator.registerMigration("v16-platform-names") { db in
            // The name people use for a store's platform is kept with the store, as its pack gave it on import: the
            // database needs no list of platforms to show it.
            try db.execute(sql: "ALTER TABLE customers ADD COLUMN platform_name TEXT")
            try db.execute(sql: "UPDATE customers SET platform_name = 'WooCommerce' WHERE platform = 'woocommerce'")
            try db.execute(sql: "UPDATE customers SET platform_name = 'Magento' WHERE platform = 'magento'")
        }
        migrator.registerMigration("v17-sample-journal") { db in
            // Every new sample, in the order it was stored, for the check cycle that keeps its rules' state in
            // memory and reads only what arrived since its last pass (its mark). The cycle forgets what it read;
            // retention drops what no cycle read within the samples' own period.
            try db.execute(sql: """
                CREATE TABLE sample_journal (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    customer_id TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    value REAL NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v18-scheduled-jobs") { db in
            // A job may wait for a time (an intervention asked for off-peak, or for a date); a store may have a
            // maintenance window ("sun 02:00-04:00", UTC) in which it is silenced and its off-peak jobs run.
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN not_before INTEGER")
            try db.execute(sql: "ALTER TABLE customers ADD COLUMN maintenance_window TEXT")
        }
        migrator.registerMigration("v19-admin-factors") { db in
            // Each admin's TOTP secret for interventions, the last time step whose code was used (a code is good
            // once) and until when a good code lets them act without another.
            try db.execute(sql: """
                CREATE TABLE admin_factors (
                    slack_user TEXT PRIMARY KEY,
                    secret TEXT NOT NULL,
                    enrolled_at INTEGER NOT NULL,
                    last_step INTEGER NOT NULL DEFAULT -1,
                    verified_until INTEGER
                ) STRICT;
                """)
        }
        migrator.registerMigration("v20-fleet-health-daily") { db in
            // The fleet's average health score per UTC day (ORIGINAL-DESIGN §7), worked out once a day from the
            // snapshots and kept after they are pruned, for the admins' digest and its trend.
            try db.execute(sql: """
                CREATE TABLE fleet_health_daily (
                    day INTEGER PRIMARY KEY,
                    average REAL NOT NULL,
                    stores INTEGER NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v21-traffic") { db in
            // A store's traffic per UTC hour from its access log (aggregates as JSON, never a line or an address),
            // and where perfbot is in the log.
            try db.execute(sql: """
                CREATE TABLE traffic_hours (
                    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    hour INTEGER NOT NULL,
                    figures TEXT NOT NULL CHECK (json_valid(figures)),
                    PRIMARY KEY (customer_id, hour)
                ) STRICT;
                CREATE TABLE access_log_cursors (
                    customer_id TEXT PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    identity TEXT NOT NULL,
                    offset INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v22-sample-inbox") { db in
            // Pushed samples acknowledged and not yet filed into metric_samples, metric_rollups, metric_latest and
            // sample_journal: a push appends here and is answered; one writer files them in batches right after.
            // Empty whenever the store is open and idle (it is filed at open), so `perfbot db copy` leaves it out.
            try db.execute(sql: """
                CREATE TABLE sample_inbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    customer_id TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    value REAL NOT NULL,
                    UNIQUE (customer_id, metric, at)
                ) STRICT;
                """)
        }
        migrator.registerMigration("v23-customers-version") { db in
            // A number that moves whenever a column a store is read with changes, in any process: the stores are
            // read again only then (`CustomerCache`), not at every cycle. The cycle's own writes of the last
            // health score leave it alone.
            try db.execute(sql: """
                CREATE TABLE customers_version (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    version INTEGER NOT NULL
                ) STRICT;
                INSERT INTO customers_version (id, version) VALUES (1, 0);
                CREATE TRIGGER customers_version_insert AFTER INSERT ON customers
                BEGIN UPDATE customers_version SET version = version + 1; END;
                CREATE TRIGGER customers_version_delete AFTER DELETE ON customers
                BEGIN UPDATE customers_version SET version = version + 1; END;
                CREATE TRIGGER customers_version_update AFTER UPDATE OF
                    id, platform, plan, plan_premium, automation_exceptions, probes, settings, platform_name, contact_email, url,
                    container, host, executor, automation_level, memory_limit_mb, cpu_cores, disk_limit_gb, catalog_size,
                    orders_per_day, active, maintenance_window
                ON customers
                BEGIN UPDATE customers_version SET version = version + 1; END;
                """)
        }
        return migrator
    }

    /// `slow_queries` per store, query class and hour (query_hash = pt-query-digest's checksum of the
    /// fingerprint; query_text = the fingerprint, never a statement with its literals), and where perfbot is
    /// in each store's slow log.
    static let v8 = """
        DROP TABLE slow_queries;
        CREATE TABLE slow_queries (
            id INTEGER PRIMARY KEY,
            customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
            query_hash TEXT NOT NULL,
            query_text TEXT NOT NULL,
            hour INTEGER NOT NULL,
            occurrence_count INTEGER NOT NULL,
            execution_time_ms REAL NOT NULL,
            max_time_ms REAL NOT NULL,
            lock_time_ms REAL NOT NULL,
            rows_examined REAL NOT NULL,
            rows_sent REAL NOT NULL,
            time_histogram TEXT NOT NULL CHECK (json_valid(time_histogram)),
            tables TEXT NOT NULL CHECK (json_valid(tables)),
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            UNIQUE (customer_id, query_hash, hour)
        ) STRICT;
        CREATE INDEX idx_slow_customer_hour ON slow_queries (customer_id, hour);
        CREATE INDEX idx_slow_last_seen ON slow_queries (last_seen);
        CREATE TABLE slow_log_cursors (
            customer_id TEXT PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            identity TEXT NOT NULL,
            offset INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        """

    /// Jobs (the one way anything acts), their steps, the plan an approval showed, what an issue's
    /// detection and resolution took, daily work's last run, and the indexes retention prunes by.
    static let v6 = """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        playbook_name TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        channel TEXT NOT NULL CHECK (channel IN ('slack', 'email', 'policy')),
        issue_id INTEGER REFERENCES performance_issues(id),
        approval_id TEXT,
        plan TEXT NOT NULL CHECK (json_valid(plan)),
        plan_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('requested', 'held', 'approved', 'queued', 'running', 'succeeded',
                                             'failed', 'interrupted', 'cancelled', 'expired')),
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        approved_at INTEGER,
        started_at INTEGER,
        ended_at INTEGER,
        summary TEXT
    ) STRICT;
    -- At most one job runs per store: the database itself refuses a second.
    CREATE UNIQUE INDEX idx_jobs_one_running ON jobs (customer_id) WHERE state = 'running';
    CREATE INDEX idx_jobs_state ON jobs (state, customer_id, id);
    CREATE INDEX idx_jobs_customer ON jobs (customer_id, id);
    CREATE TABLE job_steps (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        step_index INTEGER NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('succeeded', 'skipped', 'failed')),
        reason TEXT,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        PRIMARY KEY (job_id, step_index)
    ) STRICT;
    ALTER TABLE automation_actions ADD COLUMN job_id INTEGER;
    ALTER TABLE approvals ADD COLUMN job_id INTEGER;
    ALTER TABLE performance_issues ADD COLUMN onset_at INTEGER;
    CREATE TABLE daily_runs (
        name TEXT PRIMARY KEY,
        last_run_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX idx_outbox_sent ON outbox (status, sent_at);
    CREATE INDEX idx_deliveries_received ON webhook_deliveries (received_at);
    CREATE INDEX idx_snapshots_time ON performance_snapshots (timestamp);
    CREATE INDEX idx_external_alerts_time ON external_alerts (received_at);
    """

    static let v1 = """
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        platform TEXT NOT NULL CHECK (platform IN ('woocommerce', 'magento')),
        plan TEXT NOT NULL,
        contact_email TEXT NOT NULL,
        url TEXT,
        container TEXT,
        host TEXT,
        executor TEXT NOT NULL DEFAULT 'docker' CHECK (executor IN ('local', 'docker', 'ssh')),
        automation_level INTEGER NOT NULL DEFAULT 2 CHECK (automation_level BETWEEN 1 AND 3),
        automation_exceptions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(automation_exceptions)),
        memory_limit_mb INTEGER,
        cpu_cores REAL,
        disk_limit_gb INTEGER,
        catalog_size INTEGER,
        orders_per_day INTEGER,
        active INTEGER NOT NULL DEFAULT 1,
        last_health_score INTEGER,
        health_score_updated_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;

    -- Raw samples, kept 48 hours.
    CREATE TABLE metric_samples (
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        at INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (customer_id, metric, at)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX idx_metric_samples_at ON metric_samples (at);

    -- The newest sample of each metric of each store, kept as samples arrive, for the fleet views.
    CREATE TABLE metric_latest (
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        at INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (customer_id, metric)
    ) STRICT, WITHOUT ROWID;

    -- Hourly rollups, kept 90 days; maintained as samples arrive.
    CREATE TABLE metric_rollups (
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        hour INTEGER NOT NULL,
        count INTEGER NOT NULL,
        sum REAL NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        PRIMARY KEY (customer_id, metric, hour)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE performance_snapshots (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        timestamp INTEGER NOT NULL,
        health_score INTEGER NOT NULL CHECK (health_score BETWEEN 0 AND 100),
        ttfb_ms INTEGER, fcp_ms INTEGER, lcp_ms INTEGER,
        cpu_percent REAL, memory_percent REAL, disk_percent REAL,
        slow_query_count INTEGER, active_connections INTEGER, db_size_bytes INTEGER,
        redis_hit_rate REAL, varnish_hit_rate REAL
    ) STRICT;
    CREATE INDEX idx_snapshots_customer_time ON performance_snapshots (customer_id, timestamp);
    CREATE INDEX idx_snapshots_health ON performance_snapshots (health_score, timestamp);

    CREATE TABLE performance_issues (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        issue_type TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        title TEXT NOT NULL,
        detected_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        clear_since INTEGER,
        resolved_at INTEGER,
        auto_fixed INTEGER NOT NULL DEFAULT 0,
        details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
    ) STRICT;
    CREATE INDEX idx_issues_customer_open ON performance_issues (customer_id, resolved_at);
    CREATE INDEX idx_issues_severity ON performance_issues (severity, detected_at);
    CREATE UNIQUE INDEX idx_issues_one_open ON performance_issues (customer_id, issue_type) WHERE resolved_at IS NULL;

    CREATE TABLE automation_actions (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        issue_id INTEGER REFERENCES performance_issues(id),
        playbook_name TEXT NOT NULL,
        action_name TEXT NOT NULL,
        argv TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(argv)),
        executed_at INTEGER NOT NULL,
        duration_ms INTEGER,
        exit_code INTEGER,
        output TEXT,
        success INTEGER NOT NULL,
        result TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(result))
    ) STRICT;
    CREATE INDEX idx_actions_customer_time ON automation_actions (customer_id, executed_at);

    CREATE TABLE slow_queries (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        query_hash TEXT NOT NULL,
        query_text TEXT NOT NULL,
        execution_time_ms INTEGER NOT NULL,
        rows_examined INTEGER,
        rows_sent INTEGER,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        occurrence_count INTEGER NOT NULL DEFAULT 1,
        UNIQUE (customer_id, query_hash)
    ) STRICT;
    CREATE INDEX idx_slow_customer_time ON slow_queries (customer_id, last_seen);
    CREATE INDEX idx_slow_time ON slow_queries (execution_time_ms);

    CREATE TABLE lighthouse_probes (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        probed_at INTEGER NOT NULL,
        performance_score INTEGER,
        fcp_ms INTEGER, lcp_ms INTEGER, cls REAL, tbt_ms INTEGER, ttfb_ms INTEGER,
        full_report TEXT CHECK (full_report IS NULL OR json_valid(full_report))
    ) STRICT;
    CREATE INDEX idx_lighthouse_customer_time ON lighthouse_probes (customer_id, probed_at);

    CREATE TABLE admin_interventions (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        admin_user_id TEXT NOT NULL,
        playbook_name TEXT NOT NULL,
        executed_at INTEGER NOT NULL,
        reason TEXT,
        result TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(result))
    ) STRICT;
    CREATE INDEX idx_interventions_customer ON admin_interventions (customer_id);
    CREATE INDEX idx_interventions_admin ON admin_interventions (admin_user_id);

    -- Fixes waiting for a customer's or an operator's decision; the token is stored only hashed.
    CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        issue_id INTEGER REFERENCES performance_issues(id),
        playbook_name TEXT NOT NULL,
        steps TEXT NOT NULL CHECK (json_valid(steps)),
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
        decided_at INTEGER,
        decided_by TEXT,
        channel TEXT CHECK (channel IS NULL OR channel IN ('email', 'slack'))
    ) STRICT;
    CREATE INDEX idx_approvals_status ON approvals (status, expires_at);

    -- Every outgoing message, written with the event that caused it, delivered in the background.
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL CHECK (channel IN ('slack', 'email', 'slack_response')),
        destination TEXT NOT NULL,
        payload TEXT NOT NULL CHECK (json_valid(payload)),
        thread_key TEXT,
        created_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
        last_error TEXT,
        sent_at INTEGER
    ) STRICT;
    CREATE INDEX idx_outbox_due ON outbox (status, next_attempt_at);

    -- Every accepted inbound delivery, raw, with the key that makes a retry act once.
    CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        received_at INTEGER NOT NULL,
        content_type TEXT,
        body BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
        retry_count INTEGER NOT NULL DEFAULT 0,
        response_status INTEGER,
        response_body BLOB,
        processed_at INTEGER
    ) STRICT;
    CREATE INDEX idx_deliveries_time ON webhook_deliveries (source, received_at);

    CREATE TABLE silences (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        reason TEXT,
        created_by TEXT NOT NULL,
        end_announced INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX idx_silences_customer ON silences (customer_id, ends_at);

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        channel TEXT NOT NULL,
        action TEXT NOT NULL,
        customer_id TEXT,
        details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
        result TEXT
    ) STRICT;
    CREATE INDEX idx_audit_customer_time ON audit_log (customer_id, at);

    -- The insights feed (ORIGINAL-DESIGN §1.2).
    CREATE TABLE insights (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('issue', 'recommendation', 'resolved', 'action', 'prediction')),
        title TEXT NOT NULL,
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX idx_insights_customer_time ON insights (customer_id, at);
    """

    /// The scheduler's additions: Slack threads per issue, and which rule or alert an issue came from.
    static let v2 = """
    -- The Slack message that starts each thread (an issue's alert), so follow-ups reply in it.
    CREATE TABLE slack_threads (
        thread_key TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        ts TEXT NOT NULL
    ) STRICT;
    CREATE INDEX idx_outbox_thread ON outbox (thread_key);
    ALTER TABLE performance_issues ADD COLUMN source TEXT NOT NULL DEFAULT 'rule';
    """

    /// Alerts from Alertmanager and Grafana, every one kept (unknown stores too), deduplicated by
    /// fingerprint, status and start.
    static let v3 = """
    CREATE TABLE external_alerts (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        identity TEXT NOT NULL,
        status TEXT NOT NULL,
        starts_at TEXT NOT NULL DEFAULT '',
        store_label TEXT,
        customer_id TEXT REFERENCES customers(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        severity TEXT NOT NULL,
        summary TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        UNIQUE (source, identity, status, starts_at)
    ) STRICT;
    CREATE INDEX idx_external_alerts_unknown ON external_alerts (customer_id, received_at);
    """
}
