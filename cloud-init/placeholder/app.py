#!/usr/bin/env python3
"""yQuant placeholder app: serves until a real app repository is configured.

Python 3 standard library only. Settings come from <root>/etc/yquant/node.env (root from YQ_ROOT,
or from this file's location under <root>/opt/yquant/). The release is read from RELEASE beside this
file (deploy.sh writes it).

  app.py --service frontend   HTTP on <NODE_IP>:<APP_PORT>:
                                GET  /health  -> 200 {"color": .., "release": .., "status": "ok"}
                                GET  /        -> 200 text naming the color
                                POST /orders  {"id": ".."} -> appends the id to
                                               <root>/var/lib/yquant/orders.log, 201 with the color
  app.py --service backend|sync   idle loop that logs a heartbeat every HEARTBEAT_SECONDS (10)
"""
import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ORDER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_BODY = 64 * 1024


def find_root():
    root = os.environ.get("YQ_ROOT")
    if root is not None:
        return root.rstrip("/")
    marker = "/opt/yquant/"
    if marker in HERE:
        return HERE[: HERE.index(marker)]
    return ""


def read_env(path):
    values = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, value = line.split("=", 1)
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                values[key] = value
    except OSError:
        pass
    return values


def read_release():
    try:
        with open(os.path.join(HERE, "RELEASE"), encoding="utf-8") as handle:
            return handle.read().strip() or "unknown"
    except OSError:
        return os.environ.get("YQ_RELEASE", "unknown")


ROOT = find_root()
SETTINGS = read_env(os.path.join(ROOT, "etc/yquant/node.env") if ROOT else "/etc/yquant/node.env")
COLOR = SETTINGS.get("NODE_NAME", "unknown")
RELEASE = read_release()
ORDERS_LOG = os.path.join(ROOT + "/var/lib/yquant", "orders.log")
ORDERS_LOCK = threading.Lock()


def log(message):
    sys.stdout.write("app[%s/%s]: %s\n" % (COLOR, RELEASE, message))
    sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    server_version = "yquant-placeholder"
    protocol_version = "HTTP/1.1"
    # Buffered: the status line, headers and body leave in one send when the handler returns. Sent
    # apart (the base class's default), the body waited on Nagle for the peer's delayed ACK: 44 ms per
    # request on a keep-alive connection instead of 0.2 ms (medians of 200 POSTs, lab, 2026-12-02), and
    # a crash between the two sends handed HAProxy headers without a body, which it cannot retry (a
    # truncated GET failed lab scenario 4 in CI).
    wbufsize = -1

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass

    def reply(self, status, payload):
        body = json.dumps(payload, sort_keys=True).encode("utf-8") + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self.reply(200, {"color": COLOR, "release": RELEASE, "status": "ok"})
        elif path == "/":
            body = ("yQuant placeholder app on %s (release %s)\n" % (COLOR, RELEASE)).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.reply(404, {"color": COLOR, "error": "not found"})

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            self.reply(413, {"color": COLOR, "error": "body too large"})
            return
        raw = self.rfile.read(length) if length else b""
        if path != "/orders":
            self.reply(404, {"color": COLOR, "error": "not found"})
            return
        try:
            order = json.loads(raw.decode("utf-8"))
            order_id = order["id"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            self.reply(400, {"color": COLOR, "error": 'expected a JSON body {"id": "..."}'})
            return
        if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
            self.reply(400, {"color": COLOR, "error": "id: 1-128 of A-Z a-z 0-9 . _ : -"})
            return
        with ORDERS_LOCK:
            with open(ORDERS_LOG, "a", encoding="utf-8") as handle:
                handle.write("%s %s\n" % (order_id, COLOR))
        self.reply(201, {"color": COLOR, "id": order_id, "status": "accepted"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5. When HAProxy opens many connections at once (a
    # switch, a failover, a burst of clients) the kernel then drops SYNs and those requests wait for
    # the 1 s SYN retransmit.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client gone mid-reply (HAProxy's checks close early) is not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def serve():
    address = SETTINGS.get("NODE_IP", "127.0.0.1")
    port = int(SETTINGS.get("APP_PORT", "5000"))
    os.makedirs(os.path.dirname(ORDERS_LOG), exist_ok=True)
    server = Server((address, port), Handler)
    log("serving on %s:%d" % (address, port))
    server.serve_forever()


def idle(service):
    interval = float(os.environ.get("HEARTBEAT_SECONDS", "10"))
    while True:
        log("%s heartbeat" % service)
        time.sleep(interval)


def main():
    parser = argparse.ArgumentParser(description="yQuant placeholder app")
    parser.add_argument("--service", default=None, help="frontend (HTTP), or backend/sync (idle)")
    args = parser.parse_args()
    service = args.service or os.environ.get("YQ_SERVICE") or SETTINGS.get("APP_HTTP_SERVICE", "frontend")
    http_service = SETTINGS.get("APP_HTTP_SERVICE", "frontend")
    try:
        if service == http_service:
            serve()
        else:
            idle(service)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
