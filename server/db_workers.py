"""Each request's database work runs as one unit on a fixed set of database threads.

A unit opens its session, authenticates the caller, does the request's reads and
writes, commits and closes, all on one thread, so a request never holds a connection
while it waits for anything else (a thread, the event loop, the client). There are as
many threads as pooled connections, so no thread ever waits for a connection either.

Admission: work queued beyond ``max_queue`` units, or that waited longer than
``max_wait_s`` before a thread was free, is refused with :class:`Overloaded` (503 with
``Retry-After``) at once, instead of piling up until every client times out.

On SQLite, read-only units begin ``DEFERRED`` (they never take the write lock) and
writing units queue on a lock in this process before they open their connection, so at
most one connection per process waits for SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from server.db import reader

logger = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Session], T]


class Overloaded(Exception):  # noqa: N818 - a state, not an error of the caller
    """Too much work is waiting: the request is answered 503 with ``Retry-After``."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Admission:
    """How much work one server process takes before it answers 503."""

    threads: int = 8
    max_queue: int = 200
    max_wait_s: float = 2.0


class DatabaseWorkers:
    """Runs units of database work on ``admission.threads`` threads (see module doc)."""

    def __init__(
        self, engine: Engine, admission: Admission, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._admission = admission
        self._clock = clock
        self._read_sessions = sessionmaker(bind=reader(engine), expire_on_commit=False)
        self._write_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._sqlite_write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        self._executor = ThreadPoolExecutor(max_workers=admission.threads, thread_name_prefix="db")
        self._lock = threading.Lock()
        self._pending = 0  # submitted and not finished (queued or running)

    @property
    def pending(self) -> int:
        """Units queued or running now."""
        return self._pending

    @property
    def full(self) -> bool:
        """True when a new unit would be refused (every thread busy, the queue full)."""
        return self._pending >= self._admission.threads + self._admission.max_queue

    @property
    def retry_after_s(self) -> int:
        """What ``Retry-After`` says when work is refused."""
        return self._retry_after_s()

    async def read(self, work: Work[T]) -> T:
        """Run ``work(session)`` in a read-only transaction; returns its result."""
        return await self._run(work, write=False)

    async def write(self, work: Work[T]) -> T:
        """Run ``work(session)`` in a writing transaction; ``work`` commits."""
        return await self._run(work, write=True)

    def close(self) -> None:
        """Drop queued units (their requests get 503) and let running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: Work[T], *, write: bool) -> T:
        with self._lock:
            if self.full:
                raise Overloaded(
                    f"{self._pending} requests are waiting for the database",
                    retry_after_s=self._retry_after_s(),
                )
            self._pending += 1
        try:
            future = self._executor.submit(self._unit, work, write, self._clock())
        except RuntimeError as exc:  # shut down: the server is stopping
            self._finished(None)
            raise Overloaded("the server is stopping", retry_after_s=5) from exc
        future.add_done_callback(self._finished)
        return await asyncio.wrap_future(future)

    def _finished(self, _future: Future[object] | None) -> None:
        with self._lock:
            self._pending -= 1

    def _retry_after_s(self) -> int:
        return max(1, math.ceil(self._admission.max_wait_s))

    def _unit(self, work: Work[T], write: bool, submitted: float) -> T:
        waited = self._clock() - submitted
        if waited > self._admission.max_wait_s:
            raise Overloaded(
                f"waited {waited:.1f} s for a database thread",
                retry_after_s=self._retry_after_s(),
            )
        guard: AbstractContextManager[object] = nullcontext()
        if write and self._sqlite_write_lock is not None:
            guard = self._sqlite_write_lock
        with guard:
            sessions = self._write_sessions if write else self._read_sessions
            for attempt in (1, 2):
                try:
                    with sessions() as session:
                        return work(session)
                except DBAPIError as exc:
                    # A pooled connection the database dropped (restart, idle timeout):
                    # the pool has discarded it; the unit runs once more on a fresh one.
                    # Units are idempotent (their keys), so a second run is safe.
                    if not exc.connection_invalidated or attempt == 2:
                        raise
                    logger.warning("database connection lost; running the unit again")
            raise AssertionError("unreachable")
