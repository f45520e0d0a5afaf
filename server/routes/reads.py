"""``POST /reads``: a booth reports a plate read (idempotent by ``read_id``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.blacklist import refresh_entry
from server.deps import BoothDep, SessionDep, SettingsDep
from server.models import BlacklistEntry, Booth, PlateRead
from server.schemas import ReadIn, ReadOut
from server.vehicles import open_sessions, sessions_for_plate

logger = logging.getLogger(__name__)

router = APIRouter(tags=["reads"])


def _stored_answer(session: Session, body: ReadIn) -> dict[str, Any] | None:
    row = session.scalar(select(PlateRead).where(PlateRead.read_id == body.read_id))
    return None if row is None else row.answer


def _record(
    session: Session, *, body: ReadIn, booth: Booth, currency: str, keep: int
) -> dict[str, Any]:
    entry = session.get(BlacklistEntry, body.plate)
    if entry is not None or open_sessions(sessions_for_plate(session, plate=body.plate)):
        entry = refresh_entry(session, plate=body.plate, currency=currency, keep=keep)
    answer = ReadOut(
        read_id=body.read_id,
        plate=body.plate,
        owes=entry is not None and entry.status == "active",
        entry=None if entry is None else entry.entry,  # type: ignore[arg-type]
    ).model_dump(mode="json")
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
    return answer


@router.post("/reads", response_model=ReadOut)
def post_read(
    body: ReadIn, booth: BoothDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Look the plate up; an owing plate is put on (or refreshed in) the blacklist.

    ``owes`` is true only when a notice should be raised (entry status ``active``). A
    replay of a ``read_id`` returns the first answer and changes nothing.
    """
    stored = _stored_answer(session, body)
    if stored is not None:
        return stored
    answer = _record(
        session,
        body=body,
        booth=booth,
        currency=settings.currency,
        keep=settings.change_log_keep,
    )
    try:
        session.commit()
    except IntegrityError:
        # The same read_id committed concurrently: answer what it got.
        session.rollback()
        stored = _stored_answer(session, body)
        if stored is None:
            raise
        return stored
    logger.debug("read from %s lane %r owes=%s", booth.id, body.lane, answer["owes"])
    return answer
