"""End-to-end fixtures: the real reference server in its own process, real booths.

The server is started as ``main.py serve`` on 127.0.0.1 with a database file in the
test's temporary folder, so "the server is killed" means SIGKILL, as in a power cut.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from desktop.booth import BoothService
from desktop.config import BoothConfig

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0
DEMO_TOKENS = {"booth-a": "demo-booth-a-token", "booth-b": "demo-booth-b-token"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``main.py serve --seed-demo`` as a child process that can be killed and restarted."""

    def __init__(self, database: Path, port: int) -> None:
        self.database = database
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[str] | None = None

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        self._process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "--log-level",
                "INFO",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                "--seed-demo",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        output = self._process.stdout
        assert output is not None

        def pump() -> None:
            for line in output:
                lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=STARTUP_TIMEOUT_S)
            except queue.Empty:
                self.kill()
                pytest.fail("server did not start in time:\n" + "".join(seen))
            seen.append(line)
            # Uvicorn binds its socket after "Application startup complete".
            if "Uvicorn running on" in line:
                return
            if line == "":
                pytest.fail("server exited during start-up:\n" + "".join(seen))

    def kill(self) -> None:
        """SIGKILL the server, as a power cut would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    def count(self, table: str, where: str = "1=1", **params: object) -> int:
        """Count rows in the server's own database (what the server really recorded)."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(
                    sa.text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params
                ).scalar_one()
        finally:
            engine.dispose()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "server.sqlite3", free_port())
    process.start()
    yield process
    process.kill()


def make_booth(server: ServerProcess, booth_id: str, data_dir: Path) -> BoothService:
    """A booth core configured the way an operator would, talking to ``server``."""
    config = BoothConfig(
        server={"url": server.url, "connect_timeout_s": 0.5, "read_timeout_s": 3.0},
        booth={"id": booth_id, "token": DEMO_TOKENS[booth_id], "attendant": "test"},
        recovery={"history_deadline_s": 1.0, "notice_cooldown_s": 60},
        sync={"interval_s": 3600, "page_size": 50},
        data_dir=data_dir / booth_id,
    )
    return BoothService.from_config(config)


@pytest.fixture
def booths(server: ServerProcess, tmp_path: Path) -> Iterator[tuple[BoothService, BoothService]]:
    booth_a = make_booth(server, "booth-a", tmp_path)
    booth_b = make_booth(server, "booth-b", tmp_path)
    yield booth_a, booth_b
    booth_a.stop()
    booth_b.stop()
