#!/usr/bin/env python3
"""Serves cAdvisor's container series for N containers named store-<i>-app, for a real Prometheus to scrape.

Usage: scripts/cadvisor-standin.py PORT N
"""
import http.server
import sys
import time

port, count = int(sys.argv[1]), int(sys.argv[2])
start = time.time()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        elapsed = time.time() - start
        out = []
        for name, kind, value in [
            ("container_memory_working_set_bytes", "gauge", lambda i: 268435456 + (i % 50) * 16777216),
            ("container_spec_memory_limit_bytes", "gauge", lambda i: 1073741824),
            ("container_cpu_usage_seconds_total", "counter", lambda i: 1000 + i + elapsed * (0.1 + (i % 10) / 20)),
            ("container_oom_events_total", "counter", lambda i: 0),
            ("container_fs_usage_bytes", "gauge", lambda i: 2147483648 + i * 1024),
        ]:
            out.append(f"# TYPE {name} {kind}")
            out.extend(f'{name}{{id="/docker/{i:06x}",name="store-{i}-app"}} {value(i)}' for i in range(count))
        body = ("\n".join(out) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
