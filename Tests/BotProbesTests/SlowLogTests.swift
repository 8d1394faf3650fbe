import BotCore
import BotProbes
import Foundation
import Subprocess
import SystemPackage
import Testing

@Suite struct FingerprintTests {
    /// PROTOCOLS.md §6: percona-toolkit's own `t/lib/QueryRewriter.t` cases.
    static let perconaCases: [(String, String)] = [
        ("SELECT * from foo where a = 5", "select * from foo where a = ?"),
        ("select * from foo where a in (5) and b in (5, 8,9 ,9 , 10)", "select * from foo where a in(?+) and b in(?+)"),
        ("insert into foo(a, b, c) values(2, 4, 5) , (2,4,5)", "insert into foo(a, b, c) values(?+)"),
        ("select * from foo limit 5 offset 10", "select * from foo limit ?"),
        ("select 1 union all select 2 union all select 4", "select ? /*repeat union all*/"),
        ("select * from t where i=1 order by a, b ASC, d DESC, e asc", "select * from t where i=? order by a, b, d desc, e"),
        ("use `foo`", "use ?"),
        ("select \n--bar\n foo", "select foo"),
        ("select null, 5.001, 5001. from foo", "select ?, ?, ? from foo"),
        ("select 0x0, x'123', 0b1010, b'10101' from foo", "select ?, ?, ?, ? from foo"),
        ("select foo_1 from foo_2_3", "select foo_? from foo_?_?"),
        ("CALL foo(1, 2, 3)", "call foo"),
        ("SELECT * FROM tbl WHERE id=1 AND flag=true AND trueflag=FALSE", "select * from tbl where id=? and flag=? and trueflag=?"),
        ("SELECT /*!40001 SQL_NO_CACHE */ * FROM `film`", "mysqldump"),
        ("administrator command: Init DB", "administrator command: Init DB"),
        ("SELECT option_value FROM wp_2_options WHERE option_name = 'siteurl' LIMIT 1",
         "select option_value from wp_?_options where option_name = ? limit ?"),
    ]

    /// More shapes from real WooCommerce and Magento traffic, checked against Debian's pt-fingerprint.
    static let moreCases = [
        "SELECT * FROM wp_options WHERE option_name = 'it\\'s' AND autoload = \"yes\"",
        "select /* comment */ a from b # trailing\nwhere c = -5 and d = +3.2e-4",
        "INSERT IGNORE INTO t (a) VALUES (1),(2),(3)",
        "REPLACE INTO t VALUES ('a', 1), ('b', 2)",
        "SELECT a FROM t WHERE b IN ( 1 , 2 ) AND c NOT IN ('x','y') ORDER BY a ASC, b asc LIMIT 10, 20",
        "select x from y limit 5,10",
        "SELECT `e`.* FROM `catalog_product_entity` AS `e` WHERE (e.entity_id IN(1, 2, 3)) LIMIT 12",
        "SELECT 1 UNION SELECT 1 UNION SELECT 2",
        "SELECT * FROM t WHERE a = NULL OR b IS NOT NULL OR nullable = 1",
        "select * from t where name = 'unterminated",
        "SELECT SQL_CALC_FOUND_ROWS wp_posts.ID FROM wp_posts\n  WHERE 1=1\n\tAND wp_posts.post_type = 'product'   ORDER BY wp_posts.menu_order ASC, wp_posts.post_title ASC LIMIT 0, 16",
        "update t set a = a - 1, b = b+1 where id = 0xFF",
        "select max(box1), abc123def, t.b1 from t",
        "call  proc_name(1)",
        "SELECT * FROM t1 WHERE a = 1 /*!50000 AND b = 2 */",
        "DELETE FROM wp_options WHERE option_name LIKE '\\_transient\\_%' -- cleanup 12",
        "select a from t where x in (select y from z where w in (1,2))",
        "SELECT * FROM `t` WHERE c = 'a''b'",
        "select sum(a) from t group by b order by c asc",
        "select * from t order by a ascending_col",
        "values(1)",
    ]

    @Test func perconaCasesAsPublished() {
        for (query, expected) in Self.perconaCases {
            #expect(QueryFingerprinter.fingerprint(query) == expected, "\(query)")
        }
    }

    @Test func agreesWithPTFingerprint() async throws {
        // Debian's pt-fingerprint 3.2.1 predates the true/false rule that its pt-query-digest (and current
        // Percona) apply: that case is checked above, against the published table, and left out here.
        let queries = Self.perconaCases.map(\.0).filter { !$0.contains("flag=true") } + Self.moreCases
        let theirs = try await Self.ptFingerprint(queries)
        #expect(theirs.count == queries.count)
        for (query, expected) in zip(queries, theirs) {
            #expect(QueryFingerprinter.fingerprint(query) == expected, "\(query)")
        }
    }

    @Test func queryIDIsPTQueryDigestChecksum() {
        // pt-query-digest 3.2.1's checksum for this class (its JSON output of PROTOCOLS.md §6's entry).
        #expect(QueryClass.queryID(of: Array("select id from wp_posts where post_status = ? order by post_date desc limit ?".utf8))
            == "F100BC3E07DB1C4AEBBE9E84A83CEC80")
    }

    /// Debian's percona-toolkit, installed by scripts/setup; one process for every query (`;\n` between them).
    static func ptFingerprint(_ queries: [String]) async throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fingerprints-\(UUID().uuidString).sql")
        try queries.map { $0 + ";\n" }.joined().write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await Subprocess.run(.path(FilePath("/usr/bin/pt-fingerprint")), arguments: [file.path],
                                              output: .string(limit: 1 << 20), error: .discarded)
        #expect(result.terminationStatus.isSuccess, "pt-fingerprint (Debian percona-toolkit) must be installed: scripts/setup does it")
        return result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}

@Suite struct SlowLogReaderTests {
    static let mysql8 = """
        /usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:
        Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock
        Time                 Id Command    Argument
        # Time: 2026-01-06T09:14:03.512345Z
        # User@Host: shop[shop] @ localhost []  Id:   482
        # Query_time: 2.418307  Lock_time: 0.000112 Rows_sent: 10  Rows_examined: 184220
        use shopdb;
        SET timestamp=1767690843;
        SELECT ID FROM wp_posts WHERE post_status = 'publish' ORDER BY post_date DESC LIMIT 0, 10;
        # Time: 2026-01-06T09:14:04.000001Z
        # User@Host: shop[shop] @ localhost []  Id:   482
        # Query_time: 0.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 2000 Thread_id: 482 Errno: 0 Killed: 0
        SET timestamp=1767690844;
        SELECT ID
          FROM wp_posts
         WHERE post_status = 'draft'
         ORDER BY post_date DESC LIMIT 10;
        /usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:
        Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock
        Time                 Id Command    Argument
        # Time: 2026-01-06T09:14:05.000000Z
        # User@Host: shop[shop] @ localhost []  Id:   483
        # Query_time: 0.000018  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0
        SET timestamp=1767690845;
        # administrator command: Quit;

        """

    static let mariadb = """
        # Time: 260106  9:14:03
        # User@Host: shop[shop] @ localhost []
        # Thread_id: 8123  Schema: shopdb  QC_hit: No
        # Query_time: 2.418307  Lock_time: 0.000112  Rows_sent: 10  Rows_examined: 184220
        # Rows_affected: 0  Bytes_sent: 1893
        SET timestamp=1767690843;
        SELECT option_value FROM wp_options WHERE option_name = 'siteurl' LIMIT 1;
        # User@Host: admin[admin] @ localhost []
        # Thread_id: 8124  Schema:  QC_hit: No
        # Query_time: 0.100000  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 1
        # Full_scan: No  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No
        # Filesort: No  Filesort_on_disk: No  Merge_passes: 0  Priority_queue: No
        SET timestamp=1767690843;
        SELECT option_value FROM wp_options WHERE option_name = 'home' LIMIT 1;

        """

    struct Seen: Equatable {
        var query: String, admin: Bool, time: Double, lock: Double, sent: Double, examined: Double
        var at: Int64?, database: String?, user: String?
    }

    static func read(_ log: String, chunk: Int? = nil) -> [Seen] {
        var reader = SlowLogReader(bufferBytes: 64 << 10)
        defer { reader.close() }
        var seen: [Seen] = []
        let collect: (borrowing SlowLogEvent) -> Void = { event in
            func text(_ b: UnsafeBufferPointer<UInt8>?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }
            seen.append(Seen(query: text(event.query)!, admin: event.isAdmin, time: event.queryTime, lock: event.lockTime,
                             sent: event.rowsSent, examined: event.rowsExamined, at: event.timestamp,
                             database: text(event.database), user: text(event.user)))
        }
        let bytes = Array(log.utf8)
        bytes.withUnsafeBufferPointer { all in
            let step = chunk ?? all.count
            var offset = 0
            while offset < all.count {
                let end = min(all.count, offset + step)
                reader.feed(UnsafeBufferPointer(rebasing: all[offset..<end]), collect)
                offset = end
            }
        }
        reader.finish(collect)
        return seen
    }

    /// Found by `scripts/fuzz`: an hour of more digits than any integer holds stopped the reader with an overflow.
    /// The entry's time is unreadable, so it takes the one in effect (here none): it is still read, not a crash.
    @Test func aTimeOfEndlessDigitsIsNoTimeAndNoCrash() {
        let seen = Self.read("""
            # Time: 260106 99999999999999999999999:14:03
            # User@Host: shop[shop] @ localhost []
            # Query_time: 2.5  Lock_time: 0.0 Rows_sent: 1  Rows_examined: 1
            use shop;
            SELECT 1;

            """)
        #expect(seen.map(\.query) == ["SELECT 1"])
    }

    @Test func mysql8WithBannersMultiLineAndAdmin() {
        let seen = Self.read(Self.mysql8)
        #expect(seen.count == 3)
        #expect(seen[0] == Seen(query: "SELECT ID FROM wp_posts WHERE post_status = 'publish' ORDER BY post_date DESC LIMIT 0, 10",
                                admin: false, time: 2.418307, lock: 0.000112, sent: 10, examined: 184220, at: 1767690843,
                                database: "shopdb", user: "shop"))
        #expect(seen[1].query.hasPrefix("SELECT ID\n  FROM wp_posts\n") && seen[1].query.hasSuffix("LIMIT 10"))
        #expect(seen[1].database == "shopdb", "the database carries over, as pt-query-digest inherits it")
        #expect(seen[1].time == 0.5 && seen[1].examined == 2000)
        #expect(seen[2].query == "administrator command: Quit" && seen[2].admin && seen[2].time == 0.000018)
        #expect(seen[2].user == "shop")
    }

    @Test func mariadbTimeSchemaAndVerbosityLines() {
        let seen = Self.read(Self.mariadb)
        #expect(seen.count == 2)
        #expect(seen[0].database == "shopdb" && seen[0].at == 1767690843 && seen[0].examined == 184220)
        #expect(seen[1].user == "admin" && seen[1].time == 0.1)
        #expect(seen[1].query == "SELECT option_value FROM wp_options WHERE option_name = 'home' LIMIT 1")
    }

    @Test func anyChunkingReadsTheSame() {
        let whole = Self.read(Self.mysql8 + Self.mariadb)
        for size in [1, 2, 7, 64, 1000] {
            #expect(Self.read(Self.mysql8 + Self.mariadb, chunk: size) == whole, "chunks of \(size)")
        }
    }

    @Test func digestRanksByTotalTimeWithFigures() {
        var digester = SlowLogDigester()
        var reader = SlowLogReader()
        defer { reader.close() }
        let log = Self.mariadb + Self.mysql8
        Array(log.utf8).withUnsafeBufferPointer { reader.feed($0) { digester.add($0) } }
        reader.finish { digester.add($0) }
        let digest = digester.digest()
        #expect(digest.entries == 5)
        #expect(digest.classes.map(\.count) == [2, 2, 1])
        let top = digest.classes[0]
        #expect(top.fingerprint == "select id from wp_posts where post_status = ? order by post_date desc limit ?")
        #expect(abs(top.queryTime.sum - 2.918307) < 1e-9 && top.queryTime.max == 2.418307)
        #expect(top.example.contains("'publish'") && top.databases == ["shopdb"] && top.users == ["shop"])
        let options = digest.classes[1]
        #expect(options.fingerprint == "select option_value from wp_options where option_name = ? limit ?")
        #expect(abs(options.queryTime.sum - 2.518307) < 1e-9 && options.users == ["shop", "admin"])
        #expect(options.databases == ["shopdb"], "an empty Schema: keeps the database before")
        #expect(options.firstSeen == Date(timeIntervalSince1970: 1767690843))

        // The report as an admin reads it: the worst class first, its share of all the time, figures, an example.
        let text = SlowLogText.render(SlowLogDigest(entries: digest.entries, classes: [top]), totalClasses: 3,
                                      totalTime: digest.classes.reduce(0) { $0 + $1.queryTime.sum }, source: "slow.log")
        #expect(text.hasPrefix("# slow.log: 5 entries in 3 classes; the 1 worst by total time\n\n## 1. \(top.queryID)  ×2  2.92 s in total (53.7 % of all the time)"), "\(text)")
        #expect(text.contains("   time    avg 1.46 s  p95 2.39 s  max 2.42 s"), "\(text)")
        #expect(text.contains("   example 2026-01-06 09:14:03 UTC, 2.42 s:\n     SELECT ID FROM wp_posts WHERE post_status = 'publish'"), "\(text)")

        var recent = SlowLogDigester(since: 1767690844)
        var again = SlowLogReader()
        defer { again.close() }
        Array(log.utf8).withUnsafeBufferPointer { again.feed($0) { recent.add($0) } }
        again.finish { recent.add($0) }
        #expect(recent.digest().entries == 2, "--since keeps the entries at or after it")
    }
}

@Suite struct ExplainAdviceTests {
    @Test func onlyOnePlainSelectIsExplained() {
        #expect(ExplainAdvice.refusal("SELECT * FROM wp_posts WHERE ID = 1;") == nil)
        #expect(ExplainAdvice.refusal("select a from t where b = 'x;y'") == nil, "a ; inside quotes is text")
        let refused = [
            "DELETE FROM t": "only a SELECT",
            "UPDATE t SET a = 1": "only a SELECT",
            "SELECT 1; DROP TABLE t": "exactly one statement",
            "SELECT 1 /* x */": "remove the comments",
            "SELECT 1 -- x": "remove the comments",
            "SELECT * FROM t INTO OUTFILE '/tmp/x'": "INTO OUTFILE",
            "SELECT * FROM t FOR UPDATE": "FOR UPDATE",
            "SELECT a INTO @x FROM t": "INTO @variable",
            "SELECT 'open": "quote is not closed",
            "selectx FROM t": "only a SELECT",
            "": "give the SELECT",
        ]
        for (sql, reason) in refused {
            #expect(ExplainAdvice.refusal(sql)?.contains(reason) == true, "\(sql): \(ExplainAdvice.refusal(sql) ?? "accepted")")
        }
    }

    @Test func fingerprintsBecomePlannableStatementsWhenTheyCan() {
        #expect(ExplainAdvice.explainable("select id from wp_posts where post_status = ? order by post_date desc limit ?")
            == "select id from wp_posts where post_status = '0' order by post_date desc limit 1")
        #expect(ExplainAdvice.explainable("select a from t where b in(?+)") == "select a from t where b in('0')")
        #expect(ExplainAdvice.explainable("select option_value from wp_?_options where option_name = ?") == nil)
        #expect(ExplainAdvice.explainable("select ? /*repeat union all*/") == nil)
        #expect(ExplainAdvice.explainable("update t set a = ?") == nil)
    }

    @Test func mysqlAndMariaDBPlansGiveFindings() throws {
        let mysql = #"{"query_block":{"select_id":1,"ordering_operation":{"using_filesort":true,"table":{"table_name":"wp_posts","access_type":"ALL","rows_examined_per_scan":184220,"attached_condition":"(`shop`.`wp_posts`.`post_status` = 'publish')"}}}}"#
        let analysis = try #require(ExplainAdvice.analyze(json: mysql, sql: "SELECT ID FROM wp_posts WHERE post_status = 'publish' ORDER BY post_date DESC"))
        #expect(analysis.findings.map(\.problem).contains("Full scan: it reads every row of `wp_posts` (about 184,220 rows) because no index fits."))
        #expect(analysis.findings.contains { $0.problem.hasPrefix("Sorts rows itself (filesort)") })
        #expect(analysis.index == IndexSuggestion(table: "wp_posts", columns: ["post_status"]))
        let mariadb = #"{"query_block":{"select_id":1,"filesort":{"sort_key":"wp_posts.post_date desc","temporary_table":{"table":{"table_name":"wp_posts","access_type":"ALL","rows":3000,"filtered":100,"attached_condition":"wp_posts.post_status = 'publish'"}}}}}"#
        let maria = try #require(ExplainAdvice.analyze(json: mariadb, sql: ""))
        #expect(maria.index == IndexSuggestion(table: "wp_posts", columns: ["post_status", "post_date"]))
        #expect(maria.findings.contains { $0.problem.hasPrefix("Builds a temporary table") })
        #expect(ExplainAdvice.analyze(json: "not json", sql: "") == nil)
    }
}
