"""Benchmark: blacklist cache build and three-tier lookup latency on a large cache.

Builds a temporary store with N entries through ``BlacklistCache.replace_all`` (the
full-resync path a booth uses), then times lookups of exact plates, OCR look-alike
variants, near variants (one character missing, extra or different) and misses.

    python bench/lookup.py --entries 1000000
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.domain import BlacklistEntry, EntryStatus, UnpaidSession
from desktop.plates import LOOK_ALIKE_GROUPS, MatchTier, equivalence_key
from desktop.store import Store

logger = logging.getLogger(__name__)

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"
ALNUM = LETTERS + DIGITS
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LOOK_ALIKE = {ch: group for group in LOOK_ALIKE_GROUPS for ch in group}
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def random_plate(rng: random.Random) -> str:
    """A plate in one of several real-world shapes, 6 to 8 characters."""
    shape = rng.random()
    pick = rng.choice
    if shape < 0.30:  # US: ABC1234
        return "".join(pick(LETTERS) for _ in range(3)) + "".join(pick(DIGITS) for _ in range(4))
    if shape < 0.50:  # California: 7XYZ042
        return (
            pick("123456789")
            + "".join(pick(LETTERS) for _ in range(3))
            + "".join(pick(DIGITS) for _ in range(3))
        )
    if shape < 0.70:  # China: 京A12345, new energy 京AD12345
        tail = 6 if rng.random() < 0.2 else 5
        return pick(PROVINCES) + pick(LETTERS) + "".join(pick(ALNUM) for _ in range(tail))
    if shape < 0.85:  # EU: AB123CD
        return (
            "".join(pick(LETTERS) for _ in range(2))
            + "".join(pick(DIGITS) for _ in range(3))
            + "".join(pick(LETTERS) for _ in range(2))
        )
    return "".join(pick(ALNUM) for _ in range(6))  # generic six


def unique_plates(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct plates whose equivalence keys are distinct too."""
    plates: list[str] = []
    keys: set[str] = set()
    while len(plates) < count:
        plate = random_plate(rng)
        key = equivalence_key(plate)
        if key not in keys:
            keys.add(key)
            plates.append(plate)
    return plates


def entries(plates: list[str], rng: random.Random) -> Iterator[BlacklistEntry]:
    """Blacklist entries with one to three unpaid sessions each, built lazily."""
    for index, plate in enumerate(plates):
        sessions = []
        for number in range(rng.randint(1, 3)):
            entered = BASE_TIME + timedelta(minutes=rng.randint(0, 500_000))
            fee = rng.randint(200, 5000)
            sessions.append(
                UnpaidSession(
                    id=index * 4 + number,
                    lot_id="north",
                    lot_name="North Garage",
                    entered_at=entered,
                    exited_at=entered + timedelta(hours=2),
                    fee_cents=fee,
                    unpaid_cents=fee,
                )
            )
        yield BlacklistEntry(
            plate=plate,
            status=EntryStatus.ACTIVE,
            currency="USD",
            unpaid_cents=sum(s.unpaid_cents for s in sessions),
            sessions=sessions,
            updated_at=BASE_TIME,
        )


def look_alike_variant(plate: str, rng: random.Random) -> str | None:
    """Swap one or two look-alike characters (what OCR gets wrong)."""
    positions = [i for i, ch in enumerate(plate) if ch in LOOK_ALIKE]
    if not positions:
        return None
    chars = list(plate)
    for i in rng.sample(positions, min(len(positions), rng.choice((1, 2)))):
        chars[i] = rng.choice([c for c in LOOK_ALIKE[chars[i]] if c != chars[i]])
    return "".join(chars)


def near_variant(plate: str, rng: random.Random) -> str:
    """Drop, add or change one character."""
    i = rng.randrange(len(plate))
    edit = rng.randrange(3)
    if edit == 0:
        return plate[:i] + plate[i + 1 :]
    if edit == 1:
        return plate[:i] + rng.choice(ALNUM) + plate[i:]
    other = rng.choice([c for c in ALNUM if equivalence_key(c) != equivalence_key(plate[i])])
    return plate[:i] + other + plate[i + 1 :]


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20_240_601)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    print(
        f"machine: {platform.platform()}; python {platform.python_version()}; "
        f"sqlite {sqlite3.sqlite_version}"
    )
    print(f"cpu: {cpu_model()}; cores: {os.cpu_count()}")

    plates = unique_plates(args.entries, rng)
    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as tmp:
        path = Path(tmp) / "store.db"
        store = Store(path)
        try:
            started = time.perf_counter()
            stored = store.blacklist.replace_all(entries(plates, rng), cursor=args.entries)
            build_s = time.perf_counter() - started
            with store.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            size_mb = path.stat().st_size / 1e6
            print(
                f"build: {stored} entries in {build_s:.1f} s "
                f"({stored / build_s:,.0f} entries/s); file {size_mb:.1f} MB"
            )

            queries = build_queries(plates, args.queries, rng)
            for read, _kind, _listed in queries[:200]:  # warm the page cache and pool
                store.blacklist.lookup(read)
            # as_expected: the source plate was hit in its tier (for misses: nothing hit;
            # at high density a random plate can legitimately sit near a listed one).
            timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
            found: dict[str, int] = dict.fromkeys(KINDS, 0)
            for read, kind, listed in queries:
                started_ns = time.perf_counter_ns()
                hits = store.blacklist.lookup(read)
                timings[kind].append((time.perf_counter_ns() - started_ns) / 1e6)
                if any(
                    hit.entry.plate == listed and hit.match.tier is KINDS[kind] for hit in hits
                ) or (kind == "miss" and not hits):
                    found[kind] += 1
        finally:
            store.close()

    for kind, values in timings.items():
        print(
            f"{kind:>6}: n={len(values)} as_expected={found[kind]} "
            f"median={statistics.median(values):.3f} ms "
            f"p90={percentile(values, 0.9):.3f} ms p99={percentile(values, 0.99):.3f} ms"
        )
    everything = [value for values in timings.values() for value in values]
    summary = {
        "entries": stored,
        "queries": len(everything),
        "build_s": f"{build_s:.1f}",
        "file_mb": f"{size_mb:.0f}",
        "median_ms": f"{statistics.median(everything):.3f}",
        "p90_ms": f"{percentile(everything, 0.9):.3f}",
        "p99_ms": f"{percentile(everything, 0.99):.3f}",
        **{
            f"{kind}_median_ms": f"{statistics.median(values):.3f}"
            for kind, values in timings.items()
        },
    }
    print(" ".join(f"{key}={value}" for key, value in summary.items()))
    return 0


# Query kinds and the tier a hit on the source plate must report (misses expect none).
KINDS: dict[str, MatchTier | None] = {
    "exact": MatchTier.EXACT,
    "ocr": MatchTier.OCR_EQUIVALENT,
    "near": MatchTier.NEAR,
    "miss": None,
}


def build_queries(plates: list[str], count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(read, kind, source plate) tuples: a quarter of each kind, shuffled."""
    listed = set(plates)
    queries: list[tuple[str, str, str]] = []
    per_kind = count // len(KINDS)
    while sum(kind == "exact" for _, kind, _ in queries) < per_kind:
        plate = rng.choice(plates)
        queries.append((plate, "exact", plate))
    made = 0
    while made < per_kind:
        plate = rng.choice(plates)
        variant = look_alike_variant(plate, rng)
        if variant is not None and variant not in listed:
            queries.append((variant, "ocr", plate))
            made += 1
    made = 0
    while made < per_kind:
        plate = rng.choice(plates)
        variant = near_variant(plate, rng)
        if len(variant) >= 5 and equivalence_key(variant) != equivalence_key(plate):
            queries.append((variant, "near", plate))
            made += 1
    made = 0
    while made < per_kind:
        plate = random_plate(rng)
        if plate not in listed:
            queries.append((plate, "miss", ""))
            made += 1
    rng.shuffle(queries)
    return queries


if __name__ == "__main__":
    raise SystemExit(main())
