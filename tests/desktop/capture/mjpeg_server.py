"""A real HTTP MJPEG camera on 127.0.0.1 (multipart/x-mixed-replace JPEG frames)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2

from .media import frame_image

BOUNDARY = "recoupframe"


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins the streaming threads
    camera: MjpegServer


class _StreamHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        camera = self.server.camera
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        index = 0
        try:
            while camera.wait_until_streaming():
                ok, jpeg = cv2.imencode(".jpg", frame_image(index))
                assert ok
                data = jpeg.tobytes()
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                self.wfile.write(head + data + b"\r\n")
                self.wfile.flush()
                index = (index + 1) % 30
                if camera.closing.wait(1.0 / camera.fps):
                    break
        except OSError:
            pass  # the client went away


class MjpegServer:
    """An MJPEG camera at ``url`` that can be stopped, restarted on the same port, or stalled.

    ``stall()`` keeps every connection open but stops sending frames (a hung camera);
    ``resume()`` sends again.
    """

    def __init__(self, *, port: int = 0, fps: float = 25.0) -> None:
        self.port = port
        self.fps = fps
        self.closing = threading.Event()
        self._cond = threading.Condition()
        self._stalled = False
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The stream's URL."""
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> None:
        """Listen (on the same port as before, after a stop) and serve."""
        self.closing = threading.Event()
        self._httpd = _Server(("127.0.0.1", self.port), _StreamHandler)
        self._httpd.camera = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mjpeg-server")
        self._thread.start()

    def stop(self) -> None:
        """Drop every connection and stop listening (the camera dies)."""
        if self._httpd is None:
            return
        with self._cond:
            self.closing.set()
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        assert self._thread is not None
        self._thread.join()
        self._httpd = None

    def stall(self) -> None:
        """Keep connections open but send nothing."""
        with self._cond:
            self._stalled = True

    def resume(self) -> None:
        """Send frames again after :meth:`stall`."""
        with self._cond:
            self._stalled = False
            self._cond.notify_all()

    def wait_until_streaming(self) -> bool:
        """Block while stalled; False once the server is closing."""
        with self._cond:
            self._cond.wait_for(lambda: self.closing.is_set() or not self._stalled)
            return not self.closing.is_set()


def closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
