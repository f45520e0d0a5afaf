"""What happened at the booth: plate reads, notices, outcomes, and their outbox rows.

Each method is one transaction. An outcome and the outbox row that reports it commit
together, so the server hears about every recorded outcome, and about it only once.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, Engine, and_, bindparam, delete, exists, func, or_, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.exc import SQLAlchemyError

from desktop.domain import Outcome, OutcomeKind, PaymentMethod, UnpaidSession
from desktop.plates import MatchTier, normalize
from desktop.store.database import UnitOfWork
from desktop.store.evidence_files import OUTBOX_EVIDENCE, EvidenceUploads, PreparedEvidence
from desktop.store.models import NoticeRow, OutboxRow, OutcomeRow, PlateReadRow
from desktop.store.outbox import enqueue
from desktop.store.times import from_db_time, to_db_time

logger = logging.getLogger(__name__)

OUTBOX_OUTCOME = "outcome"
OUTBOX_READ = "read"
OUTBOX_WAIVER_CANCEL = "waiver_cancel"
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
# The images of a notice's read, unless the notice already has an outcome.
SELECT_NOTICE_EVIDENCE = (
    select(_notices.c.read_id, _reads.c.snapshot_path, _reads.c.crop_path)
    .select_from(_notices)
    .join(_reads, _reads.c.read_id == _notices.c.read_id)
    .outerjoin(_outcomes, _outcomes.c.notice_id == _notices.c.notice_id)
    .where(_notices.c.notice_id == bindparam("b_notice_id"), _outcomes.c.outcome_id.is_(None))
)
# Reads no notice refers to, seen before the cutoff (a notice keeps its read for good).
DELETE_OLD_READS = delete(_reads).where(
    _reads.c.seen_at < bindparam("b_cutoff"),
    ~exists().where(_notices.c.read_id == _reads.c.read_id),
)
# Read reports the server received, or refused for good, before the cutoff.
DELETE_OLD_READ_REPORTS = delete(_outbox).where(
    _outbox.c.kind == OUTBOX_READ,
    or_(_outbox.c.delivered_at < bindparam("b_cutoff"), _outbox.c.dead_at < bindparam("b_cutoff")),
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

    def __init__(
        self,
        engine: Engine,
        units: UnitOfWork,
        clock: Callable[[], datetime],
        evidence: EvidenceUploads | None = None,
        *,
        keep_read_days: int | None = None,
    ) -> None:
        self._engine = engine
        self._units = units
        self._clock = clock
        self._evidence = evidence
        self._keep_read_days = keep_read_days
        self._reads_forgotten_on: date | None = None

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
        """Keep a plate read with its image paths; False when ``read_id`` was recorded.

        With ``keep_read_days``, the first read of each day also forgets the reads older
        than that (see :meth:`forget_reads_before`), as the evidence writer does with
        their pictures.
        """
        self._forget_old_reads_once_a_day()
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

    def forget_reads_before(self, cutoff: datetime) -> tuple[int, int]:
        """Delete the reads seen before ``cutoff`` that no notice refers to, and the read
        reports the server received (or refused for good) before it.

        A read behind a notice stays, with its image paths: its outcome's evidence needs
        them. A report still waiting for the server stays whatever its age. Returns the
        number of reads and of reports deleted.
        """
        values = {"b_cutoff": to_db_time(cutoff)}
        with self._units.write() as session:
            connection = session.connection()
            reads = connection.execute(DELETE_OLD_READS, values).rowcount
            reports = connection.execute(DELETE_OLD_READ_REPORTS, values).rowcount
        if reads or reports:
            logger.info(
                "forgot %d read(s) and %d delivered read report(s) from before %s",
                reads,
                reports,
                cutoff.date(),
            )
        return reads, reports

    def _forget_old_reads_once_a_day(self) -> None:
        if self._keep_read_days is None:
            return
        now = self._clock()
        if self._reads_forgotten_on == now.date():
            return
        self._reads_forgotten_on = now.date()
        try:
            self.forget_reads_before(now - timedelta(days=self._keep_read_days))
        except SQLAlchemyError as error:  # housekeeping must never cost the read itself
            logger.warning("could not forget old reads (tried again tomorrow): %s", error)

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
        approved_by: str | None = None,
        waiver_request_id: uuid.UUID | None = None,
        cancel_waiver_request: uuid.UUID | None = None,
    ) -> Outcome:
        """Record the outcome of a notice and queue it for the server, in one transaction.

        ``cancel_waiver_request``: a waiver request of this notice still open at the
        server; its cancellation is queued ahead of the outcome, in the same transaction.

        A notice gets at most one outcome: when it already has one, nothing is written
        and the existing outcome is returned with ``created=False``.

        The snapshot and plate crop of the notice's read are prepared for upload first
        (image work stays outside the write transaction) and their ``evidence`` outbox
        rows commit with the outcome; files that end up unqueued are deleted.
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
            approved_by=approved_by,
            waiver_request_id=waiver_request_id,
        )
        read_id, evidence = self._prepare_evidence(notice_id)
        queued = False
        unqueued: list[PreparedEvidence] = []
        try:
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
                    connection.execute(
                        SELECT_NOTICE_EXISTS, {"b_notice_id": str(notice_id)}
                    ).first()
                    is None
                ):
                    raise UnknownNoticeError(f"no notice {notice_id}")
                connection.execute(insert(_outcomes).values(_outcome_row(record)))
                now = self._clock()
                if cancel_waiver_request is not None:
                    _enqueue_waiver_cancel(
                        connection, cancel_waiver_request, f"outcome recorded: {kind.value}", now
                    )
                enqueue(
                    connection,
                    kind=OUTBOX_OUTCOME,
                    key=str(outcome_id),
                    payload=record.request_body(),
                    now=now,
                )
                unqueued = [
                    item
                    for item in evidence
                    if not enqueue(
                        connection,
                        kind=OUTBOX_EVIDENCE,
                        key=str(item.evidence_id),
                        payload=item.payload(
                            plate=record.plate, read_id=read_id, notice_id=notice_id
                        ),
                        now=now,
                    )
                ]
                queued = True
        finally:
            if self._evidence is not None:
                self._evidence.discard(unqueued if queued else evidence)
        return record

    def _prepare_evidence(
        self, notice_id: uuid.UUID
    ) -> tuple[uuid.UUID | None, list[PreparedEvidence]]:
        """The notice's read id and its images written for upload (none when the notice
        already has an outcome, has no read or no images, or evidence is off)."""
        if self._evidence is None:
            return None, []
        with self._engine.connect() as connection:
            row = connection.execute(
                SELECT_NOTICE_EVIDENCE, {"b_notice_id": str(notice_id)}
            ).first()
        if row is None:
            return None, []
        prepared = self._evidence.prepare(
            notice_id, {"snapshot": row.snapshot_path, "crop": row.crop_path}
        )
        return uuid.UUID(row.read_id), prepared

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

    def queue_waiver_cancel(self, request_id: uuid.UUID, reason: str) -> bool:
        """Queue the cancellation of a waiver request the server may still hold open;
        False when it was queued before."""
        with self._units.write() as session:
            return _enqueue_waiver_cancel(session.connection(), request_id, reason, self._clock())

    # -- read-only queries for the shift report ---------------------------------------

    def outcome_totals_between(
        self, start: datetime, end: datetime, attendant: str | None = None
    ) -> list[OutcomeTotal]:
        """Outcomes recorded in ``[start, end]`` (by ``attendant`` when given), summed
        per kind, payment method and currency."""
        return _outcome_totals_between(self._engine, start, end, attendant)

    def notices_between(
        self, start: datetime, end: datetime, attendant: str | None = None
    ) -> dict[str, int]:
        """Notices raised in ``[start, end]`` per currency (see :func:`_notices_between`)."""
        return _notices_between(self._engine, start, end, attendant)

    def attendants_between(self, start: datetime, end: datetime) -> list[str]:
        """Attendants who recorded an outcome in ``[start, end]``, sorted."""
        return _attendants_between(self._engine, start, end)

    def first_activity_between(
        self, start: datetime, end: datetime, attendant: str
    ) -> datetime | None:
        """When ``attendant``'s first outcome in ``[start, end]`` began (its notice)."""
        return _first_activity_between(self._engine, start, end, attendant)


def _enqueue_read(connection: Connection, body: dict[str, Any], now: datetime) -> bool:
    return enqueue(connection, kind=OUTBOX_READ, key=str(body["read_id"]), payload=body, now=now)


def _enqueue_waiver_cancel(
    connection: Connection, request_id: uuid.UUID, reason: str, now: datetime
) -> bool:
    return enqueue(
        connection,
        kind=OUTBOX_WAIVER_CANCEL,
        key=str(request_id),
        payload={"request_id": str(request_id), "reason": reason},
        now=now,
    )


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
        "approved_by": record.approved_by,
        "waiver_request_id": None
        if record.waiver_request_id is None
        else str(record.waiver_request_id),
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
        approved_by=row["approved_by"],
        waiver_request_id=None
        if row["waiver_request_id"] is None
        else uuid.UUID(row["waiver_request_id"]),
    )


# -- shift report queries (read-only) ---------------------------------------------------


@dataclass(frozen=True)
class OutcomeTotal:
    """Outcomes of one kind, method and currency in a time window, summed.

    ``amount_cents`` is what the outcomes recorded (collected money for ``paid``; zero
    otherwise); ``owed_cents`` is what their notices asked for (the amount waived,
    disputed or left unpaid).
    """

    kind: OutcomeKind
    method: PaymentMethod | None
    currency: str
    count: int
    amount_cents: int
    owed_cents: int


def _window(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= to_db_time(start), column <= to_db_time(end))


def _outcome_filter(start: datetime, end: datetime, attendant: str | None) -> list[Any]:
    conditions = [_window(_outcomes.c.recorded_at, start, end)]
    if attendant is not None:
        conditions.append(_outcomes.c.attendant == attendant)
    return conditions


def _outcome_totals_between(
    engine: Engine, start: datetime, end: datetime, attendant: str | None = None
) -> list[OutcomeTotal]:
    """Outcomes recorded in ``[start, end]`` (by ``attendant`` when given), grouped."""
    statement = (
        select(
            _outcomes.c.kind,
            _outcomes.c.method,
            _notices.c.currency,
            func.count().label("count"),
            func.coalesce(func.sum(_outcomes.c.amount_cents), 0).label("amount_cents"),
            func.coalesce(func.sum(_notices.c.unpaid_cents), 0).label("owed_cents"),
        )
        .select_from(_outcomes)
        .join(_notices, _notices.c.notice_id == _outcomes.c.notice_id)
        .where(*_outcome_filter(start, end, attendant))
        .group_by(_outcomes.c.kind, _outcomes.c.method, _notices.c.currency)
        .order_by(_outcomes.c.kind, _outcomes.c.method, _notices.c.currency)
    )
    with engine.connect() as connection:
        return [
            OutcomeTotal(
                kind=OutcomeKind(row.kind),
                method=None if row.method is None else PaymentMethod(row.method),
                currency=row.currency,
                count=row.count,
                amount_cents=row.amount_cents,
                owed_cents=row.owed_cents,
            )
            for row in connection.execute(statement)
        ]


def _notices_between(
    engine: Engine, start: datetime, end: datetime, attendant: str | None = None
) -> dict[str, int]:
    """Notices raised in ``[start, end]``, counted per currency.

    Notices carry no attendant: with ``attendant``, a notice counts when that attendant
    recorded its outcome or when it has no outcome yet (raised on their watch).
    """
    conditions = [_window(_notices.c.created_at, start, end)]
    if attendant is not None:
        conditions.append(or_(_outcomes.c.outcome_id.is_(None), _outcomes.c.attendant == attendant))
    statement = (
        select(_notices.c.currency, func.count().label("count"))
        .select_from(_notices)
        .outerjoin(_outcomes, _outcomes.c.notice_id == _notices.c.notice_id)
        .where(*conditions)
        .group_by(_notices.c.currency)
    )
    with engine.connect() as connection:
        return {row.currency: row.count for row in connection.execute(statement)}


def _attendants_between(engine: Engine, start: datetime, end: datetime) -> list[str]:
    """Attendants who recorded an outcome in ``[start, end]``, sorted."""
    statement = (
        select(_outcomes.c.attendant)
        .where(_window(_outcomes.c.recorded_at, start, end))
        .distinct()
        .order_by(_outcomes.c.attendant)
    )
    with engine.connect() as connection:
        return list(connection.execute(statement).scalars())


def _first_activity_between(
    engine: Engine, start: datetime, end: datetime, attendant: str
) -> datetime | None:
    """When ``attendant``'s first outcome in ``[start, end]`` began: the earlier of its
    notice and its recording, never before ``start`` (None: no outcome)."""
    began = func.min(_notices.c.created_at, _outcomes.c.recorded_at)
    statement = (
        select(func.min(began))
        .select_from(_outcomes)
        .join(_notices, _notices.c.notice_id == _outcomes.c.notice_id)
        .where(*_outcome_filter(start, end, attendant))
    )
    with engine.connect() as connection:
        first = connection.execute(statement).scalar()
    return None if first is None else max(start, from_db_time(first))
