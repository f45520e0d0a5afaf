"""What happened at the booth: plate reads, notices, outcomes, and their outbox rows.

Each method is one transaction. An outcome and the outbox row that reports it commit
together, so the server hears about every recorded outcome, and about it only once.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, Engine, and_, bindparam, select
from sqlalchemy.dialects.sqlite import insert

from desktop.domain import Outcome, OutcomeKind, PaymentMethod, UnpaidSession
from desktop.plates import MatchTier, normalize
from desktop.store.database import UnitOfWork
from desktop.store.models import NoticeRow, OutboxRow, OutcomeRow, PlateReadRow
from desktop.store.outbox import enqueue
from desktop.store.times import from_db_time, to_db_time

logger = logging.getLogger(__name__)

OUTBOX_OUTCOME = "outcome"
OUTBOX_READ = "read"
SETTLING_KINDS = (OutcomeKind.PAID, OutcomeKind.WAIVED, OutcomeKind.DISPUTED)

_reads = PlateReadRow.__table__
_notices = NoticeRow.__table__
_outcomes = OutcomeRow.__table__
_outbox = OutboxRow.__table__

SELECT_OUTCOME_FOR_NOTICE = select(_outcomes).where(
    _outcomes.c.notice_id == bindparam("b_notice_id")
)
SELECT_NOTICE_EXISTS = select(_notices.c.notice_id).where(
    _notices.c.notice_id == bindparam("b_notice_id")
)
# Starts from the booth's outcomes for the plate (indexed), then each one's outbox row.
SELECT_SETTLED_SESSIONS = (
    select(_outcomes.c.session_ids, _outbox.c.delivered_at)
    .select_from(_outcomes)
    .join(
        _outbox,
        and_(_outbox.c.kind == OUTBOX_OUTCOME, _outbox.c.key == _outcomes.c.outcome_id),
    )
    .where(
        _outcomes.c.plate == bindparam("b_plate"),
        _outcomes.c.kind.in_([kind.value for kind in SETTLING_KINDS]),
        _outbox.c.dead_at.is_(None),
    )
)


class UnknownNoticeError(LookupError):
    """An outcome names a notice the store never recorded."""


class Records:
    """Writes the booth's own records; every method is its own transaction."""

    def __init__(self, engine: Engine, units: UnitOfWork, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._units = units
        self._clock = clock

    def record_read(
        self,
        *,
        read_id: uuid.UUID,
        lane: str,
        plate: str,
        confidence: float,
        source: Literal["camera", "manual"],
        seen_at: datetime,
        snapshot_path: Path | str | None = None,
        crop_path: Path | str | None = None,
    ) -> bool:
        """Keep a plate read with its image paths; False when ``read_id`` was recorded."""
        row = {
            "read_id": str(read_id),
            "lane": lane,
            "plate": normalize(plate),
            "confidence": float(confidence),
            "source": source,
            "seen_at": to_db_time(seen_at),
            "snapshot_path": None if snapshot_path is None else str(snapshot_path),
            "crop_path": None if crop_path is None else str(crop_path),
        }
        with self._units.write() as session:
            result = session.connection().execute(
                insert(_reads).values(row).on_conflict_do_nothing()
            )
            return result.rowcount == 1

    def record_notice(
        self,
        *,
        notice_id: uuid.UUID,
        read_id: uuid.UUID | None,
        lane: str,
        read_plate: str,
        listed_plate: str,
        tier: MatchTier,
        unpaid_cents: int,
        currency: str,
        sessions: Iterable[UnpaidSession],
        source: Literal["server", "cache"],
        cache_age_s: float | None,
        entry_seq: int | None,
        created_at: datetime,
    ) -> bool:
        """Keep a notice as it was shown; False when ``notice_id`` was recorded.

        ``read_id``, when given, must name a recorded read (foreign key).
        """
        row = {
            "notice_id": str(notice_id),
            "read_id": None if read_id is None else str(read_id),
            "lane": lane,
            "read_plate": normalize(read_plate),
            "listed_plate": normalize(listed_plate),
            "tier": tier.label,
            "unpaid_cents": unpaid_cents,
            "currency": currency,
            "sessions": json.dumps([s.model_dump(mode="json") for s in sessions]),
            "source": source,
            "cache_age_s": cache_age_s,
            "entry_seq": entry_seq,
            "created_at": to_db_time(created_at),
        }
        with self._units.write() as session:
            result = session.connection().execute(
                insert(_notices).values(row).on_conflict_do_nothing()
            )
            return result.rowcount == 1

    def record_outcome(
        self,
        *,
        outcome_id: uuid.UUID,
        notice_id: uuid.UUID,
        plate: str,
        lane: str,
        kind: OutcomeKind,
        method: PaymentMethod | None,
        amount_cents: int,
        session_ids: Iterable[int],
        attendant: str,
        recorded_at: datetime,
        reason: str | None = None,
        reference: str | None = None,
    ) -> Outcome:
        """Record the outcome of a notice and queue it for the server, in one transaction.

        A notice gets at most one outcome: when it already has one, nothing is written
        and the existing outcome is returned with ``created=False``.
        """
        kind = OutcomeKind(kind)
        method = None if method is None else PaymentMethod(method)
        if kind is OutcomeKind.PAID and method is None:
            raise ValueError("a paid outcome needs a payment method")
        record = Outcome(
            outcome_id=outcome_id,
            notice_id=notice_id,
            plate=normalize(plate),
            lane=lane,
            kind=kind,
            method=method,
            amount_cents=amount_cents,
            session_ids=tuple(session_ids),
            reason=reason,
            reference=reference,
            attendant=attendant,
            recorded_at=recorded_at,
            created=True,
        )
        with self._units.write() as session:
            connection = session.connection()
            existing = connection.execute(
                SELECT_OUTCOME_FOR_NOTICE, {"b_notice_id": str(notice_id)}
            ).first()
            if existing is not None:
                logger.warning(
                    "notice %s already has outcome %s; not recording another",
                    notice_id,
                    existing.outcome_id,
                )
                return _outcome_from_row(existing._mapping)
            if (
                connection.execute(SELECT_NOTICE_EXISTS, {"b_notice_id": str(notice_id)}).first()
                is None
            ):
                raise UnknownNoticeError(f"no notice {notice_id}")
            connection.execute(insert(_outcomes).values(_outcome_row(record)))
            enqueue(
                connection,
                kind=OUTBOX_OUTCOME,
                key=str(outcome_id),
                payload=record.request_body(),
                now=self._clock(),
            )
        return record

    def settled_session_ids(self, plate: str, *, undelivered_only: bool = False) -> set[int]:
        """Sessions of this listed plate that an outcome recorded here paid, waived or
        disputed (outcomes the server refused for good do not count).

        With ``undelivered_only``, only outcomes the server has not received yet count.
        """
        with self._engine.connect() as connection:
            rows = connection.execute(SELECT_SETTLED_SESSIONS, {"b_plate": normalize(plate)})
            return {
                session_id
                for row in rows
                if not (undelivered_only and row.delivered_at is not None)
                for session_id in json.loads(row.session_ids)
            }

    def queue_read_report(self, payload: Mapping[str, Any]) -> bool:
        """Queue a ``POST /api/v1/reads`` body, keyed by its ``read_id``; False when the
        same read was queued before (one row is kept)."""
        body = to_jsonable_python(dict(payload))
        with self._units.write() as session:
            return _enqueue_read(session.connection(), body, self._clock())


def _enqueue_read(connection: Connection, body: dict[str, Any], now: datetime) -> bool:
    return enqueue(connection, kind=OUTBOX_READ, key=str(body["read_id"]), payload=body, now=now)


def _outcome_row(record: Outcome) -> dict[str, Any]:
    return {
        "outcome_id": str(record.outcome_id),
        "notice_id": str(record.notice_id),
        "plate": record.plate,
        "lane": record.lane,
        "kind": record.kind.value,
        "method": None if record.method is None else record.method.value,
        "amount_cents": record.amount_cents,
        "session_ids": json.dumps(list(record.session_ids)),
        "reason": record.reason,
        "reference": record.reference,
        "attendant": record.attendant,
        "recorded_at": to_db_time(record.recorded_at),
    }


def _outcome_from_row(row: Mapping[str, Any]) -> Outcome:
    return Outcome(
        outcome_id=uuid.UUID(row["outcome_id"]),
        notice_id=uuid.UUID(row["notice_id"]),
        plate=row["plate"],
        lane=row["lane"],
        kind=OutcomeKind(row["kind"]),
        method=None if row["method"] is None else PaymentMethod(row["method"]),
        amount_cents=row["amount_cents"],
        session_ids=tuple(json.loads(row["session_ids"])),
        reason=row["reason"],
        reference=row["reference"],
        attendant=row["attendant"],
        recorded_at=from_db_time(row["recorded_at"]),
        created=False,
    )
