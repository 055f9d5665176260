#!/usr/bin/env python3
"""The lab's on-call endpoint: records every Alertmanager webhook notification it receives.

    webhook-receiver.py --bind ADDRESS --port PORT --out FILE

Each POST body (Alertmanager's webhook JSON) is appended to FILE as one JSON line
{"receivedAtMs": <epoch ms>, "path": ..., "payload": {...}}; GET /health answers 200. Loopback only.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not args.bind.startswith("127."):
        print("webhook-receiver: --bind must be a loopback address", file=sys.stderr)
        return 2

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 200 if self.path == "/health" else 404
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            received = int(time.time() * 1000)
            try:
                payload = json.loads(body.decode("utf-8") or "null")
            except ValueError:
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            line = json.dumps({"receivedAtMs": received, "path": self.path, "payload": payload})
            with LOCK, open(args.out, "a", encoding="utf-8") as out:
                out.write(line + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *values: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    print(f"webhook-receiver: listening on {args.bind}:{args.port}, writing {args.out}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
