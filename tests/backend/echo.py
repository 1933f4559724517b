#!/usr/bin/python3
"""Stand-in for the protected application: echoes what httpd forwarded.

    /usr/bin/python3 tests/backend/echo.py PORT

Listens on 127.0.0.1:PORT (0 picks a free port) and prints "READY <port>" once
listening. Any GET/POST/PUT/DELETE/PATCH/HEAD answers JSON:
    {"method": ..., "path": "/path?query", "headers": {name: value, ...},
     "body": "<request body as text>", "remote_user": <X-Remote-User or null>}
Repeated headers are joined with ", ". A request whose Accept includes text/html
gets a small HTML page ("Hello, <user>") listing the same headers instead.

For the tests (asked directly, not through httpd):
    GET  /__echo/requests   JSON list of the reports of every request echoed so far
    POST /__echo/reset      forgets them
"""

import html
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER_HEADERS = ("X-Remote-User", "X-OneLogin-User")
SEEN = []
SEEN_LOCK = threading.Lock()


def collect_headers(message):
    headers = {}
    for name, value in message.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def find_header(headers, wanted):
    for name, value in headers.items():
        if name.lower() == wanted.lower():
            return value
    return None


def html_page(report):
    user = None
    for name in USER_HEADERS:
        user = user or find_header(report["headers"], name)
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in sorted(report["headers"].items(), key=lambda kv: kv[0].lower())
        if k.lower() != "cookie"
    )
    greeting = f"Hello, {html.escape(user)}" if user else "Hello, anonymous"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>echo backend</title>
<style>body{{font-family:sans-serif;margin:2em}}th{{text-align:left;padding-right:1em}}
td{{font-family:monospace;word-break:break-all}}</style></head>
<body>
<h1 id="greeting">{greeting}</h1>
<p>{html.escape(report["method"])} {html.escape(report["path"])}</p>
<p><a href="/logout">Sign out</a></p>
<table>{rows}</table>
</body></html>
"""


class EchoHandler(BaseHTTPRequestHandler):
    server_version = "echo-backend/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: tests read the JSON instead
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def send_json(self, obj):
        payload = (json.dumps(obj, indent=1) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def control(self):
        self.read_body()
        with SEEN_LOCK:
            if self.path == "/__echo/reset":
                SEEN.clear()
            self.send_json(list(SEEN))

    def answer(self):
        if self.path in ("/__echo/requests", "/__echo/reset"):
            self.control()
            return
        headers = collect_headers(self.headers)
        report = {
            "method": self.command,
            "path": self.path,
            "headers": headers,
            "body": self.read_body(),
            "remote_user": find_header(headers, "X-Remote-User"),
        }
        with SEEN_LOCK:
            SEEN.append(report)
        if "text/html" in (self.headers.get("Accept") or ""):
            payload, ctype = html_page(report).encode(), "text/html; charset=utf-8"
        else:
            payload, ctype = (json.dumps(report, indent=1) + "\n").encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), EchoHandler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
