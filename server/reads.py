"""Plate reads reported by booths: look the plate up, list it when it owes, keep the read.

The hot path of the hub (every booth, every vehicle): built statements on the unit's
connection, one lookup, one insert. An entry that exists is current (every writer that
changes a plate's sessions refreshes it), so a read only refreshes, i.e. creates, the
entry of an owing plate that is not listed yet (method step 3).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.blacklist import refresh_entry
from server.booths import BoothIdentity
from server.db import utcnow
from server.models import BlacklistEntry, ParkingSession, PlateRead
from server.schemas import ReadIn
from server.settlement import api_error
from server.vehicles import OPEN_STATUSES

logger = logging.getLogger(__name__)

_reads = PlateRead.__table__
_entries = BlacklistEntry.__table__
_sessions = ParkingSession.__table__

#: The plate's entry (if listed) and whether any of its sessions still owes.
LOOKUP = select(
    select(_entries.c.entry)
    .where(_entries.c.plate == bindparam("plate"))
    .scalar_subquery()
    .label("entry"),
    exists()
    .where(
        and_(
            _sessions.c.plate == bindparam("plate"),
            _sessions.c.status.in_(OPEN_STATUSES),
            _sessions.c.fee_cents > _sessions.c.paid_cents,
        )
    )
    .label("owing"),
)
STORED = select(_reads.c.booth_id, _reads.c.plate, _reads.c.answer).where(
    _reads.c.read_id == bindparam("read_id")
)
INSERT = _reads.insert()


def _stored_answer(session: Session, body: ReadIn, booth: BoothIdentity) -> dict[str, Any] | None:
    """The answer a replay gets; 422 when the read_id is another booth's or another plate's."""
    row = session.connection().execute(STORED, {"read_id": body.read_id}).first()
    if row is None:
        return None
    if row.booth_id != booth.id or row.plate != body.plate:
        # Another booth's read: say nothing about it (its plate, its answer).
        raise api_error(
            "idempotency_key_reused", "this read_id was already used for a different read"
        )
    return dict(row.answer)


def _answer(session: Session, body: ReadIn, *, currency: str, keep: int) -> dict[str, Any]:
    found = session.connection().execute(LOOKUP, {"plate": body.plate}).one()
    entry: dict[str, Any] | None = found.entry
    if entry is None and found.owing:
        listed = refresh_entry(session, plate=body.plate, currency=currency, keep=keep)
        entry = None if listed is None else listed.entry
    return {
        "read_id": str(body.read_id),
        "plate": body.plate,
        "owes": entry is not None and entry["status"] == "active",
        "entry": entry,
    }


def record_read(
    session: Session, *, body: ReadIn, booth: BoothIdentity, currency: str, keep: int
) -> dict[str, Any]:
    """Answer a read and keep it (committed); a replay answers what the first one got.

    A new read_id is the common case, so it is inserted straight away; the unique
    read_id refuses a replay, which then gets the stored answer.
    """
    answer = _answer(session, body, currency=currency, keep=keep)
    try:
        session.connection().execute(
            INSERT,
            {
                "read_id": body.read_id,
                "booth_id": booth.id,
                "plate": body.plate,
                "lane": body.lane,
                "seen_at": body.seen_at,
                "confidence": body.confidence,
                "source": body.source,
                "answer": answer,
                "received_at": utcnow(),
            },
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        stored = _stored_answer(session, body, booth)
        if stored is None:
            raise
        return stored
    logger.debug("read from %s lane %r owes=%s", booth.id, body.lane, answer["owes"])
    return answer
