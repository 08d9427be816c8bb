"""A small webhook receiver: the demo's endpoint, the benchmark's, and the tests'.

It listens on 127.0.0.1, keeps every request it gets, optionally verifies the Standard
Webhooks signature, and answers as told (status, delay, a run of failures).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived
    verified: bool | None  # None when no secret was given


class Receiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, secret: str | None = None):
        self.secret = secret
        self.received: list[Received] = []
        self.status = 200
        self.body = b"ok"
        self.delay = 0.0
        self.failures_left = 0  # answer 500 to this many requests first
        self.extra_headers: dict[str, str] = {}
        self.on_request: Callable[[Received], None] | None = None
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm and
            # delayed ACKs hold every keep-alive answer back by 40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver._handle(self, body)

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/events"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        verified = None
        if self.secret:
            try:
                Webhook(self.secret).verify(body, headers, json_parse=False)
                verified = True
            except WebhookVerificationError:
                verified = False
        item = Received(handler.path, headers, body, time.time(), verified)
        with self._lock:
            self.received.append(item)
            failing = self.failures_left > 0
            if failing:
                self.failures_left -= 1
        if self.on_request is not None:
            self.on_request(item)
        if self.delay:
            time.sleep(self.delay)
        status, answer = (500, b"try again later") if failing else (self.status, self.body)
        try:
            handler.send_response(status)
            for name, value in self.extra_headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(answer)))
            handler.end_headers()
            handler.wfile.write(answer)
        except OSError:
            pass  # the sender gave up waiting

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Wait until `count` requests arrived; return them (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise TimeoutError(f"got {len(self.received)} of {count} requests")
