"""Plate reads reported by booths: look the plate up, list it when it owes, keep the read."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.blacklist import refresh_entry
from server.booths import BoothIdentity
from server.models import BlacklistEntry, PlateRead
from server.schemas import ReadIn, ReadOut
from server.settlement import api_error
from server.vehicles import open_sessions, sessions_for_plate

logger = logging.getLogger(__name__)


def _stored_answer(session: Session, body: ReadIn, booth: BoothIdentity) -> dict[str, Any] | None:
    """The answer a replay gets; 422 when the read_id is another booth's or another plate's."""
    row = session.scalar(select(PlateRead).where(PlateRead.read_id == body.read_id))
    if row is None:
        return None
    if row.booth_id != booth.id or row.plate != body.plate:
        # Another booth's read: say nothing about it (its plate, its answer).
        raise api_error(
            "idempotency_key_reused", "this read_id was already used for a different read"
        )
    return row.answer


def _answer(session: Session, body: ReadIn, *, currency: str, keep: int) -> dict[str, Any]:
    entry = session.get(BlacklistEntry, body.plate)
    if entry is not None or open_sessions(sessions_for_plate(session, plate=body.plate)):
        entry = refresh_entry(session, plate=body.plate, currency=currency, keep=keep)
    return ReadOut(
        read_id=body.read_id,
        plate=body.plate,
        owes=entry is not None and entry.status == "active",
        entry=None if entry is None else entry.entry,  # type: ignore[arg-type]
    ).model_dump(mode="json")


def record_read(
    session: Session, *, body: ReadIn, booth: BoothIdentity, currency: str, keep: int
) -> dict[str, Any]:
    """Answer a read and keep it (committed); a replay answers what the first one got."""
    stored = _stored_answer(session, body, booth)
    if stored is not None:
        return stored
    answer = _answer(session, body, currency=currency, keep=keep)
    session.add(
        PlateRead(
            read_id=body.read_id,
            booth_id=booth.id,
            plate=body.plate,
            lane=body.lane,
            seen_at=body.seen_at,
            confidence=body.confidence,
            source=body.source,
            answer=answer,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        # The same read_id committed concurrently: answer what it got.
        session.rollback()
        stored = _stored_answer(session, body, booth)
        if stored is None:
            raise
        return stored
    logger.debug("read from %s lane %r owes=%s", booth.id, body.lane, answer["owes"])
    return answer
