"""Benchmark: one page of the supervisor's flag list at 1,000,000 blacklist entries.

Fills a fresh server database (``bench.blacklist_fill``) with N blacklisted vehicles,
adds decided flags (``flag_history``), plate reads for the newest flags (so a page
looks its sightings up) and the demo supervisor, then times
``GET /api/v1/supervisor/flags?limit=100`` for the first page, a middle page (through
``offset`` and through ``after``, the cursor of the page before) and pages filtered by
status (disputed, active, waived), lot (alone, with a status, with a plate), amount,
time, plate (three characters, and one: the case no index serves) and four at once:

- ``fn``: ``server.flags.page_flags`` on one SQLAlchemy session (SQL, rows to FlagOut);
- ``http``: the real server (``main.py serve``, one process) on 127.0.0.1, with a
  supervisor token, answer read and parsed.

The fill writes its rows in bulk, past ``refresh_entry`` and ``add_history``, so the
flag counters and side tables are rebuilt from them afterwards
(``server.flags.rebuild_flag_index``). Each figure is the median of ``--repeats`` runs
after one warm-up. On PostgreSQL the fill is followed by ``VACUUM ANALYZE`` (what
autovacuum does to a table at rest); the SQLite file is used as the server leaves it
(no ``ANALYZE``).

    python bench/flags_page.py                      # SQLite and PostgreSQL, 1,000,000
    python bench/flags_page.py --database sqlite --entries 100000

The PostgreSQL URL comes from ``--database-url`` or ``RECOUP_TEST_POSTGRES_URL``; a
database with a random name is created next to it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.pool import NullPool

from bench.blacklist_fill import (
    BOOTH_ID,
    FIRST_REFRESH,
    LOTS,
    REFRESH_STEP,
    fill_blacklist,
    random_plate,
)
from bench.load_support import ServerProcess, cpu_model, database_version, fresh_database
from server.db import make_engine, make_session_factory
from server.flags import CURRENT, FlagCursor, FlagFilter, FlagPage, page_flags, rebuild_flag_index
from server.models import BlacklistEntry, FlagHistory, PlateRead
from server.seed import DEMO_SUPERVISOR, seed_demo

API = "/api/v1"
LIMIT = 100
#: Decided flags added beside the entries, and the newest entries given plate reads.
HISTORY_PER_MILLION = 50_000
SIGHTED_NEWEST = 2_000
READS_PER_SIGHTED = 3
VACUUMED = ("blacklist_entries", "flag_history", "flag_lots", "plate_reads", "parking_sessions")


@dataclass(frozen=True)
class Case:
    """One page to time: its query parameters and the same as a FlagFilter."""

    name: str
    params: dict[str, Any]
    #: Start after the cursor of the row before ``offset`` (``after``, what a client got
    #: with the page before) instead of skipping ``offset`` rows.
    keyset: bool = False

    def flag_filter(self) -> FlagFilter:
        status = self.params.get("status")
        since = self.params.get("since")
        return FlagFilter(
            statuses=(status,) if status else CURRENT,
            lot=self.params.get("lot"),
            min_cents=self.params.get("min_cents"),
            since=None if since is None else datetime.fromisoformat(since),
            plate=self.params.get("plate"),
        )

    def query(self) -> dict[str, Any]:
        """The HTTP query parameters (the cursor takes the offset's place)."""
        params = {key: value for key, value in self.params.items() if key != "offset"}
        if not self.keyset:
            params["offset"] = self.offset
        return {**params, "limit": LIMIT}

    @property
    def offset(self) -> int:
        return int(self.params.get("offset", 0))


def cases(entries: int) -> list[Case]:
    """The pages timed; the middle page sits halfway down the unfiltered list, the time
    filter asks for the newest tenth of the entries (the fill refreshes one per step)."""
    middle = (entries // 2) // LIMIT * LIMIT
    since = FIRST_REFRESH + REFRESH_STEP * (entries - entries // 10)
    return [
        Case("first", {}),
        Case("middle", {"offset": middle}),
        Case("middle_keyset", {"offset": middle}, keyset=True),
        Case("status", {"status": "disputed"}),
        Case("active", {"status": "active"}),
        Case("decided", {"status": "waived"}),
        Case("lot", {"lot": "harbour"}),
        Case("lot_status", {"lot": "harbour", "status": "disputed"}),
        Case("lot_plate", {"lot": "harbour", "plate": "123"}),
        Case("min_cents", {"min_cents": 8000}),
        Case("since", {"since": since.isoformat()}),
        Case("plate", {"plate": "AB1"}),
        Case("plate_short", {"plate": "A"}),
        Case(
            "combined",
            {"status": "active", "lot": "harbour", "min_cents": 2000, "plate": "A"},
        ),
    ]


def load() -> str:
    """The 1-minute load average, or "?" where the system does not tell."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def median_ms(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``run`` in ms over ``repeats`` runs after one warm-up."""
    result = run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


# -- the database -----------------------------------------------------------------------


def add_history(engine: Engine, count: int, rng: random.Random) -> None:
    """``count`` decided flags of other plates, decided over the fill's time span."""
    span_s = int(timedelta(days=365).total_seconds())
    rows = []
    for number in range(count):
        lots = sorted({rng.choice(LOTS)[0] for _ in range(rng.choice((1, 1, 2)))})
        decided = FIRST_REFRESH + timedelta(seconds=rng.randrange(span_s))
        rows.append(
            {
                "plate": random_plate(rng),
                "status": "waived" if rng.random() < 0.7 else "cleared",
                "session_ids": [10_000_000 + number],
                "unpaid_cents": rng.randrange(150, 9000, 50),
                "currency": "USD",
                "lots": lots,
                "first_unpaid_at": decided - timedelta(days=rng.randint(1, 60)),
                "reason": "benchmark",
                "decided_by": DEMO_SUPERVISOR[0],
                "source": "supervisor",
                "decided_at": decided,
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(FlagHistory.__table__), rows)


def add_reads(engine: Engine, rng: random.Random) -> int:
    """Plate reads of the newest entries (the first pages), a few per plate."""
    with engine.connect() as connection:
        plates = list(
            connection.scalars(
                select(BlacklistEntry.plate)
                .order_by(BlacklistEntry.updated_at.desc())
                .limit(SIGHTED_NEWEST)
            )
        )
    rows = [
        {
            "read_id": uuid.UUID(int=rng.getrandbits(128)),
            "booth_id": BOOTH_ID,
            "plate": plate,
            "lane": f"Exit {rng.randint(1, 4)}",
            "seen_at": FIRST_REFRESH + timedelta(days=400, minutes=rng.randrange(10_000)),
            "confidence": 0.9,
            "source": "camera",
            "answer": {"owes": True},
        }
        for plate in plates
        for _ in range(READS_PER_SIGHTED)
    ]
    with engine.begin() as connection:
        connection.execute(insert(PlateRead.__table__), rows)
    return len(rows)


def prepare(url: str, entries: int) -> str:
    """Fill the database; return the booth token (the server's readiness probe)."""
    filled = fill_blacklist(url, entries, seed=0)
    print(f"  filled {entries:,} entries ({filled.sessions:,} sessions) in {filled.seconds:.0f} s")
    rng = random.Random(1)
    engine = make_engine(url)
    try:
        history = entries * HISTORY_PER_MILLION // 1_000_000
        add_history(engine, history, rng)
        with make_session_factory(engine)() as session:
            seed_demo(session)
        reads = add_reads(engine, rng)
        print(f"  added {history:,} decided flags, {reads:,} plate reads, the demo data")
        started = time.perf_counter()
        with engine.begin() as connection:
            rebuild_flag_index(connection)
        print(
            f"  rebuilt the flag counters and side tables in {time.perf_counter() - started:.0f} s"
        )
    finally:
        engine.dispose()
    if url.startswith("postgresql"):
        vacuum = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with vacuum.connect() as connection:
            connection.execute(text(f"VACUUM ANALYZE {', '.join(VACUUMED)}"))
        vacuum.dispose()
    return filled.booth_token


# -- measuring --------------------------------------------------------------------------


def time_function(url: str, pages: list[Case], repeats: int) -> dict[str, tuple[float, int]]:
    """Median ms of ``page_flags`` per case, and the total it reported."""
    engine = make_engine(url)
    figures = {}
    try:
        with make_session_factory(engine)() as session:
            for case in pages:
                flt, offset, after = case.flag_filter(), case.offset, None
                if case.keyset:  # the cursor a client got with the page before
                    after = page_flags(session, flt, limit=1, offset=offset - 1).next_after
                    offset = 0

                def run(
                    flt: FlagFilter = flt, offset: int = offset, after: FlagCursor | None = after
                ) -> FlagPage:
                    page = page_flags(session, flt, limit=LIMIT, offset=offset, after=after)
                    session.rollback()  # a fresh transaction (snapshot) per page
                    return page

                ms, page = median_ms(run, repeats)
                if not page.items:
                    raise AssertionError(f"{case.name}: empty page")
                figures[case.name] = (ms, page.total)
    finally:
        engine.dispose()
    return figures


def _request(url: str, *, token: str | None = None, body: dict | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def time_http(
    url: str, booth_token: str, pages: list[Case], repeats: int, folder: Path
) -> dict[str, tuple[float, int]]:
    """Median ms of ``GET /supervisor/flags`` per case through the real server."""
    server = ServerProcess(url, workers=None, folder=folder)
    server.start(booth_token)
    figures = {}
    try:
        username, password, _pin = DEMO_SUPERVISOR
        login = {"username": username, "password": password}
        token = _request(f"{server.url}{API}/supervisor/login", body=login)["token"]
        flags_url = f"{server.url}{API}/supervisor/flags"
        for case in pages:
            query = case.query()
            if case.keyset:  # the cursor a client got with the page before
                before = {**query, "limit": 1, "offset": case.offset - 1}
                url_before = f"{flags_url}?{urllib.parse.urlencode(before)}"
                query["after"] = _request(url_before, token=token)["next_after"]
            page_url = f"{flags_url}?{urllib.parse.urlencode(query)}"
            ms, page = median_ms(lambda page_url=page_url: _request(page_url, token=token), repeats)
            if len(page["items"]) == 0:
                raise AssertionError(f"{case.name}: empty page")
            figures[case.name] = (ms, int(page["total"]))
    finally:
        server.stop()
    return figures


def count_rows(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            entries = connection.scalar(select(func.count()).select_from(BlacklistEntry))
            history = connection.scalar(select(func.count()).select_from(FlagHistory))
            return int(entries or 0), int(history or 0)
    finally:
        engine.dispose()


def run_database(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """Fill one database, time every case both ways, print a table; the figures."""
    pages = cases(args.entries)
    with fresh_database(kind, args.database_url, folder) as url:
        print(f"{kind}: {database_version(url)}")
        booth_token = prepare(url, args.entries)
        entries, history = count_rows(url)
        print(f"  load average {load()} before timing")
        function = time_function(url, pages, args.repeats)
        http = time_http(url, booth_token, pages, args.repeats, folder)
    print(f"  {entries:,} entries, {history:,} decided flags; ms per page of {LIMIT}:")
    print(f"  {'page':<14} {'fn':>8} {'http':>8} {'total':>10}  parameters")
    figures = {}
    for case in pages:
        fn_ms, total = function[case.name]
        figures[f"{kind}_{case.name}_fn_ms"] = fn_ms
        http_ms, http_total = http[case.name]
        if total != http_total:
            raise AssertionError(f"{case.name}: page_flags total {total}, HTTP {http_total}")
        figures[f"{kind}_{case.name}_http_ms"] = http_ms
        how = " after a cursor" if case.keyset else ""
        print(f"  {case.name:<14} {fn_ms:>8.1f} {http_ms:>8.1f} {total:>10,}  {case.params}{how}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RECOUP_TEST_POSTGRES_URL"),
        help="PostgreSQL server to create the database on (default: RECOUP_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite file goes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {platform.platform()}; python {platform.python_version()}")
    print(f"cpu: {cpu_model()}; cores: {os.cpu_count()}; load average {load()} at the start")
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="flags-page-") as name:
        for kind in kinds:
            figures.update(run_database(kind, args, Path(name)))
    print(f"load average {load()} at the end (other work on the machine slows every figure)")
    pairs = [f"entries={args.entries}", f"repeats={args.repeats}"]
    pairs += [f"{key}={value:.1f}" for key, value in figures.items()]
    print(" ".join(pairs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
