"""The real server as a separate process (``python main.py serve``), for tests that need
several processes on one database, or a signal sent to the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server.conftest import TOKEN_A

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """``main.py serve`` in a child process; ``url`` once ``start`` saw it answer."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 1,
        seed_demo: bool = False,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [
            sys.executable,
            str(ROOT / "main.py"),
            "serve",
            "--port",
            str(self.port),
            "--database-url",
            database_url,
            "--workers",
            str(workers),
            "--public-url",
            self.url,
        ]
        if seed_demo:
            self._command.append("--seed-demo")
        self._env = {**os.environ, **(env or {})}
        self._log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        """Start the process and wait until ``/ping`` answers (or it died)."""
        if self._log_path is None:
            self.process = subprocess.Popen(
                self._command, cwd=ROOT, env=self._env, stdout=subprocess.DEVNULL
            )
        else:
            with open(self._log_path, "wb") as log:  # the child keeps its own copy
                self.process = subprocess.Popen(
                    self._command, cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT
                )
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}")
                try:
                    answer = client.get(
                        "/api/v1/ping", headers={"Authorization": f"Bearer {TOKEN_A}"}
                    )
                    if answer.status_code in (200, 401):
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.05)  # polling a child process that is starting up
        self.kill()
        raise RuntimeError("server did not answer in time")

    def terminate(self) -> None:
        """Send SIGTERM (what a service manager sends to stop it)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float) -> int:
        """The exit code, waiting at most ``timeout_s``."""
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        """Stop it for sure (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
