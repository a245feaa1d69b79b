"""A webhook receiver on 127.0.0.1 that records what it is sent and answers as told."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DRIBBLE_SECONDS = 6.0


class Receiver:
    """Records each POST; answers with ``status``, ``body`` and ``headers``, or, with
    ``dribble``, sends its answer's headers a byte at a time until closed."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.body = b""
        self.headers: dict[str, str] = {}
        self.dribble = False
        self.closed = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                if receiver.dribble:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    # A byte every 0.2 s, well within any read timeout, for DRIBBLE_SECONDS.
                    for _ in range(int(DRIBBLE_SECONDS / 0.2)):
                        if receiver.closed.wait(0.2):
                            break
                        self.wfile.write(b"X")
                        self.wfile.flush()
                    return
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()
