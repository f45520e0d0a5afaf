"""Overload: the server says so at once (503 with Retry-After) and SIGTERM still stops it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from server.cli import ServerThread
from server.config import ServerSettings
from tests.server.conftest import TOKEN_A
from tests.server.helpers import API, read_body
from tests.server.server_process import ServerProcess

SIGTERM_DEADLINE_S = 10.0


def _post_reads(
    url: str, count: int, answers: list[httpx.Response], arrived: threading.Condition
) -> None:
    """``count`` booths report a read at the same moment; each answer is appended to
    ``answers`` as it comes, and ``arrived`` notified."""
    barrier = threading.Barrier(count)

    def one(index: int) -> None:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN_A}"}, timeout=30
        ) as client:
            barrier.wait()
            answer = client.post(f"{API}/reads", json=read_body(f"LOAD{index:04d}"))
        with arrived:
            answers.append(answer)
            arrived.notify_all()

    for index in range(count):
        threading.Thread(target=one, args=(index,), daemon=True).start()


def test_a_saturated_server_answers_503_with_retry_after_while_the_database_is_stuck(
    tmp_path: Path,
) -> None:
    database = tmp_path / "hub.sqlite3"
    settings = ServerSettings(
        database_url=f"sqlite:///{database}", database_connections=2, max_queued_requests=2
    )
    with ServerThread(settings, seed_demo=True) as server:
        # Another process holds SQLite's write lock: every write unit waits for it.
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        answers: list[httpx.Response] = []
        arrived = threading.Condition()
        try:
            _post_reads(server.url, 10, answers, arrived)
            # Two units wait on the database and two in the queue: the other six are
            # refused without waiting, while the lock is still held.
            with arrived:
                assert arrived.wait_for(lambda: len(answers) >= 6, timeout=30)
                refused = list(answers)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        with arrived:
            assert arrived.wait_for(lambda: len(answers) == 10, timeout=30)
    assert [a.status_code for a in refused] == [503] * 6
    for answer in refused:
        assert answer.json()["detail"]["code"] == "overloaded"
        assert int(answer.headers["Retry-After"]) >= 1
    # Once the lock is gone the admitted ones are served: nothing hangs, nothing fails.
    assert sorted(a.status_code for a in answers) == [200] * 4 + [503] * 6


@pytest.mark.slow
def test_sigterm_stops_a_loaded_server_within_ten_seconds(
    database_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(
        database_url, workers=2, seed_demo=True, log_path=tmp_path / "serve.log"
    ).start()
    stop_load = threading.Event()
    served = threading.Semaphore(0)

    def booth(index: int) -> None:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN_A}"}, timeout=5
        ) as client:
            for n in range(10_000):
                if stop_load.is_set():
                    return
                try:
                    client.post(f"{API}/reads", json=read_body(f"T{index:03d}X{n:05d}"))
                except httpx.TransportError:
                    return
                served.release()

    threads = [threading.Thread(target=booth, args=(i,), daemon=True) for i in range(40)]
    try:
        for thread in threads:
            thread.start()
        for _ in range(200):  # the server is busy answering when the signal comes
            assert served.acquire(timeout=30)
        server.terminate()
        exit_code = server.wait(SIGTERM_DEADLINE_S)
    finally:
        stop_load.set()
        server.kill()
    assert exit_code == 0
    for thread in threads:
        thread.join(10)
