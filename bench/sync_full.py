"""Benchmark: a fresh booth's first full sync of a large blacklist, end to end.

Fills a fresh server database with N blacklisted vehicles (``bench/blacklist_fill.py``),
starts the real server (``python main.py serve``) in its own process, then runs a fresh
booth in another process: a real ``Store``, ``ServerClient`` and ``SyncWorker``, timing
``sync_once()`` (the server answers 410 to cursor 0, so the booth downloads the snapshot
page by page and then pulls the changes since it). Prints the fill time, the sync time,
entries per second, the booth's peak resident memory, its database size on disk (main
file and WAL, and the largest the WAL grew during the sync), the CPU seconds of booth
and server, and the machine.

    python bench/sync_full.py                          # 1,000,000 entries, SQLite
    python bench/sync_full.py --entries 100000 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from sqlalchemy import func, select, update

from bench.blacklist_fill import BOOTH_ID, fill_blacklist
from desktop.sync import SNAPSHOT_PAGE_SIZE
from server.db import make_engine
from server.models import BlacklistEntry, Booth
from server.security import hash_token

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 60.0
SERVER_START_S = 60.0
MIB = 1024 * 1024


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    """CPU model, cores, memory, Python and SQLite versions of this machine."""
    model = platform.processor() or "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / MIB:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(terse=True),
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), or 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- booth side


class _WalWatch:
    """Samples the size of the booth's WAL file while the sync runs (largest seen)."""

    def __init__(self, wal: Path, every_s: float = 0.05) -> None:
        self._wal = wal
        self._every_s = every_s
        self._stop = threading.Event()
        self.largest = 0
        self._thread = threading.Thread(target=self._run, name="wal-watch", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            with suppress(FileNotFoundError):
                self.largest = max(self.largest, self._wal.stat().st_size)

    def __enter__(self) -> _WalWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss on Linux also counts the
    parent's memory at fork, before exec), else ru_maxrss."""
    with suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


def _file_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def booth_sync(server_url: str, token: str, booth_db: Path, page_size: int) -> dict[str, Any]:
    """One fresh booth's first sync; runs in its own process so its memory is its own."""
    from desktop.client import ServerClient
    from desktop.store import Store
    from desktop.sync import SyncWorker

    rss_start_mib = peak_rss_mib()
    client = ServerClient(
        server_url, token, booth_id=BOOTH_ID, read_timeout_s=120.0, total_timeout_s=300.0
    )
    wal = booth_db.with_name(booth_db.name + "-wal")
    with Store(booth_db) as store, _WalWatch(wal) as watch:
        worker = SyncWorker(store, client, page_size=page_size)
        cpu_before = time.process_time()
        started = time.perf_counter()
        status = worker.sync_once()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        sample = [
            row[0]
            for row in store.engine.connect()
            .exec_driver_sql("SELECT plate FROM blacklist_entries ORDER BY random() LIMIT 20")
            .all()
        ]
        found = sum(1 for plate in sample if any(hit.seq for hit in store.blacklist.lookup(plate)))
        sizes = {"db": _file_size(booth_db), "wal": _file_size(wal)}
    client.close()
    return {
        "seconds": seconds,
        "booth_cpu_s": cpu,
        "online": status.online,
        "error": status.last_error,
        "cache_entries": status.cache_entries,
        "cursor": status.cursor,
        "lookups_found": f"{found}/{len(sample)}",
        "rss_start_mib": rss_start_mib,
        "rss_peak_mib": peak_rss_mib(),
        "db_mib": sizes["db"] / MIB,
        "wal_mib": sizes["wal"] / MIB,
        "wal_peak_mib": watch.largest / MIB,
    }


# --------------------------------------------------------------------------- server side


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(database_url: str, token: str, log_path: Path):  # type: ignore[no-untyped-def]
    """The real server (``main.py serve``) in a child process; yields (url, pid)."""
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "serve",
                "--database-url",
                database_url,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, token, process)
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(url: str, token: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            answer = requests.get(
                f"{url}/api/v1/ping", headers={"Authorization": f"Bearer {token}"}, timeout=2
            )
            if answer.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not come up in time")


def reuse_filled(database_url: str) -> tuple[int, str]:
    """Entries already in ``database_url`` and a new token for its benchmark booth."""
    import secrets

    token = secrets.token_urlsafe(32)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            count = connection.execute(
                select(func.count()).select_from(BlacklistEntry.__table__)
            ).scalar_one()
            changed = connection.execute(
                update(Booth.__table__)
                .where(Booth.__table__.c.id == BOOTH_ID)
                .values(token_hash=hash_token(token))
            ).rowcount
    finally:
        engine.dispose()
    if not changed:
        raise SystemExit(f"{database_url} has no booth {BOOTH_ID!r}: fill it first")
    return int(count), token


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", help="server database (default: a SQLite file in a temporary folder)"
    )
    parser.add_argument(
        "--page-size", type=int, default=500, help="the booth's change-feed page size"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reuse", action="store_true", help="the database is filled already: skip the fill"
    )
    parser.add_argument("--booth-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.booth_child:
        url, token, path, page_size = args.booth_child
        print(json.dumps(booth_sync(url, token, Path(path), int(page_size))))
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    with tempfile.TemporaryDirectory(prefix="recoup-sync-full-") as work:
        folder = Path(work)
        database_url = args.database_url or f"sqlite:///{folder / 'hub.sqlite3'}"
        backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        if args.reuse:
            entries, token = reuse_filled(database_url)
            fill_s = 0.0
        else:
            fill = fill_blacklist(database_url, args.entries, seed=args.seed)
            entries, token, fill_s = fill.entries, fill.booth_token, fill.seconds
        print(f"filled {entries:,} entries in {fill_s:.1f} s ({backend})", flush=True)

        with running_server(database_url, token, folder / "server.log") as (url, server_pid):
            load_before = os.getloadavg()[0]
            server_cpu = _cpu_seconds(server_pid)
            child = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--booth-child",
                    url,
                    token,
                    str(folder / "booth.db"),
                    str(args.page_size),
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            server_cpu = _cpu_seconds(server_pid) - server_cpu
            load_after = os.getloadavg()[0]
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return 1
        booth = json.loads(child.stdout.strip().splitlines()[-1])

    if not booth["online"] or booth["cache_entries"] != entries:
        print(f"sync did not complete: {booth}", file=sys.stderr)
        return 1
    host = machine()
    seconds = booth["seconds"]
    rate = entries / seconds if seconds else 0.0
    print(f"machine: {host['cpu']}, {host['cores']} cores, {host['memory']}, {host['os']}")
    print(f"python {host['python']}, sqlite {host['sqlite']}, server database {backend}")
    print(
        f"1-minute load average {load_before:.2f} before the sync, {load_after:.2f} after"
        " (the machine is shared)"
    )
    print(
        f"first full sync: {entries:,} entries in {seconds:.1f} s ({rate:,.0f} entries/s), "
        f"goal {GOAL_S:.0f} s; snapshot pages of {SNAPSHOT_PAGE_SIZE}"
    )
    print(
        f"CPU: booth {booth['booth_cpu_s']:.1f} s, server {server_cpu:.1f} s; "
        f"booth peak resident memory {booth['rss_peak_mib']:.0f} MiB "
        f"({booth['rss_start_mib']:.0f} MiB at start)"
    )
    print(
        f"booth database {booth['db_mib']:.0f} MiB + WAL {booth['wal_mib']:.1f} MiB "
        f"(WAL at most {booth['wal_peak_mib']:.1f} MiB during the sync); "
        f"cursor {booth['cursor']}; lookups of cached plates found {booth['lookups_found']}"
    )
    summary = {
        "backend": backend,
        "entries": entries,
        "snapshot_page": SNAPSHOT_PAGE_SIZE,
        "fill_s": f"{fill_s:.1f}",
        "sync_s": f"{seconds:.2f}",
        "entries_per_s": f"{rate:.0f}",
        "booth_cpu_s": f"{booth['booth_cpu_s']:.1f}",
        "server_cpu_s": f"{server_cpu:.1f}",
        "booth_peak_rss_mib": f"{booth['rss_peak_mib']:.0f}",
        "booth_db_mib": f"{booth['db_mib']:.0f}",
        "booth_wal_mib": f"{booth['wal_mib']:.1f}",
        "booth_wal_peak_mib": f"{booth['wal_peak_mib']:.1f}",
        "goal_met": str(seconds <= GOAL_S).lower(),
        "load_before": f"{load_before:.2f}",
        "load_after": f"{load_after:.2f}",
        "cpu": f'"{host["cpu"]}"',
        "cores": host["cores"],
    }
    print(" ".join(f"{key}={value}" for key, value in summary.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
