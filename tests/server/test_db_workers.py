"""The database threads: one unit per request, admission limits, SQLite's read/write modes."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.db import make_engine
from server.db_workers import Admission, DatabaseWorkers, Overloaded


def _engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'units.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    return engine


def test_a_full_queue_is_refused_at_once_with_retry_after(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    database = DatabaseWorkers(engine, Admission(threads=1, max_queue=1, max_wait_s=30))
    release = threading.Event()
    running = threading.Event()

    def blocking(_session: Session) -> str:
        running.set()
        release.wait(30)
        return "first"

    async def scenario() -> tuple[list[str], Overloaded]:
        first = asyncio.ensure_future(database.read(blocking))
        while not running.is_set():
            await asyncio.sleep(0)
        queued = asyncio.ensure_future(database.read(lambda _s: "queued"))
        while database.pending < 2:
            await asyncio.sleep(0)
        # The thread is busy and the queue full: the third is refused without waiting.
        with pytest.raises(Overloaded) as refused:
            await database.read(lambda _s: "third")
        release.set()
        return [await first, await queued], refused.value

    try:
        served, refusal = asyncio.run(scenario())
    finally:
        release.set()
        database.close()
        engine.dispose()
    assert served == ["first", "queued"]
    assert refusal.retry_after_s >= 1
    assert database.pending == 0


def test_work_that_waited_too_long_for_a_thread_is_refused(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    now = [0.0]
    database = DatabaseWorkers(
        engine, Admission(threads=1, max_queue=5, max_wait_s=2.0), clock=lambda: now[0]
    )
    release = threading.Event()
    running = threading.Event()
    ran: list[str] = []

    def blocking(_session: Session) -> None:
        running.set()
        release.wait(30)
        now[0] += 2.5  # the first unit took longer than the queue may wait

    async def scenario() -> None:
        first = asyncio.ensure_future(database.read(blocking))
        while not running.is_set():
            await asyncio.sleep(0)
        late = asyncio.ensure_future(database.read(lambda _s: ran.append("late")))
        while database.pending < 2:
            await asyncio.sleep(0)
        release.set()
        await first
        with pytest.raises(Overloaded):
            await late

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        database.close()
        engine.dispose()
    assert ran == []  # the late unit never touched the database


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """A read unit answers while another connection holds SQLite's write lock."""
    engine = _engine(tmp_path)
    database = DatabaseWorkers(engine, Admission(threads=2, max_queue=5, max_wait_s=30))
    blocker = engine.connect()
    blocker.exec_driver_sql("INSERT INTO t VALUES (1)")  # BEGIN IMMEDIATE: holds the lock
    try:
        count = asyncio.run(
            database.read(lambda session: session.execute(text("SELECT count(*) FROM t")).scalar())
        )
    finally:
        blocker.rollback()
        blocker.close()
        database.close()
        engine.dispose()
    assert count == 0  # the writer's row is not committed; the reader saw the snapshot
