"""Benchmark: the arrears hub under an open-loop load of many booths.

Starts the real server (``main.py serve``) on a fresh, seeded database and plays N
booths, each with its own token, against it from one asyncio process (aiohttp):

- ``POST /api/v1/reads`` once a second per booth (20% plates of a pool of owing
  vehicles, 80% fresh clear plates);
- ``GET /api/v1/blacklist/changes`` every 5 s per booth, following ``next_since``;
- ``POST /api/v1/outcomes`` once per 30-60 s per booth (random period and phase) for an
  owing plate it read: ``paid`` by cash with the exact amount (each pool plate paid at
  most once) or ``left_unpaid``.

The owing vehicles are not on the blacklist yet, so every first read of one lists it
(about a fifth of all reads: the worst case); ``--listed`` blacklists them before the
load, as they are in the steady state, and starts the booths synced.

The load is open loop: every request leaves at its scheduled time whatever earlier
ones are doing, and its latency is measured from that scheduled time, so a slow server
cannot slow the load down. Booth phases are spread evenly over the period.

Errors are non-2xx answers except the documented business answers (409
``already_paid`` to an outcome, 410 ``resync_required`` to a changes poll), plus
timeouts and connection errors. Latency percentiles cover every request scheduled in
the measured window, errors included (a timeout counts as its elapsed time).

    python bench/server_load.py --database postgres --booths 200
    python bench/server_load.py --database postgres --sweep 100,200,300,400,500,600
    python bench/server_load.py --database postgres --booths 200 --listed
    python bench/server_load.py --database sqlite --booths 50 --duration 20

The PostgreSQL URL comes from ``--database-url`` or ``RECOUP_TEST_POSTGRES_URL``; a
database with a random name is created next to it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import heapq
import os
import random
import signal
import sys
import tempfile
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load_support import (
    CpuSnapshot,
    CpuUse,
    ServerProcess,
    clear_plate,
    cpu_snapshot,
    cpu_use,
    database_version,
    fresh_database,
    machine_line,
    read_row_bytes,
    seed_database,
    serve_supports_workers,
)

API = "/api/v1"
READ_PERIOD_S = 1.0
POLL_PERIOD_S = 5.0
OUTCOME_PERIOD_S = (30.0, 60.0)
OWING_SHARE = 0.20
PAID_SHARE = 2 / 3
CHANGES_PAGE = 500
ENDPOINTS = ("reads", "changes", "outcomes")
#: Answers that are correct business outcomes, not errors.
BUSINESS = ("already_paid", "resync")
#: Close pooled connections before uvicorn's 5 s keep-alive does, so a request never
#: goes out on a connection the server is closing.
CLIENT_KEEPALIVE_S = 4.0
DEFAULT_POSTGRES_URL = "postgresql+psycopg://recoup:recoup@127.0.0.1:5432/recoup_test"


# -- the simulated booths ---------------------------------------------------------------


class OwingPool:
    """The owing plates reads pick from; a plate leaves the pool when a booth pays it."""

    def __init__(self, plates: list[str]) -> None:
        self._plates = list(plates)
        self._index = {plate: n for n, plate in enumerate(self._plates)}

    def pick(self, rng: random.Random) -> str:
        """A random plate still owing (as far as the generator knows)."""
        return self._plates[rng.randrange(len(self._plates))]

    def is_open(self, plate: str) -> bool:
        """Whether no booth has paid ``plate`` yet."""
        return plate in self._index

    def claim(self, plate: str) -> None:
        """Take ``plate`` out: a booth is paying it (swap with the last, pop)."""
        n = self._index.pop(plate)
        last = self._plates.pop()
        if n < len(self._plates):
            self._plates[n] = last
            self._index[last] = n


@dataclass
class BoothState:
    """One simulated booth: its token, lane, feed cursor and the owing reads it saw."""

    index: int
    token: str
    cursor: int = 0
    owing_reads: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=8))

    @property
    def headers(self) -> dict[str, str]:
        """The booth's bearer header."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def lane(self) -> str:
        """The booth's lane name."""
        return f"Exit {self.index % 4 + 1}"


@dataclass(frozen=True)
class Sample:
    """One request: endpoint, scheduled time, latency from it, and its result class."""

    endpoint: str
    scheduled: float
    latency_s: float
    result: str


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat()


def read_body(booth: BoothState, plate: str) -> dict[str, Any]:
    """A ``ReadIn`` body with a fresh read_id."""
    return {
        "read_id": str(uuid.uuid4()),
        "plate": plate,
        "lane": booth.lane,
        "seen_at": now_iso(),
        "confidence": 0.93,
        "source": "camera",
    }


def outcome_body(booth: BoothState, entry: dict[str, Any], kind: str) -> dict[str, Any]:
    """An ``OutcomeIn`` body for the unpaid sessions of ``entry``."""
    sessions = [s for s in entry["sessions"] if s["status"] == "unpaid" and s["unpaid_cents"] > 0]
    paid = kind == "paid"
    return {
        "outcome_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": entry["plate"],
        "lane": booth.lane,
        "kind": kind,
        "method": "cash" if paid else None,
        "amount_cents": sum(s["unpaid_cents"] for s in sessions) if paid else 0,
        "session_ids": [s["id"] for s in sessions],
        "reason": None,
        "reference": None,
        "attendant": f"attendant-{booth.index}",
        "recorded_at": now_iso(),
    }


def http_result(status: int) -> str:
    """Result class of an answer that is neither 2xx nor a business answer."""
    return "ok" if 200 <= status < 300 else f"http_{status}"


class LoadGenerator:
    """Sends the booths' requests on schedule and records one ``Sample`` each."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        booths: list[BoothState],
        pool: OwingPool,
        rng: random.Random,
    ) -> None:
        self.http = http
        self.base = base_url + API
        self.booths = booths
        self.pool = pool
        self.rng = rng
        self.samples: list[Sample] = []
        self.dispatch_lag_s: list[float] = []
        self.outcomes_skipped = 0
        self.outcome_kinds: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    # Each request returns its result class; exceptions are classified by ``fire``.

    async def post_read(self, booth: BoothState) -> str:
        """Report one plate read; remember the entry of an owing answer."""
        owing = self.rng.random() < OWING_SHARE
        plate = self.pool.pick(self.rng) if owing else clear_plate(self.rng)
        url = f"{self.base}/reads"
        async with self.http.post(url, json=read_body(booth, plate), headers=booth.headers) as r:
            if r.status != 200 or not owing:
                await r.read()
                return http_result(r.status)
            answer = await r.json()
        if answer["owes"] and answer["entry"]:
            booth.owing_reads.append(answer["entry"])
        return "ok"

    async def poll_changes(self, booth: BoothState) -> str:
        """Pull the blacklist changes after the booth's cursor, every page."""
        while True:
            params = {"since": booth.cursor, "limit": CHANGES_PAGE}
            url = f"{self.base}/blacklist/changes"
            async with self.http.get(url, params=params, headers=booth.headers) as r:
                if r.status == 410:
                    detail = (await r.json())["detail"]
                    booth.cursor = int(detail["latest_seq"])
                    return "resync"
                if r.status != 200:
                    await r.read()
                    return http_result(r.status)
                page = await r.json()
            booth.cursor = max(booth.cursor, int(page["next_since"]))
            if not page["has_more"]:
                return "ok"

    def _outcome_entry(self, booth: BoothState) -> dict[str, Any] | None:
        """The booth's latest owing read whose plate no booth has paid yet."""
        while booth.owing_reads:
            entry = booth.owing_reads.pop()
            if self.pool.is_open(entry["plate"]):
                return entry
        return None

    async def post_outcome(self, booth: BoothState) -> str | None:
        """Record ``paid`` or ``left_unpaid`` for an owing plate the booth read."""
        entry = self._outcome_entry(booth)
        if entry is None:
            self.outcomes_skipped += 1
            return None
        kind = "paid" if self.rng.random() < PAID_SHARE else "left_unpaid"
        if kind == "paid":
            self.pool.claim(entry["plate"])
        self.outcome_kinds[kind] += 1
        body = outcome_body(booth, entry, kind)
        async with self.http.post(f"{self.base}/outcomes", json=body, headers=booth.headers) as r:
            if r.status == 409:
                answer = await r.json()
                return "already_paid" if answer.get("status") == "already_paid" else "http_409"
            await r.read()
            return http_result(r.status)

    async def fire(
        self,
        endpoint: str,
        request: Callable[[BoothState], Awaitable[str | None]],
        booth: BoothState,
        scheduled: float,
    ) -> None:
        """Run one request and record its latency from ``scheduled``."""
        loop = asyncio.get_running_loop()
        try:
            result = await request(booth)
        except TimeoutError:
            result = "timeout"
        except (aiohttp.ClientError, OSError):
            result = "connection"
        except (ValueError, KeyError, TypeError):
            result = "bad_answer"
        if result is not None:
            self.samples.append(Sample(endpoint, scheduled, loop.time() - scheduled, result))

    def first_events(self, start: float) -> list[tuple[float, int, str, int, float]]:
        """The first event of every (booth, endpoint): (due, tie, endpoint, booth, period).

        Reads and polls are spread evenly over their period; outcomes get a random
        period in 30-60 s and a random phase. ``tie`` keeps the heap order total.
        """
        n = len(self.booths)
        events: list[tuple[float, int, str, int, float]] = []
        for i in range(n):
            outcome_period = self.rng.uniform(*OUTCOME_PERIOD_S)
            tie = 3 * i
            events.append((start + READ_PERIOD_S * i / n, tie, "reads", i, READ_PERIOD_S))
            poll_due = start + POLL_PERIOD_S * (i + 0.5) / n
            events.append((poll_due, tie + 1, "changes", i, POLL_PERIOD_S))
            outcome_due = start + self.rng.uniform(0, outcome_period)
            events.append((outcome_due, tie + 2, "outcomes", i, outcome_period))
        return events

    async def run(self, start: float, end: float, timeout_s: float) -> None:
        """Dispatch every event due before ``end``, then wait for the ones in flight.

        All events already due leave in one batch before the loop is yielded to: with
        hundreds of sockets open one loop iteration costs milliseconds, so yielding
        between events would let the schedule fall behind.
        """
        loop = asyncio.get_running_loop()
        requests = {
            "reads": self.post_read,
            "changes": self.poll_changes,
            "outcomes": self.post_outcome,
        }
        heap = self.first_events(start)
        heapq.heapify(heap)
        tie = len(heap)
        while heap and heap[0][0] < end:
            await asyncio.sleep(max(heap[0][0] - loop.time(), 0.0))
            now = loop.time()
            while heap and heap[0][0] <= now and heap[0][0] < end:
                due, _, endpoint, i, period = heapq.heappop(heap)
                self.dispatch_lag_s.append(now - due)
                request = requests[endpoint]
                task = loop.create_task(self.fire(endpoint, request, self.booths[i], due))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                heapq.heappush(heap, (due + period, tie, endpoint, i, period))
                tie += 1
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s + 5.0)


# -- one run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunConfig:
    """What a run needs besides its booth count."""

    database: str
    base_url: str | None
    workers: int | None
    duration_s: float
    warmup_s: float
    timeout_s: float
    owing_plates: int
    listed: bool
    seed: int


@dataclass(frozen=True)
class EndpointStats:
    """Figures of one endpoint (or of all, ``name == "all"``) in the measured window."""

    name: str
    sent: int
    ok: int
    business: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class RunResult:
    """Everything a run reports."""

    booths: int
    duration_s: float
    offered_rps: float
    ok_rps: float
    overall: EndpointStats
    endpoints: list[EndpointStats]
    results: Counter[str]
    cpu: CpuUse
    dispatch_lag_p99_ms: float
    outcome_kinds: Counter[str]
    outcomes_skipped: int
    server_exit: int | None
    #: PostgreSQL: bytes on disk per stored read (None on SQLite)
    read_row_bytes: float | None = None

    @property
    def errors(self) -> int:
        """Requests that failed (not 2xx and not a business answer)."""
        return self.overall.errors

    @property
    def error_rate(self) -> float:
        """Errors over requests sent in the window."""
        return self.overall.errors / max(self.overall.sent, 1)

    def within(self, p99_limit_ms: float) -> bool:
        """p99 at most the limit and no error."""
        return self.overall.p99_ms <= p99_limit_ms and self.errors == 0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ascending values; 0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def endpoint_stats(name: str, samples: list[Sample]) -> EndpointStats:
    """Counts and latency percentiles (ms) of ``samples``."""
    latencies = sorted(s.latency_s * 1000.0 for s in samples)
    ok = sum(s.result == "ok" for s in samples)
    business = sum(s.result in BUSINESS for s in samples)
    return EndpointStats(
        name=name,
        sent=len(samples),
        ok=ok,
        business=business,
        errors=len(samples) - ok - business,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else 0.0,
    )


def measure(
    generator: LoadGenerator,
    *,
    booths: int,
    window: tuple[float, float],
    cpu: CpuUse,
    server_exit: int | None,
) -> RunResult:
    """Turn the samples scheduled inside ``window`` into a ``RunResult``."""
    begin, end = window
    duration = end - begin
    inside = [s for s in generator.samples if begin <= s.scheduled < end]
    overall = endpoint_stats("all", inside)
    lags = sorted(generator.dispatch_lag_s)
    return RunResult(
        booths=booths,
        duration_s=duration,
        offered_rps=overall.sent / duration,
        ok_rps=(overall.ok + overall.business) / duration,
        overall=overall,
        endpoints=[endpoint_stats(e, [s for s in inside if s.endpoint == e]) for e in ENDPOINTS],
        results=Counter(s.result for s in inside),
        cpu=cpu,
        dispatch_lag_p99_ms=percentile(lags, 99) * 1000.0,
        outcome_kinds=generator.outcome_kinds,
        outcomes_skipped=generator.outcomes_skipped,
        server_exit=server_exit,
    )


async def drive(
    server: ServerProcess,
    booths: list[BoothState],
    pool: OwingPool,
    config: RunConfig,
    database_name: str | None,
) -> RunResult:
    """Warm up, measure for ``duration_s`` with CPU snapshots at both ends, drain."""
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(
        limit=max(100, 2 * len(booths)), keepalive_timeout=CLIENT_KEEPALIVE_S
    )
    timeout = aiohttp.ClientTimeout(total=config.timeout_s)
    rng = random.Random(config.seed + 1)
    assert server.process is not None
    pid = server.process.pid
    postgres = config.database == "postgres"
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        generator = LoadGenerator(http, server.url, booths, pool, rng)
        start = loop.time() + 0.2
        begin = start + config.warmup_s
        end = begin + config.duration_s

        async def snapshots() -> tuple[CpuSnapshot, CpuSnapshot]:
            await asyncio.sleep(begin - loop.time())
            before = cpu_snapshot(pid, database_name)
            await asyncio.sleep(end - loop.time())
            return before, cpu_snapshot(pid, database_name)

        watcher = loop.create_task(snapshots())
        await generator.run(start, end, config.timeout_s)
        before, after = await watcher
    return measure(
        generator,
        booths=len(booths),
        window=(begin, end),
        cpu=cpu_use(before, after, postgres=postgres),
        server_exit=server.exit_code(),
    )


def tune_gc() -> None:
    """Freeze what exists before the load and collect less often: a full collection
    over everything aiohttp allocates stalls the loop long enough to delay the schedule."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)


def run_once(booth_count: int, config: RunConfig) -> RunResult:
    """One run: fresh database, server, load, teardown (also on Ctrl+C)."""
    rng = random.Random(config.seed)
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="recoup-load-")))
        url = stack.enter_context(fresh_database(config.database, config.base_url, folder))
        fixture = seed_database(
            url, booths=booth_count, owing=config.owing_plates, rng=rng, listed=config.listed
        )
        print(
            f"  seeded {booth_count} booths, {len(fixture.owing_plates)} owing plates "
            f"({fixture.sessions} unpaid sessions), "
            + ("all on the blacklist" if config.listed else "none listed yet"),
            flush=True,
        )
        server = ServerProcess(url, workers=config.workers, folder=folder)
        stack.callback(server.stop)
        server.start(fixture.tokens[0])
        booths = [
            BoothState(i, token, cursor=fixture.latest_seq)
            for i, token in enumerate(fixture.tokens)
        ]
        database_name = make_url(url).database if config.database == "postgres" else None
        tune_gc()
        result = asyncio.run(
            drive(server, booths, OwingPool(fixture.owing_plates), config, database_name)
        )
        result = dataclasses.replace(result, read_row_bytes=read_row_bytes(url))
        if result.server_exit is not None:
            print(f"  the server exited with {result.server_exit}:\n{server.log_tail()}")
        elif any(kind.startswith("http_5") for kind in result.results):
            print(f"  server log (last lines):\n{server.log_tail(20)}")
        return result


# -- reporting --------------------------------------------------------------------------


def print_run(result: RunResult, config: RunConfig) -> None:
    """The table of one run."""
    print(
        f"\n{result.booths} booths, {config.database}, {result.duration_s:.0f} s measured: "
        f"offered {result.offered_rps:.1f} req/s, ok {result.ok_rps:.1f} req/s"
    )
    header = f"  {'endpoint':<9}{'sent':>8}{'ok':>8}{'biz':>6}{'err':>7}"
    print(header + f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>10}")
    for row in [*result.endpoints, result.overall]:
        print(
            f"  {row.name:<9}{row.sent:>8}{row.ok:>8}{row.business:>6}{row.errors:>7}"
            f"{row.p50_ms:>9.1f}{row.p95_ms:>9.1f}{row.p99_ms:>9.1f}{row.max_ms:>10.1f}"
        )
    kinds = {k: v for k, v in sorted(result.results.items()) if k != "ok"}
    print(f"  answers other than ok: {kinds or 'none'}; error rate {result.error_rate:.4%}")
    cpu = result.cpu
    pg = (
        f", PostgreSQL backends {cpu.postgres_pct:.0f}% (all postgres {cpu.postgres_all_pct:.0f}%)"
        if cpu.postgres_pct is not None
        else ""
    )
    print(
        f"  CPU (% of one core): server {cpu.server_pct:.0f}%{pg}, generator "
        f"{cpu.generator_pct:.0f}%; machine busy {cpu.machine_busy_pct:.0f}% of all cores, "
        f"load average {cpu.load_1m[0]:.1f} -> {cpu.load_1m[1]:.1f}"
    )
    print(
        f"  generator dispatch lag p99 {result.dispatch_lag_p99_ms:.1f} ms; outcomes "
        f"{dict(result.outcome_kinds)}, skipped (nothing owing read yet) {result.outcomes_skipped}"
    )
    if result.read_row_bytes is not None:
        print(f"  a stored read takes {result.read_row_bytes:.0f} bytes on disk (with indexes)")


def print_sweep(results: list[RunResult], p99_limit_ms: float) -> None:
    """One line per booth count of a sweep."""
    print(f"\nsweep (goal: p99 <= {p99_limit_ms:.0f} ms, no error)")
    print(
        f"  {'booths':>6}{'offered':>9}{'ok rps':>9}{'p50':>8}{'p99':>9}{'errors':>8}{'server':>8}"
    )
    for r in results:
        verdict = "ok" if r.within(p99_limit_ms) else "over"
        print(
            f"  {r.booths:>6}{r.offered_rps:>9.1f}{r.ok_rps:>9.1f}{r.overall.p50_ms:>8.1f}"
            f"{r.overall.p99_ms:>9.1f}{r.errors:>8}{r.cpu.server_pct:>7.0f}%  {verdict}"
        )


def summary_line(
    result: RunResult,
    config: RunConfig,
    *,
    workers_flag: bool,
    knee: str,
    p99_limit_ms: float,
    sweep: list[RunResult] | None = None,
) -> str:
    """The closing ``key=value`` line."""
    cpu = result.cpu
    pairs: dict[str, object] = {
        "database": config.database,
        "workers": config.workers if workers_flag else 1,
        "workers_flag": "yes" if workers_flag else "absent",
        "booths": result.booths,
        "owing_listed": "yes" if config.listed else "no",
        "duration_s": f"{result.duration_s:.0f}",
        "offered_rps": f"{result.offered_rps:.1f}",
        "ok_rps": f"{result.ok_rps:.1f}",
        "p50_ms": f"{result.overall.p50_ms:.1f}",
        "p95_ms": f"{result.overall.p95_ms:.1f}",
        "p99_ms": f"{result.overall.p99_ms:.1f}",
        "max_ms": f"{result.overall.max_ms:.1f}",
        "errors": result.errors,
        "error_rate": f"{result.error_rate:.4f}",
        "http_503": result.results.get("http_503", 0),
        "timeouts": result.results.get("timeout", 0),
        "server_cpu_pct": f"{cpu.server_pct:.0f}",
        "postgres_cpu_pct": "na" if cpu.postgres_pct is None else f"{cpu.postgres_pct:.0f}",
        "postgres_all_cpu_pct": "na"
        if cpu.postgres_all_pct is None
        else f"{cpu.postgres_all_pct:.0f}",
        "generator_cpu_pct": f"{cpu.generator_pct:.0f}",
        "dispatch_lag_p99_ms": f"{result.dispatch_lag_p99_ms:.1f}",
        "machine_busy_pct": f"{cpu.machine_busy_pct:.0f}",
        "load_1m": f"{cpu.load_1m[0]:.1f}/{cpu.load_1m[1]:.1f}",
        "read_row_bytes": "na" if result.read_row_bytes is None else f"{result.read_row_bytes:.0f}",
        "within_goal": "yes" if result.within(p99_limit_ms) else "no",
        "knee_booths": knee,
    }
    if sweep:
        pairs["sweep_p99_ms"] = ",".join(f"{r.booths}:{r.overall.p99_ms:.0f}" for r in sweep)
        pairs["sweep_errors"] = ",".join(f"{r.booths}:{r.errors}" for r in sweep)
    return " ".join(f"{key}={value}" for key, value in pairs.items())


# -- command line -----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    counts = parser.add_mutually_exclusive_group()
    counts.add_argument("--booths", type=int, default=50, help="booths of one run (default 50)")
    counts.add_argument(
        "--sweep", default=None, help="comma-separated booth counts, run in turn up to the knee"
    )
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RECOUP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL URL next to which the load database is created "
        "(default: RECOUP_TEST_POSTGRES_URL or the local test server)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--timeout", type=float, default=10.0, help="client timeout, seconds")
    parser.add_argument("--owing-plates", type=int, default=10_000, help="owing vehicle pool")
    parser.add_argument(
        "--listed",
        action="store_true",
        help="put the owing pool on the blacklist before the load (the steady state); "
        "by default every first read of an owing plate lists it (the worst case)",
    )
    parser.add_argument("--p99-limit-ms", type=float, default=100.0, help="goal for p99")
    parser.add_argument("--full-sweep", action="store_true", help="keep sweeping past the knee")
    parser.add_argument("--seed", type=int, default=26)
    return parser.parse_args(argv)


def resolve_workers(requested: int) -> tuple[int | None, bool]:
    """(value to pass, whether serve has ``--workers``); prints the fallback."""
    if serve_supports_workers():
        return requested, True
    print(f"main.py serve has no --workers option yet: one server process (asked {requested})")
    return None, False


def terminate_as_interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM behaves like Ctrl+C, so every run tears down its server and database."""
    signal.raise_signal(signal.SIGINT)


def handle_interrupts() -> None:
    """Ctrl+C raises KeyboardInterrupt even when started with SIGINT ignored (a
    background job), and SIGTERM does the same."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, terminate_as_interrupt)


def sweep_counts(args: argparse.Namespace) -> list[int]:
    """The booth counts to run, ascending."""
    if args.sweep:
        return sorted({int(part) for part in args.sweep.split(",") if part.strip()})
    return [args.booths]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    handle_interrupts()
    workers, workers_flag = resolve_workers(args.workers)
    config = RunConfig(
        database=args.database,
        base_url=args.database_url if args.database == "postgres" else None,
        workers=workers,
        duration_s=args.duration,
        warmup_s=args.warmup,
        timeout_s=args.timeout,
        owing_plates=args.owing_plates,
        listed=args.listed,
        seed=args.seed,
    )
    version = (
        database_version(config.base_url) if config.base_url else database_version("sqlite://")
    )
    print(machine_line(version))
    results: list[RunResult] = []
    knee = "none"
    try:
        for count in sweep_counts(args):
            print(f"\nrun: {count} booths on {config.database}, workers {workers or 1}", flush=True)
            result = run_once(count, config)
            print_run(result, config)
            results.append(result)
            if not result.within(args.p99_limit_ms) and knee == "none":
                knee = str(count)
                if not args.full_sweep:
                    break
    except KeyboardInterrupt:
        print("\ninterrupted: server stopped and load database removed")
        return 130
    if not args.sweep:
        knee = "na"
    if args.sweep:
        print_sweep(results, args.p99_limit_ms)
    passing = [r for r in results if r.within(args.p99_limit_ms)]
    shown = passing[-1] if passing and args.sweep else results[-1]
    print(
        summary_line(
            shown,
            config,
            workers_flag=workers_flag,
            knee=knee,
            p99_limit_ms=args.p99_limit_ms,
            sweep=results if args.sweep else None,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
