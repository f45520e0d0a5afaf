"""Set-up for ``bench/server_load.py``: a fresh seeded database, the real server as a
subprocess, and CPU accounting read from ``/proc``.

Everything here is synchronous and runs outside the measured window.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import secrets
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from server.blacklist import read_state, refresh_entry
from server.config import ServerSettings
from server.db import make_engine
from server.migrate import upgrade_to_head
from server.models import Booth, Lot, ParkingSession
from server.security import hash_token

REPO = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
LOTS = {f"lot-{n}": f"Load Lot {n}" for n in range(1, 6)}
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
SERVER_READY_TIMEOUT_S = 90.0
SERVER_STOP_GRACE_S = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- plates -----------------------------------------------------------------------------


def owing_plate(rng: random.Random) -> str:
    """A plate of the owing pool: three letters and four digits (ABC1234)."""
    return "".join(rng.choices(LETTERS, k=3)) + "".join(rng.choices(string.digits, k=4))


def clear_plate(rng: random.Random) -> str:
    """A plate that owes nothing: a digit first (7XYZ042), so never one of the pool."""
    return (
        rng.choice("123456789")
        + "".join(rng.choices(LETTERS, k=3))
        + "".join(rng.choices(string.digits, k=3))
    )


# -- databases --------------------------------------------------------------------------


def require_local(url: str) -> None:
    """Refuse a PostgreSQL URL whose host is not this machine (the load stays local)."""
    host = make_url(url).host or "127.0.0.1"
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"refusing database host {host!r}: the benchmark only runs locally")


def drop_database(admin: Engine, name: str) -> None:
    """Drop ``name``, ending the connections left on it. ``WITH (FORCE)`` is refused while
    an autovacuum worker is on the database (no role of ours may signal it); a plain
    DROP stops autovacuum itself, so it is the fallback."""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except ProgrammingError:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@contextlib.contextmanager
def fresh_database(
    kind: str, base_url: str | None, folder: Path, *, prefix: str = "recoup_load"
) -> Iterator[str]:
    """Yield the URL of a new empty database, removed afterwards.

    ``sqlite``: a file in ``folder``. ``postgres``: a database with a random name
    starting with ``prefix`` on the server of ``base_url`` (same role), dropped at the end.
    """
    if kind == "sqlite":
        yield f"sqlite:///{folder / (prefix + '.sqlite3')}"
        return
    if not base_url:
        raise SystemExit("postgres needs --database-url or RECOUP_TEST_POSTGRES_URL")
    require_local(base_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            drop_database(admin, name)
    finally:
        admin.dispose()


@dataclass(frozen=True)
class Fixture:
    """What the generator needs from the seeded database."""

    tokens: list[str]
    owing_plates: list[str]
    sessions: int
    #: the change feed's position after seeding (booths start there, synced)
    latest_seq: int = 0


def _session_rows(plates: list[str], rng: random.Random) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    lots = list(LOTS)
    for plate in plates:
        for _ in range(rng.choice((1, 2))):
            entered = now - timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 1439))
            rows.append(
                {
                    "plate": plate,
                    "lot_id": rng.choice(lots),
                    "entered_at": entered,
                    "exited_at": entered + timedelta(hours=rng.randint(1, 8)),
                    "fee_cents": rng.randrange(300, 4000, 50),
                    "paid_cents": 0,
                    "status": "unpaid",
                }
            )
    return rows


def seed_database(
    url: str, *, booths: int, owing: int, rng: random.Random, listed: bool = False
) -> Fixture:
    """Migrate ``url`` to head and bulk-insert lots, ``booths`` booths with their own
    random tokens, and ``owing`` plates with one or two unpaid sessions each; ``listed``
    also puts every owing plate on the blacklist, as the server itself does."""
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        tokens = [secrets.token_urlsafe(32) for _ in range(booths)]
        plates: set[str] = set()
        while len(plates) < owing:
            plates.add(owing_plate(rng))
        owing_plates = sorted(plates)
        rng.shuffle(owing_plates)
        sessions = _session_rows(owing_plates, rng)
        lots = list(LOTS)
        booth_rows = [
            {
                "id": f"load-{n:04d}",
                "name": f"Load booth {n}",
                "lot_id": lots[n % len(lots)],
                "token_hash": hash_token(token),
            }
            for n, token in enumerate(tokens)
        ]
        with engine.begin() as connection:
            connection.execute(insert(Lot), [{"id": k, "name": v} for k, v in LOTS.items()])
            connection.execute(insert(Booth), booth_rows)
            connection.execute(insert(ParkingSession), sessions)
        latest_seq = list_plates(engine, owing_plates) if listed else 0
        return Fixture(
            tokens=tokens,
            owing_plates=owing_plates,
            sessions=len(sessions),
            latest_seq=latest_seq,
        )
    finally:
        engine.dispose()


def list_plates(engine: Engine, plates: list[str], batch: int = 500) -> int:
    """Blacklist ``plates`` with the server's own ``refresh_entry``, a batch per commit;
    returns the change feed's latest seq."""
    currency = ServerSettings().currency
    for start in range(0, len(plates), batch):
        with Session(engine) as session:
            for plate in plates[start : start + batch]:
                refresh_entry(session, plate=plate, currency=currency)
            session.commit()
    with Session(engine) as session:
        return int(read_state(session).latest_seq)


def database_version(url: str) -> str:
    """``PostgreSQL 15.x`` or ``SQLite 3.x``."""
    if make_url(url).get_backend_name() == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return "PostgreSQL " + str(connection.scalar(text("SHOW server_version")))
    finally:
        engine.dispose()


def read_row_bytes(url: str) -> float | None:
    """PostgreSQL: bytes on disk per stored plate read (table, TOAST and indexes), for
    the growth estimate; None on SQLite or when no read was stored."""
    if make_url(url).get_backend_name() == "sqlite":
        return None
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = int(connection.scalar(text("SELECT count(*) FROM plate_reads")) or 0)
            size = int(connection.scalar(text("SELECT pg_total_relation_size('plate_reads')")))
    finally:
        engine.dispose()
    return size / rows if rows else None


# -- the server -------------------------------------------------------------------------


def serve_command() -> list[str]:
    """``python main.py serve`` with the interpreter running this benchmark."""
    return [sys.executable, str(REPO / "main.py"), "serve"]


def serve_supports_workers() -> bool:
    """Whether ``main.py serve --help`` lists ``--workers``."""
    result = subprocess.run(
        [*serve_command(), "--help"],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    return "--workers" in result.stdout


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """``main.py serve`` in its own process group, output to a log file.

    ``workers`` None starts it without ``--workers`` (one process).
    """

    def __init__(self, database_url: str, *, workers: int | None, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "server.log"
        self._command = [
            *serve_command(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database-url",
            database_url,
        ]
        if workers is not None:
            self._command += ["--workers", str(workers)]
        self._env = {**os.environ, "RECOUP_SERVER_EVIDENCE_DIR": str(folder / "evidence")}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, token: str) -> None:
        """Start the server and wait until ``GET /api/v1/ping`` answers 200."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self._command,
                cwd=REPO,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVER_READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self._ping(token):
                return
            time.sleep(0.2)
        raise RuntimeError(
            f"server not ready after {SERVER_READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}"
        )

    def _ping(self, token: str) -> bool:
        request = urllib.request.Request(
            f"{self.url}/api/v1/ping", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200 and "latest_seq" in json.load(response)
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def exit_code(self) -> int | None:
        """The exit code if the server has stopped, else None."""
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to its process group after 15 s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=SERVER_STOP_GRACE_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's output."""
        try:
            content = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(content[-lines:])


# -- CPU accounting ---------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime in ticks) of ``pid``, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_tree_ticks(root: int) -> dict[int, int]:
    """CPU ticks of ``root`` and all its descendants, by pid."""
    stats = {pid: stat for pid in _all_pids() if (stat := _proc_stat(pid)) is not None}
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in stats.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return {pid: stats[pid][1] for pid in tree if pid in stats}


def postgres_ticks(database: str | None) -> dict[str, dict[int, int]]:
    """CPU ticks of PostgreSQL processes: ``ours`` (backends of ``database``, whose
    process title names it) and ``all`` (every process named postgres)."""
    groups: dict[str, dict[int, int]] = {"ours": {}, "all": {}}
    for pid in _all_pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        stat = _proc_stat(pid)
        if stat is None:
            continue
        groups["all"][pid] = stat[1]
        if database and f" {database} " in title:
            groups["ours"][pid] = stat[1]
    return groups


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU counters at one instant: per-pid ticks of each group, machine ticks, time."""

    at: float
    server: dict[int, int]
    postgres: dict[str, dict[int, int]]
    generator_s: float
    machine: tuple[int, int]
    load_1m: float


def cpu_snapshot(server_pid: int, database: str | None) -> CpuSnapshot:
    """Read every counter the report needs (a few milliseconds)."""
    times = os.times()
    return CpuSnapshot(
        at=time.monotonic(),
        server=process_tree_ticks(server_pid),
        postgres=postgres_ticks(database),
        generator_s=times.user + times.system,
        machine=machine_ticks(),
        load_1m=os.getloadavg()[0],
    )


def _ticks_delta(before: dict[int, int], after: dict[int, int]) -> int:
    # A process that appeared in between counts in full; one that vanished is lost.
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items())


@dataclass(frozen=True)
class CpuUse:
    """CPU used between two snapshots, in % of one core (machine: % of all cores), and
    the 1-minute load average at both ends (the machine may be shared)."""

    server_pct: float
    postgres_pct: float | None
    postgres_all_pct: float | None
    generator_pct: float
    machine_busy_pct: float
    load_1m: tuple[float, float]


def cpu_use(before: CpuSnapshot, after: CpuSnapshot, *, postgres: bool) -> CpuUse:
    """Percentages of one core used by each group between ``before`` and ``after``."""
    wall = max(after.at - before.at, 1e-9)

    def pct(ticks: int) -> float:
        return 100.0 * ticks / CLOCK_TICKS / wall

    busy = after.machine[0] - before.machine[0]
    total = max(after.machine[1] - before.machine[1], 1)
    return CpuUse(
        server_pct=pct(_ticks_delta(before.server, after.server)),
        postgres_pct=pct(_ticks_delta(before.postgres["ours"], after.postgres["ours"]))
        if postgres
        else None,
        postgres_all_pct=pct(_ticks_delta(before.postgres["all"], after.postgres["all"]))
        if postgres
        else None,
        generator_pct=100.0 * (after.generator_s - before.generator_s) / wall,
        machine_busy_pct=100.0 * busy / total,
        load_1m=(before.load_1m, after.load_1m),
    )


# -- the machine ------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (or the platform's guess)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_line(database_version_text: str) -> str:
    """One line describing the machine, the interpreter and the database."""
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{database_version_text}, {platform.system()} {platform.release()}"
    )
