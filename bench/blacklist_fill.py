"""Fill a server database with N blacklisted vehicles, fast (for benchmarks).

The rows are what the server itself would hold after N vehicles had been put on the
blacklist one by one: lots, parking sessions (one to three open per plate, some with a
paid earlier stay), one ``blacklist_entries`` row per plate whose ``entry`` JSON is
exactly what ``server.blacklist.refresh_entry`` publishes, the last ``changes_kept``
upsert changes of the feed (the older ones pruned, as ``prune_change_log`` leaves
them), the ``server_state`` counters, and one booth with a fresh token. Rows go in by
bulk Core inserts (``COPY`` on PostgreSQL), one committed transaction per batch of
vehicles; ``refresh_entry`` run on a filled plate finds nothing to change.

    from bench.blacklist_fill import fill_blacklist
    result = fill_blacklist("sqlite:////tmp/hub.db", 100_000)

    python bench/blacklist_fill.py --entries 1000000 --database-url sqlite:////tmp/hub.db
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, Table, column, event, func, insert, select, update
from sqlalchemy import table as sa_table

from server.db import make_engine
from server.flags import rebuild_flag_index
from server.migrate import upgrade_to_head
from server.models import (
    STATE_ROW_ID,
    BlacklistChange,
    BlacklistEntry,
    Booth,
    Lot,
    ParkingSession,
    ServerState,
)
from server.schemas import EntryOut

logger = logging.getLogger(__name__)

BOOTH_ID = "bench-booth"
CURRENCY = "USD"
# Vehicles per committed transaction: a few MB of rows, never the whole fill's WAL.
BATCH = 10_000
# The feed keeps this many newest changes by default; older ones count as pruned, so a
# fresh booth (cursor 0) is told to resync from the snapshot.
CHANGES_KEPT = 1_000
# Every entry was refreshed at some point after this, one change every 30 seconds.
FIRST_REFRESH = datetime(2024, 6, 1, tzinfo=UTC)
REFRESH_STEP = timedelta(seconds=30)
_NAIVE_FIRST_REFRESH = FIRST_REFRESH.replace(tzinfo=None)
FILL_CACHE_KIB = 256 * 1024

LOTS = (
    ("north", "North Garage"),
    ("south", "South Lot"),
    ("airport-p1", "Airport P1"),
    ("airport-p3", "Airport P3 Long Stay"),
    ("central", "Central Station Car Park"),
    ("harbour", "Harbour Front"),
    ("mall-east", "Eastgate Mall Level -2"),
    ("hospital", "St. Mary's Hospital Visitors"),
)

# Servers from migration 0006 on repeat each entry's lots as text beside its JSON.
_HAS_LOTS = "lots" in BlacklistEntry.__table__.c

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DIGITS = "0123456789"
_CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O on Chinese plates
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


@dataclass(frozen=True)
class FillResult:
    """What a fill wrote: counts, feed counters, the booth to sync with, and its time."""

    entries: int
    sessions: int
    latest_seq: int
    pruned_seq: int
    booth_id: str
    booth_token: str
    seconds: float


def random_plate(rng: random.Random) -> str:
    """A normalized plate in one of several real-world shapes (6 to 8 characters)."""
    pick = rng.choice
    shape = rng.random()
    if shape < 0.25:  # US: ABC1234
        return _pick(rng, _LETTERS, 3) + _pick(rng, _DIGITS, 4)
    if shape < 0.40:  # California: 7XYZ042
        return pick("123456789") + _pick(rng, _LETTERS, 3) + _pick(rng, _DIGITS, 3)
    if shape < 0.55:  # China: 京A12345
        return pick(_PROVINCES) + pick(_CN_LETTERS) + _pick(rng, _CN_LETTERS + _DIGITS, 5)
    if shape < 0.62:  # China, new-energy vehicle: 京AD12345
        return pick(_PROVINCES) + pick(_CN_LETTERS) + pick("DF") + _pick(rng, _DIGITS, 5)
    if shape < 0.75:  # France / Italy: AB123CD
        return _pick(rng, _LETTERS, 2) + _pick(rng, _DIGITS, 3) + _pick(rng, _LETTERS, 2)
    if shape < 0.87:  # UK: AB12CDE
        return _pick(rng, _LETTERS, 2) + _pick(rng, _DIGITS, 2) + _pick(rng, _LETTERS, 3)
    if shape < 0.95:  # Germany: B-MK 1234 (district, letters, number)
        district = _pick(rng, _LETTERS, rng.randint(1, 3))
        return district + _pick(rng, _LETTERS, rng.randint(1, 2)) + _pick(rng, _DIGITS, 4)
    return _pick(rng, _LETTERS + _DIGITS, 6)  # anything else: six characters


def _pick(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choices(alphabet, k=count))


def iso_z(moment: datetime) -> str:
    """A naive UTC time as pydantic writes it in the API's JSON (``2025-01-01T10:00:00Z``)."""
    return moment.isoformat() + "Z"


class _Columns:
    """Column values as each backend stores them, bypassing per-value type processing.

    Times are whole seconds, naive UTC. SQLite stores them as SQLAlchemy's ``DateTime``
    does (``2024-06-01 00:00:30.000000``, compared as text by the server's queries);
    PostgreSQL parses an ISO string with its offset. JSON goes in as its text.
    """

    def __init__(self, backend: str) -> None:
        self.sqlite = backend == "sqlite"

    def time(self, moment: datetime) -> str:
        if self.sqlite:
            return moment.isoformat(" ") + ".000000"
        return moment.isoformat() + "+00:00"


@dataclass
class _Batch:
    """The rows of one batch of vehicles, table by table."""

    sessions: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    sample: dict[str, Any] | None = None


class _Vehicles:
    """Generates vehicles with their sessions and published entry, seq by seq."""

    def __init__(self, seed: int, total: int, changes_kept: int, columns: _Columns) -> None:
        self._rng = random.Random(seed)
        self._seen: set[str] = set()
        self._total = total
        self._first_kept = total - changes_kept + 1
        self._columns = columns
        self._session_id = 0

    def batches(self, size: int) -> Iterator[_Batch]:
        for start in range(1, self._total + 1, size):
            batch = _Batch([], [], [])
            for seq in range(start, min(start + size, self._total + 1)):
                self._vehicle(seq, batch)
            # Plate order within a batch: the plate indexes take sorted runs, not strays.
            batch.entries.sort(key=lambda row: row["plate"])
            batch.sessions.sort(key=lambda row: row["plate"])
            yield batch

    @property
    def sessions_made(self) -> int:
        return self._session_id

    def _plate(self) -> str:
        while True:
            plate = random_plate(self._rng)
            if plate not in self._seen:
                self._seen.add(plate)
                return plate

    def _vehicle(self, seq: int, batch: _Batch) -> None:
        rng = self._rng
        random_ = rng.random
        time = self._columns.time
        plate = self._plate()
        refreshed = _NAIVE_FIRST_REFRESH + REFRESH_STEP * seq
        stays = [("paid", False)] if random_() < 0.2 else []  # in the history, not the entry
        open_count = 1 if (draw := random_()) < 0.6 else (2 if draw < 0.9 else 3)
        disputed = random_() < 0.03
        stays += [
            ("disputed" if disputed and number == 0 else "unpaid", random_() < 0.1)
            for number in range(open_count)
        ]
        owing: list[dict[str, Any]] = []
        for status, partly in stays:
            self._session_id += 1
            lot_id, lot_name = LOTS[int(random_() * len(LOTS))]
            exited = refreshed - timedelta(seconds=60 * (5 + int(random_() * 525_600)))
            entered = exited - timedelta(seconds=60 * (10 + int(random_() * 720)))
            fee = 150 + 50 * int(random_() * 117)  # 1.50 to 59.50
            paid = fee if status == "paid" else (50 * int(random_() * (fee // 50)) if partly else 0)
            batch.sessions.append(
                {
                    "id": self._session_id,
                    "plate": plate,
                    "lot_id": lot_id,
                    "entered_at": time(entered),
                    "exited_at": time(exited),
                    "fee_cents": fee,
                    "paid_cents": paid,
                    "status": status,
                }
            )
            if status != "paid":
                owing.append(
                    {
                        "id": self._session_id,
                        "lot_id": lot_id,
                        "lot_name": lot_name,
                        "entered_at": entered,
                        "exited_at": exited,
                        "fee_cents": fee,
                        "paid_cents": paid,
                        "unpaid_cents": fee - paid,
                        "status": status,
                    }
                )
        # refresh_entry lists the open sessions oldest first (entered_at, then id).
        owing.sort(key=lambda row: (row["entered_at"], row["id"]))
        for row in owing:
            row["entered_at"] = iso_z(row["entered_at"])
            row["exited_at"] = iso_z(row["exited_at"])
        status = "disputed" if disputed else "active"
        unpaid = sum(row["unpaid_cents"] for row in owing)
        entry = {
            "plate": plate,
            "status": status,
            "unpaid_cents": unpaid,
            "currency": CURRENCY,
            "sessions": owing,
            "updated_at": iso_z(refreshed),
        }
        if batch.sample is None:
            batch.sample = entry
        entry_text = json.dumps(entry)
        row = {
            "plate": plate,
            "status": status,
            "unpaid_cents": unpaid,
            "updated_at": time(refreshed),
            "last_seq": seq,
            "entry": entry_text,
        }
        if _HAS_LOTS:
            row["lots"] = BlacklistEntry.lots_text(session["lot_id"] for session in owing)
        batch.entries.append(row)
        if seq >= self._first_kept:
            batch.changes.append(
                {
                    "seq": seq,
                    "plate": plate,
                    "action": "upsert",
                    "entry": entry_text,
                    "created_at": time(refreshed),
                }
            )


def published_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` as ``refresh_entry`` would publish it (through the API's own model)."""
    return EntryOut.model_validate(entry).model_dump(mode="json")


def _write(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (values as :class:`_Columns` prepares them) in one go.

    A Core ``INSERT`` executemany on a table clause without column types (no per-value
    processing); on PostgreSQL ``COPY``, which loads about 20 times faster than psycopg's
    executemany.
    """
    if not rows:
        return
    names = list(rows[0])
    if connection.dialect.name != "postgresql":
        untyped = sa_table(table.name, *(column(name) for name in names))
        connection.execute(insert(untyped), rows)
        return
    driver = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(  # type: ignore[union-attr]
            f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(tuple(row.values()))


def fill_blacklist(
    database_url: str,
    entries: int,
    *,
    seed: int = 0,
    changes_kept: int = CHANGES_KEPT,
) -> FillResult:
    """Migrate ``database_url`` and fill it with ``entries`` blacklisted vehicles.

    The database must hold no parking sessions or blacklist entries yet. The same
    ``seed`` gives the same plates, sessions and entries (the booth token is new every
    time). ``changes_kept`` newest changes stay in the feed; the rest count as pruned.
    """
    if entries < 0 or changes_kept < 0:
        raise ValueError("entries and changes_kept must be >= 0")
    changes_kept = min(changes_kept, entries)
    started = time.perf_counter()
    # The fill is rebuilt from scratch if the machine dies meanwhile: no fsync per batch.
    engine = make_engine(database_url, sqlite_synchronous="OFF")
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _large_sqlite_cache)
    token = secrets.token_urlsafe(32)
    vehicles = _Vehicles(seed, entries, changes_kept, _Columns(engine.dialect.name))
    try:
        upgrade_to_head(engine)
        with engine.begin() as connection:
            _refuse_filled(connection)
            _insert_lots(connection)
            connection.execute(
                insert(Booth.__table__),
                {
                    "id": BOOTH_ID,
                    "name": "Benchmark booth",
                    "lot_id": LOTS[0][0],
                    "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "created_at": FIRST_REFRESH,
                },
            )
        for number, batch in enumerate(vehicles.batches(BATCH)):
            # The hand-built JSON must be exactly what the server's model publishes.
            sample = batch.sample
            if number == 0 and sample is not None and published_entry(sample) != sample:
                raise AssertionError(f"entry shape differs from EntryOut: {sample}")
            with engine.begin() as connection:
                _write(connection, ParkingSession.__table__, batch.sessions)
                _write(connection, BlacklistEntry.__table__, batch.entries)
                _write(connection, BlacklistChange.__table__, batch.changes)
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # COPY wrote the session ids itself: move their sequence past them, or the
                # server's next session would collide with the fill's.
                connection.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('parking_sessions', 'id'),"
                    " GREATEST((SELECT max(id) FROM parking_sessions), 1))"
                )
            connection.execute(
                update(ServerState.__table__)
                .where(ServerState.__table__.c.id == STATE_ROW_ID)
                .values(latest_seq=entries, pruned_seq=entries - changes_kept)
            )
            # The rows went in past refresh_entry: count the flags and index their lots
            # and plates as the server would have.
            rebuild_flag_index(connection)
    finally:
        engine.dispose()
    result = FillResult(
        entries=entries,
        sessions=vehicles.sessions_made,
        latest_seq=entries,
        pruned_seq=entries - changes_kept,
        booth_id=BOOTH_ID,
        booth_token=token,
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "filled %d entries (%d sessions) in %.1f s", entries, result.sessions, result.seconds
    )
    return result


def _large_sqlite_cache(dbapi_connection: Any, _record: Any) -> None:
    # The plate indexes take a million random keys: keep their pages in memory.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA cache_size = -{FILL_CACHE_KIB}")
    finally:
        cursor.close()


def _refuse_filled(connection: Connection) -> None:
    for table in (ParkingSession.__table__, BlacklistEntry.__table__):
        if connection.execute(select(func.count()).select_from(table)).scalar_one():
            raise ValueError(f"{table.name} is not empty: fill a fresh database")


def _insert_lots(connection: Connection) -> None:
    existing = set(connection.execute(select(Lot.__table__.c.id)).scalars())
    rows = [{"id": lot_id, "name": name} for lot_id, name in LOTS if lot_id not in existing]
    if rows:
        connection.execute(insert(Lot.__table__), rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="SQLite or PostgreSQL URL")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--changes-kept", type=int, default=CHANGES_KEPT)
    parser.add_argument("--token-file", type=Path, help="write the booth's token here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = fill_blacklist(
        args.database_url, args.entries, seed=args.seed, changes_kept=args.changes_kept
    )
    if args.token_file is not None:
        args.token_file.write_text(result.booth_token + "\n", encoding="utf-8")
        args.token_file.chmod(0o600)
    print(
        f"booth={result.booth_id} entries={result.entries} sessions={result.sessions}"
        f" latest_seq={result.latest_seq} pruned_seq={result.pruned_seq}"
        f" fill_s={result.seconds:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
