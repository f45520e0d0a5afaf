"""Fuzz the live API with Schemathesis, as a booth and as a supervisor; fail on any finding.

Starts ``main.py serve --workers 2 --seed-demo`` on a fresh database (PostgreSQL when
``RECOUP_TEST_POSTGRES_URL`` or ``--database-url`` names a server, else SQLite in a
temporary folder), runs ``st run`` with every check against its OpenAPI document, once
with a booth token and once with a supervisor token, each bounded by ``--max-time``,
and fails when Schemathesis reports a failure (a server error, a response or status
that breaks the documented schema, ...) or the server logged a traceback.

Usage: .venv/bin/python scripts/fuzz_api.py [--max-time 90] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_support import free_port, fresh_database

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "scripts" / "schemathesis.toml"
BOOTH_TOKEN = "demo-booth-a-token"  # DEMO ONLY credentials of --seed-demo
SUPERVISOR = {"username": "super", "password": "demo-supervisor"}
START_TIMEOUT_S = 60.0
#: Revoking the fuzzer's own supervisor token would turn the rest of the run into 401s.
SUPERVISOR_EXCLUDED = ("/api/v1/supervisor/logout",)


@contextmanager
def running_server(database_url: str, log_path: Path) -> Iterator[str]:
    """``main.py serve`` with two workers on the demo data; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, str(ROOT / "main.py"), "serve", "--port", str(port),
        "--database-url", database_url, "--seed-demo", "--workers", "2", "--public-url", url,
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}; see {log_path}")
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start in time")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def supervisor_token(url: str) -> str:
    """Log in as the demo supervisor."""
    answer = httpx.post(f"{url}/api/v1/supervisor/login", json=SUPERVISOR, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["token"])


def fuzz(url: str, token: str, *, max_time: int, exclude: tuple[str, ...], label: str) -> int:
    """One ``st run`` with every check; its exit code (0: no failure)."""
    command = [
        str(Path(sys.executable).with_name("st")), "--config-file", str(CONFIG),
        "run", f"{url}/openapi.json", "--header", f"Authorization: Bearer {token}",
        "--checks", "all", "--max-time", str(max_time), "--workers", "1",
        "--generation-database", "none", "--no-color",
    ]  # fmt: skip
    for path in exclude:
        command += ["--exclude-path", path]
    print(f"== Schemathesis as a {label}, {max_time} s", flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def server_errors(log_path: Path) -> list[str]:
    """Lines of the server log that show a bug (an unhandled exception)."""
    lines = log_path.read_text(errors="replace").splitlines()
    return [line for line in lines if "Traceback" in line or "Exception in ASGI" in line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=90, help="seconds per run (default 90)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RECOUP_TEST_POSTGRES_URL"),
        help="a PostgreSQL database to create the fuzz database next to (default: "
        "RECOUP_TEST_POSTGRES_URL, else SQLite)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="recoup-fuzz-"))
    log_path = folder / "server.log"
    try:
        with fresh_database(
            "postgres" if args.database_url else "sqlite",
            args.database_url,
            folder,
            prefix="recoup_fuzz",
        ) as database_url:
            backend = make_url(database_url).get_backend_name()
            print(f"== fuzzing the API on {backend}", flush=True)
            with running_server(database_url, log_path) as url:
                # Before the booth's run: its failed logins throttle this address.
                supervisor = supervisor_token(url)
                results = {
                    "booth": fuzz(url, BOOTH_TOKEN, max_time=args.max_time, exclude=(),
                                  label="booth"),
                    "supervisor": fuzz(url, supervisor, max_time=args.max_time,
                                       exclude=SUPERVISOR_EXCLUDED, label="supervisor"),
                }  # fmt: skip
        errors = server_errors(log_path)
        for line in errors[:20]:
            print(f"server log: {line}")
        failed = [label for label, code in results.items() if code != 0]
        print(
            f"fuzz database={backend} max_time_s={args.max_time} "
            f"booth_exit={results['booth']} supervisor_exit={results['supervisor']} "
            f"server_tracebacks={len(errors)}"
        )
        if failed or errors:
            print(f"FAILED: {', '.join(failed) or 'server tracebacks'} (log: {log_path})")
            return 1
        return 0
    finally:
        if os.environ.get("RECOUP_KEEP_FUZZ") is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
