"""The outbox: requests the sync worker must deliver to the server exactly once.

Rows are enqueued in the same transaction as the record they report (see
:mod:`desktop.store.records`) and keyed by an idempotency key the server honours, so a
crash between sending and :meth:`Outbox.mark_delivered` only causes a harmless replay.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, select, update
from sqlalchemy.dialects.sqlite import insert

from desktop.store.database import UnitOfWork
from desktop.store.models import OutboxRow
from desktop.store.times import from_db_time, to_db_time

logger = logging.getLogger(__name__)

_outbox = OutboxRow.__table__
_pending = and_(_outbox.c.delivered_at.is_(None), _outbox.c.dead_at.is_(None))

SELECT_DUE = (
    select(
        _outbox.c.id,
        _outbox.c.kind,
        _outbox.c.key,
        _outbox.c.payload,
        _outbox.c.attempts,
        _outbox.c.created_at,
    )
    .where(_pending, _outbox.c.next_attempt_at <= bindparam("b_now"))
    .order_by(_outbox.c.id)
    .limit(bindparam("b_limit"))
)
COUNTS = select(
    func.count().filter(_pending).label("pending"),
    func.count().filter(_outbox.c.delivered_at.is_not(None)).label("delivered"),
    func.count().filter(_outbox.c.dead_at.is_not(None)).label("dead"),
)
# A row the server answered with a failure at least once (attempts counts only those).
_stuck = and_(_pending, _outbox.c.attempts > 0)
COUNT_STUCK = select(func.count()).where(_stuck)
OLDEST_STUCK_ERROR = select(_outbox.c.last_error).where(_stuck).order_by(_outbox.c.id).limit(1)


@dataclass(frozen=True)
class OutboxItem:
    """One request waiting for delivery."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class StuckRows:
    """Pending rows that failed at least once, and the last error of the oldest of them."""

    count: int = 0
    oldest_error: str = ""


class UnknownOutboxItemError(LookupError):
    """No outbox row has that id."""


def enqueue(
    connection: Connection, *, kind: str, key: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Add a row unless one with the same kind and key exists; True when added.

    Runs inside the caller's transaction so the row commits with what it reports.
    """
    stamp = to_db_time(now)
    result = connection.execute(
        insert(_outbox)
        .values(
            kind=kind,
            key=key,
            payload=json.dumps(payload, separators=(",", ":"), sort_keys=True),
            attempts=0,
            created_at=stamp,
            next_attempt_at=stamp,
        )
        .on_conflict_do_nothing(index_elements=[_outbox.c.kind, _outbox.c.key])
    )
    return result.rowcount == 1


class Outbox:
    """Read and settle outbox rows; each call is its own transaction."""

    def __init__(self, engine: Engine, units: UnitOfWork, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._units = units
        self._clock = clock

    def due(self, now: datetime, limit: int = 50) -> list[OutboxItem]:
        """Rows ready to send at ``now``: not delivered, not dead, oldest first."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                SELECT_DUE, {"b_now": to_db_time(now), "b_limit": limit}
            ).all()
        return [
            OutboxItem(
                id=row.id,
                kind=row.kind,
                key=row.key,
                payload=json.loads(row.payload),
                attempts=row.attempts,
                created_at=from_db_time(row.created_at),
            )
            for row in rows
        ]

    def mark_delivered(self, item_id: int, response: dict[str, Any]) -> None:
        """The server accepted the request (or answered a replay); keep its answer."""
        self._update(
            item_id,
            delivered_at=to_db_time(self._clock()),
            response=json.dumps(response, separators=(",", ":")),
        )

    def mark_failed(self, item_id: int, error: str, retry_at: datetime) -> None:
        """The server answered this row with a failure: count the attempt, keep the
        error and try again at ``retry_at`` (an unreachable server is no row's attempt)."""
        self._update(
            item_id,
            attempts=_outbox.c.attempts + 1,
            last_error=error,
            next_attempt_at=to_db_time(retry_at),
        )

    def mark_dead(self, item_id: int, reason: str) -> None:
        """A permanent rejection: never retried, kept for inspection."""
        self._update(
            item_id,
            attempts=_outbox.c.attempts + 1,
            last_error=reason,
            dead_at=to_db_time(self._clock()),
        )
        logger.warning("outbox item %d given up: %s", item_id, reason)

    def retry_all_now(self) -> int:
        """Make every pending row due now (the server is back); returns how many."""
        with self._units.write() as session:
            result = session.connection().execute(
                update(_outbox).where(_pending).values(next_attempt_at=to_db_time(self._clock()))
            )
            return result.rowcount

    def pending_payloads(self, kind: str) -> list[dict[str, Any]]:
        """The payloads of every undelivered, live row of ``kind`` (due or not)."""
        query = select(_outbox.c.payload).where(_pending, _outbox.c.kind == kind)
        with self._engine.connect() as connection:
            return [json.loads(payload) for payload in connection.execute(query).scalars()]

    def stuck(self) -> StuckRows:
        """How many pending rows failed at least once, and why the oldest did."""
        with self._engine.connect() as connection:
            count = connection.execute(COUNT_STUCK).scalar_one()
            error = connection.execute(OLDEST_STUCK_ERROR).scalar() if count else None
        return StuckRows(count=count, oldest_error=error or "")

    def counts(self) -> dict[str, int]:
        """How many rows are pending, delivered and dead."""
        with self._engine.connect() as connection:
            row = connection.execute(COUNTS).one()
        return {"pending": row.pending, "delivered": row.delivered, "dead": row.dead}

    def _update(self, item_id: int, **values: Any) -> None:
        with self._units.write() as session:
            result = session.connection().execute(
                update(_outbox).where(_outbox.c.id == item_id).values(**values)
            )
            if result.rowcount != 1:
                raise UnknownOutboxItemError(f"no outbox item {item_id}")


__all__ = ["Outbox", "OutboxItem", "StuckRows", "UnknownOutboxItemError", "enqueue"]
