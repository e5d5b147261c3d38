"""A second local web server standing for "some other host": it records every request made to it.

Tests point media links, schema `$ref`s and the like at it and assert nothing reached it that nobody asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A 1x1 transparent PNG: what an image request gets, so a browser that does fetch it draws something.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e2216bc40000000049454e44ae426082"
)


class OutsideHost:
    """The recorder: `paths` lists the path of every request received, in order."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.paths: list[str] = []
        self.answers: dict[str, tuple[int, str, bytes]] = {}  # path -> (status, content type, body)
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return f"{self._server.server_address[0]}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def record(self, path: str) -> None:
        with self._lock:
            self.paths.append(path)

    def requested(self, fragment: str = "") -> list[str]:
        with self._lock:
            return [path for path in self.paths if fragment in path]


@contextmanager
def outside_host(address: str = "127.0.0.2") -> Iterator[OutsideHost]:
    """Serve on another loopback address than the app and the fake endpoint (127.0.0.1), on a free port."""
    recorder: OutsideHost

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            recorder.record(self.path)
            status, kind, body = recorder.answers.get(self.path.split("?")[0]) or (
                (200, "image/png", PIXEL) if self.path.endswith(".png") else (200, "application/json", b"{}"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((address, 0), Handler)
    recorder = OutsideHost(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
