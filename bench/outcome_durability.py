"""Benchmark: what power safety costs per recorded outcome, SQLite NORMAL against FULL.

In WAL mode ``synchronous = NORMAL`` syncs the log only at checkpoints, so a committed
transaction can roll back after a power cut; FULL syncs the log at every commit. Both
the booth store and the server (on SQLite) now use FULL; this measures what it costs.

(a) booth: ``Store.record_outcome`` (the outcome and its outbox row in one transaction,
    as the booth records a cash payment), each on a notice recorded beforehand;
(b) server: ``POST /api/v1/outcomes`` (a paid cash outcome of one unpaid session) sent
    by the booth's ``ServerClient`` to the real server on 127.0.0.1.

The two modes run side by side in one process, one store file and one server each, and
their outcomes are interleaved (the order flips every repetition), so both see the same
machine load. Files go to ``--dir`` (default: the system temp folder); a tmpfs there
would hide the cost, so the file system is printed.

    python bench/outcome_durability.py --outcomes 200
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import desktop.store.store as store_module
import server.app as server_app
from bench.lookup import cpu_model, percentile
from desktop.client import ServerClient
from desktop.domain import OutcomeKind, PaymentMethod, UnpaidSession
from desktop.plates import MatchTier
from desktop.store import Store
from desktop.store.database import create_store_engine
from server.cli import ServerThread
from server.db import make_engine
from server.models import ParkingSession

MODES = ("NORMAL", "FULL")
PRAGMA_VALUES = {"NORMAL": 1, "FULL": 2}
BOOTH_TOKEN = "demo-booth-a-token"
FEE_CENTS = 1200
WARMUP = 10


@dataclass
class Figures:
    """Milliseconds per outcome of one side in one mode."""

    times_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 0.95)


# --------------------------------------------------------------------------- setup


@contextlib.contextmanager
def store_mode(mode: str) -> Iterator[None]:
    """Store has no keyword for the mode: open it with ``create_store_engine`` set so."""
    original = store_module.create_store_engine
    store_module.create_store_engine = functools.partial(create_store_engine, synchronous=mode)
    try:
        yield
    finally:
        store_module.create_store_engine = original


@contextlib.contextmanager
def server_mode(mode: str) -> Iterator[None]:
    """create_app has no setting for the mode: build it with ``make_engine`` set so."""
    original = server_app.make_engine
    server_app.make_engine = functools.partial(make_engine, sqlite_synchronous=mode)
    try:
        yield
    finally:
        server_app.make_engine = original


def check_mode(engine: Engine, mode: str, what: str) -> None:
    """Refuse to measure anything but the mode asked for (the hooks above could rot)."""
    with engine.connect() as connection:
        found = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    if found != PRAGMA_VALUES[mode] or journal != "wal":
        raise SystemExit(f"{what}: asked for WAL + {mode}, got {journal} + synchronous={found}")


def open_store(folder: Path, mode: str) -> Store:
    with store_mode(mode):
        store = Store(folder / f"booth-{mode.lower()}.sqlite3")
    check_mode(store.engine, mode, "booth store")
    return store


def start_server(folder: Path, mode: str, plates: list[str]) -> tuple[ServerThread, dict[str, int]]:
    """A seeded server whose SQLite file runs in ``mode``; one unpaid session per plate."""
    with server_mode(mode):
        server = ServerThread(
            database_url=f"sqlite:///{folder / f'server-{mode.lower()}.sqlite3'}", seed_demo=True
        )
    engine: Engine = server.app.state.engine
    check_mode(engine, mode, "server")
    entered = datetime.now(UTC) - timedelta(days=2)
    with Session(engine) as session:
        session.add_all(
            ParkingSession(
                plate=plate,
                lot_id="north",
                entered_at=entered,
                exited_at=entered + timedelta(hours=2),
                fee_cents=FEE_CENTS,
                paid_cents=0,
                status="unpaid",
            )
            for plate in plates
        )
        session.commit()
        rows = session.execute(
            select(ParkingSession.plate, ParkingSession.id).where(ParkingSession.plate.in_(plates))
        )
        session_ids = {plate: session_id for plate, session_id in rows}
    server.start()
    return server, session_ids


# --------------------------------------------------------------------------- one outcome


def booth_outcome(store: Store, plate: str) -> float:
    """Record a read and a notice (not timed), then time recording the paid outcome."""
    now = datetime.now(UTC)
    read_id, notice_id = uuid.uuid4(), uuid.uuid4()
    store.record_read(
        read_id=read_id, lane="Exit 1", plate=plate, confidence=0.9, source="camera", seen_at=now
    )
    session = UnpaidSession(
        id=7,
        lot_id="north",
        lot_name="North Garage",
        entered_at=now - timedelta(days=2),
        exited_at=now - timedelta(days=2, hours=-2),
        fee_cents=FEE_CENTS,
        unpaid_cents=FEE_CENTS,
    )
    store.record_notice(
        notice_id=notice_id,
        read_id=read_id,
        lane="Exit 1",
        read_plate=plate,
        listed_plate=plate,
        tier=MatchTier.EXACT,
        unpaid_cents=FEE_CENTS,
        currency="USD",
        sessions=[session],
        source="cache",
        cache_age_s=1.0,
        entry_seq=1,
        created_at=now,
    )
    start = time.perf_counter()
    store.record_outcome(
        outcome_id=uuid.uuid4(),
        notice_id=notice_id,
        plate=plate,
        lane="Exit 1",
        kind=OutcomeKind.PAID,
        method=PaymentMethod.CASH,
        amount_cents=FEE_CENTS,
        session_ids=[7],
        attendant="bench",
        recorded_at=now,
    )
    return (time.perf_counter() - start) * 1000


def server_outcome(client: ServerClient, plate: str, session_id: int) -> float:
    """Time one paid cash outcome of ``plate``'s unpaid session, as the outbox sends it."""
    payload = {
        "outcome_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": plate,
        "lane": "Exit 1",
        "kind": "paid",
        "method": "cash",
        "amount_cents": FEE_CENTS,
        "session_ids": [session_id],
        "reason": None,
        "reference": None,
        "attendant": "bench",
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    start = time.perf_counter()
    status, answer = client.post_outcome(payload)
    elapsed = (time.perf_counter() - start) * 1000
    if status != 200 or answer.status != "recorded":
        raise SystemExit(f"server did not record {plate}: HTTP {status} {answer.status}")
    return elapsed


# --------------------------------------------------------------------------- the run


def interleaved(count: int, measure: dict[str, Callable[[int], float]]) -> dict[str, Figures]:
    """``count`` measurements per mode, alternating modes and flipping the order each time."""
    figures = {mode: Figures([]) for mode in measure}
    for index in range(WARMUP + count):
        order = MODES if index % 2 == 0 else MODES[::-1]
        for mode in order:
            elapsed = measure[mode](index)
            if index >= WARMUP:
                figures[mode].times_ms.append(elapsed)
    return figures


def file_system(folder: Path) -> str:
    """The device and type of the file system holding ``folder`` (from /proc/mounts)."""
    best = ("?", "?", "")
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            device, mount, kind = line.split()[:3]
            inside = str(folder.resolve()).startswith(mount.rstrip("/") + "/") or mount == "/"
            if inside and len(mount) >= len(best[2]):
                best = (device, kind, mount)
    return f"{best[0]} ({best[1]}, mounted at {best[2]})"


def measure_booth(folder: Path, outcomes: int) -> dict[str, Figures]:
    """(a) the booth store: one file per mode, outcomes interleaved."""
    stores = {mode: open_store(folder, mode) for mode in MODES}
    try:
        return interleaved(
            outcomes,
            {
                mode: functools.partial(lambda store, i: booth_outcome(store, plate(i)), store)
                for mode, store in stores.items()
            },
        )
    finally:
        for store in stores.values():
            store.close()


def measure_server(folder: Path, outcomes: int) -> dict[str, Figures]:
    """(b) the server: one seeded server per mode on 127.0.0.1, outcomes interleaved."""
    plates = [plate(index) for index in range(WARMUP + outcomes)]
    servers: list[ServerThread] = []
    clients: list[ServerClient] = []
    measure: dict[str, Callable[[int], float]] = {}
    try:
        for mode in MODES:
            server, session_ids = start_server(folder, mode, plates)
            servers.append(server)
            client = ServerClient(server.url, BOOTH_TOKEN, retries=0)
            clients.append(client)
            measure[mode] = functools.partial(
                lambda c, ids, i: server_outcome(c, plate(i), ids[plate(i)]), client, session_ids
            )
        return interleaved(outcomes, measure)
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()
            server.app.state.engine.dispose()


def load() -> str:
    """The 1-minute load average, or "?" where the system does not tell."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def plate(index: int) -> str:
    return f"DUR{index:05d}"


def row(label: str, normal: Figures, full: Figures) -> str:
    return (
        f"{label:<34} {normal.median:7.2f} / {normal.p95:7.2f}   "
        f"{full.median:7.2f} / {full.p95:7.2f}   {full.median - normal.median:+7.2f} ms "
        f"(x{full.median / normal.median:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=200, help="timed outcomes per mode")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}; python {platform.python_version()}")
    print(f"cpu: {cpu_model()}; cores: {os.cpu_count()}; load average {load()} at the start")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="durability-") as name:
        folder = Path(name)
        print(f"storage: {folder} on {file_system(folder)}")
        print(f"outcomes per mode: {args.outcomes} timed after {WARMUP} untimed, interleaved")
        booth = measure_booth(folder, args.outcomes)
        hub = measure_server(folder, args.outcomes)

    print(f"load average {load()} at the end (other work slows both modes alike)")
    print(
        f"{'per recorded outcome, ms':<34} {'NORMAL median / p95':>19}   "
        f"{'FULL median / p95':>17}   FULL - NORMAL (median)"
    )
    print(row("booth: Store.record_outcome", booth["NORMAL"], booth["FULL"]))
    print(row("server: POST /api/v1/outcomes", hub["NORMAL"], hub["FULL"]))
    print(
        f"outcomes={args.outcomes} cores={os.cpu_count()} "
        f"booth_normal_ms={booth['NORMAL'].median:.2f} booth_full_ms={booth['FULL'].median:.2f} "
        f"booth_normal_p95_ms={booth['NORMAL'].p95:.2f} booth_full_p95_ms={booth['FULL'].p95:.2f} "
        f"booth_cost_ms={booth['FULL'].median - booth['NORMAL'].median:.2f} "
        f"server_normal_ms={hub['NORMAL'].median:.2f} server_full_ms={hub['FULL'].median:.2f} "
        f"server_normal_p95_ms={hub['NORMAL'].p95:.2f} server_full_p95_ms={hub['FULL'].p95:.2f} "
        f"server_cost_ms={hub['FULL'].median - hub['NORMAL'].median:.2f}"
    )


if __name__ == "__main__":
    main()
