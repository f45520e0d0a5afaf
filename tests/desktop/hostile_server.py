"""A scriptable HTTP server on 127.0.0.1 for client tests, able to answer badly on purpose.

Tests register a behaviour per ``(method, path)``; each request to that path runs the
next registered behaviour (the last one repeats). Behaviours write to the socket
themselves, so they can send wrong types, HTML, endless bodies, or nothing at all.
Every request is recorded (method, raw path, headers, body) for assertions.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Behaviour = Callable[["_Handler"], None]

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StreamRecord:
    """How much of an endless body the server managed to send before the client hung up."""

    sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    broken: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # idle keep-alive connections end on their own
    server: _Server
    seen_request: Seen

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle plus delayed
        # ACKs add ~40 ms to every answer on a reused connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.server.hostile.dispatch(self)

    def do_POST(self) -> None:
        self.server.hostile.dispatch(self)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet; tests read :attr:`HostileServer.requests` instead."""


class _Server(ThreadingHTTPServer):
    hostile: HostileServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-answer is what these tests do on purpose."""


class HostileServer:
    """A ThreadingHTTPServer with per-path behaviours; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.release = threading.Event()
        self._routes: dict[tuple[str, str], list[Behaviour]] = {}
        self._cond = threading.Condition()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.hostile = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()  # joins the handler threads
        self._thread.join()

    def on(self, method: str, path: str, *behaviours: Behaviour) -> None:
        """Answer ``method path`` (without query) with these behaviours, in turn."""
        with self._cond:
            self._routes[(method, path)] = list(behaviours)

    def seen(self, method: str, path: str) -> list[Seen]:
        """Requests received for ``method path`` (query ignored)."""
        with self._cond:
            return [
                r for r in self.requests if r.method == method and urlsplit(r.path).path == path
            ]

    def count(self, method: str, path: str) -> int:
        return len(self.seen(method, path))

    def wait_for(self, method: str, path: str, n: int = 1, timeout: float = 5.0) -> bool:
        """Block until ``n`` requests for the path arrived."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count_locked(method, path) >= n, timeout)

    def _count_locked(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and urlsplit(r.path).path == path)

    def dispatch(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        seen = Seen(handler.command, handler.path, dict(handler.headers.items()), body)
        key = (handler.command, urlsplit(handler.path).path)
        with self._cond:
            self.requests.append(seen)
            queue = self._routes.get(key)
            behaviour = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
            self._cond.notify_all()
        handler.seen_request = seen
        try:
            (behaviour or json_answer({"detail": "Not Found"}, status=404))(handler)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True


# --------------------------------------------------------------------------- behaviours


def raw(
    status: int,
    body: bytes,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> Behaviour:
    """Answer with exactly these bytes."""

    def behave(h: _Handler) -> None:
        h.send_response(status)
        if content_type is not None:
            h.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return behave


def json_answer(obj: object, status: int = 200, **kwargs: object) -> Behaviour:
    """Answer with ``obj`` as JSON."""
    return raw(status, json.dumps(obj, ensure_ascii=False).encode(), **kwargs)  # type: ignore[arg-type]


def echo_json(make: Callable[[dict], object], status: int = 200) -> Behaviour:
    """Answer with JSON computed from the request's JSON body (e.g. echo its id)."""

    def behave(h: _Handler) -> None:
        request = json.loads(h.seen_request.body)
        raw(status, json.dumps(make(request)).encode())(h)

    return behave


def endless_chunked(total: int, record: StreamRecord) -> Behaviour:
    """A 200 JSON answer of ``total`` bytes, generated lazily and sent chunked."""

    def behave(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for piece in _json_array_bytes(total):
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                record.sent += len(piece)
            h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            record.broken = True
            h.close_connection = True
        finally:
            record.done.set()

    return behave


def declared_huge(total: int, record: StreamRecord) -> Behaviour:
    """Announce ``Content-Length: total`` and then try to send it lazily."""

    def behave(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(total))
        h.end_headers()
        try:
            for piece in _json_array_bytes(total):
                h.wfile.write(piece)
                record.sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            record.broken = True
            h.close_connection = True
        finally:
            record.done.set()

    return behave


def gzip_bomb(decoded_size: int) -> Behaviour:
    """A small gzip body that inflates to ``decoded_size`` bytes."""
    packed = gzip.compress(b" " * decoded_size, compresslevel=9)
    return raw(200, packed, headers={"Content-Encoding": "gzip"})


def hang(then_close: bool = True) -> Behaviour:
    """Accept the request and never answer (until the server shuts down)."""

    def behave(h: _Handler) -> None:
        h.server.hostile.release.wait(30)
        h.close_connection = then_close

    return behave


def trickle(interval_s: float) -> Behaviour:
    """Send headers, then one byte of an endless JSON body every ``interval_s``."""

    def behave(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"1\r\n[\r\n")
        h.wfile.flush()
        try:
            while not h.server.hostile.release.wait(interval_s):
                h.wfile.write(b"1\r\n \r\n")
                h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True

    return behave


def gated(gate: threading.Event, then: Behaviour) -> Behaviour:
    """Wait until ``gate`` is set, then behave like ``then`` (tests set it in ``finally``)."""

    def behave(h: _Handler) -> None:
        if gate.wait(10):
            then(h)

    return behave


def _json_array_bytes(total: int) -> Iterator[bytes]:
    """``[0,0,0,...`` in chunks until ``total`` bytes (never materialized at once)."""
    yield b"["
    sent = 1
    block = b"0," * (_CHUNK // 2)
    while sent < total:
        piece = block[: total - sent]
        sent += len(piece)
        yield piece
