"""Recovery outcomes reported by booths: recorded exactly once, by ``outcome_id``.

A ``paid`` outcome collects the unpaid total of its sessions (one ``payments`` row per
session, so a session is never collected twice), ``disputed`` and ``waived`` change the
sessions' status, ``left_unpaid`` only records; the blacklist entry is refreshed after.
200 and 409 answers are stored with the outcome and replayed to the booth that sent it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import audit
from server.blacklist import refresh_entry
from server.booths import BoothIdentity
from server.config import ServerSettings
from server.flags import add_history
from server.models import Outcome, ParkingSession
from server.payment_intents import paid_intent_for
from server.schemas import OutcomeIn, OutcomeOut
from server.settlement import api_error, check_amount, lock_sessions, pay_sessions, settled_ids
from server.waivers import approving_supervisor

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Recorded:
    """The HTTP status and answer of an outcome (first time or replayed)."""

    http_status: int
    answer: dict[str, Any]


def _replay(
    session: Session, *, body: OutcomeIn, booth: BoothIdentity, request_json: dict[str, Any]
) -> Recorded | None:
    row = session.scalar(select(Outcome).where(Outcome.outcome_id == body.outcome_id))
    if row is None:
        return None
    if row.booth_id != booth.id or row.request != request_json:
        # Another booth's outcome: its answer is not this booth's to see.
        raise api_error(
            "idempotency_key_reused",
            "this outcome_id was already used for a different outcome",
        )
    return Recorded(row.http_status, row.answer)


def _answer(
    body: OutcomeIn,
    *,
    state: str,
    collected: int,
    settled: list[int],
    already_paid: list[int],
    message: str,
) -> dict[str, Any]:
    return OutcomeOut(
        outcome_id=body.outcome_id,
        status=state,  # type: ignore[arg-type]
        collected_cents=collected,
        settled_session_ids=settled,
        already_paid_session_ids=already_paid,
        message=message,
    ).model_dump(mode="json")


def _apply(
    session: Session, *, body: OutcomeIn, rows: list[ParkingSession]
) -> tuple[int, dict[str, Any]]:
    """Change the sessions for ``body``; returns (HTTP status, answer)."""
    settled_before = settled_ids(rows)
    if body.kind == "paid":
        intent = paid_intent_for(session, body)
        if intent is not None:
            intent.outcome_id = body.outcome_id
            # The driver paid this intent on the payment page: the money and the session
            # changes are already there; record the booth's word without a second payment.
            return status.HTTP_200_OK, _answer(
                body,
                state="recorded",
                collected=intent.amount_cents,
                settled=[r.id for r in rows],
                already_paid=[],
                message=f"collected {intent.amount_cents} cents by QR payment {intent.intent_id}",
            )
        if any(row.status == "paid" for row in rows):
            return status.HTTP_409_CONFLICT, _answer(
                body,
                state="already_paid",
                collected=0,
                settled=[],
                already_paid=settled_before,
                message="already settled elsewhere; nothing was collected",
            )
        # Waived sessions are paid all the same: the booth took the money (a supervisor
        # approved a waiver while the driver was paying), and money collected must
        # reach the cash-up. _record audits the waiver the payment replaced.
        for row in rows:
            if row.status == "waived":
                row.status = "unpaid"  # reopened, and paid just below (or rolled back)
        expected = check_amount(rows, body.amount_cents)
        pay_sessions(session, rows, method=body.method or "", outcome_id=body.outcome_id)
        superseded = f"; the waiver of sessions {settled_before} gave way" if settled_before else ""
        return status.HTTP_200_OK, _answer(
            body,
            state="recorded",
            collected=expected,
            settled=[r.id for r in rows],
            already_paid=[],
            message=f"collected {expected} cents{superseded}",
        )
    if body.kind in ("disputed", "waived"):
        changed = [row for row in rows if row.status in ("unpaid", "disputed")]
        for row in changed:
            row.status = body.kind
        return status.HTTP_200_OK, _answer(
            body,
            state="recorded",
            collected=0,
            settled=[r.id for r in changed],
            already_paid=settled_before,
            message=f"{len(changed)} session(s) {body.kind}",
        )
    return status.HTTP_200_OK, _answer(
        body,
        state="recorded",
        collected=0,
        settled=[],
        already_paid=[],
        message="left unpaid; recorded",
    )


def _record(
    session: Session,
    *,
    body: OutcomeIn,
    booth: BoothIdentity,
    request_json: dict[str, Any],
    settings: ServerSettings,
) -> tuple[int, dict[str, Any]]:
    rows = lock_sessions(session, plate=body.plate, session_ids=body.session_ids)
    offline_supervisor = None
    if body.kind == "waived":
        # A waiver needs a supervisor: an approved request, or one who approved offline.
        offline_supervisor = approving_supervisor(session, body=body, booth=booth)
        before = {
            "entry": audit.entry_snapshot(session, body.plate),
            "sessions": audit.sessions_snapshot(rows),
        }
    waived_before = [row.id for row in rows if row.status == "waived"]
    if body.kind == "paid" and waived_before:
        before = {
            "entry": audit.entry_snapshot(session, body.plate),
            "sessions": audit.sessions_snapshot(rows),
        }
    http_status, answer = _apply(session, body=body, rows=rows)
    if body.kind == "waived" and answer["settled_session_ids"]:
        waived = set(answer["settled_session_ids"])
        add_history(
            session,
            plate=body.plate,
            status="waived",
            rows=[row for row in rows if row.id in waived],
            currency=settings.currency,
            decided_by=body.approved_by or body.attendant or booth.id,
            source="supervisor",
            reason=body.reason,
        )
    session.add(
        Outcome(
            outcome_id=body.outcome_id,
            booth_id=booth.id,
            plate=body.plate,
            kind=body.kind,
            method=body.method,
            amount_cents=body.amount_cents,
            request=request_json,
            http_status=http_status,
            answer=answer,
        )
    )
    if http_status == status.HTTP_200_OK and body.kind != "left_unpaid":
        session.flush()
        refresh_entry(
            session,
            plate=body.plate,
            currency=settings.currency,
            keep=settings.change_log_keep,
        )
    if body.kind == "paid" and waived_before and http_status == status.HTTP_200_OK:
        session.flush()
        audit.record(
            session,
            supervisor=None,
            booth_id=booth.id,
            action="payment_over_waiver",
            plate=body.plate,
            target=str(body.outcome_id),
            reason=f"paid {body.amount_cents} cents by {body.method} at {body.lane}",
            before=before,
            after={
                "entry": audit.entry_snapshot(session, body.plate),
                "sessions": audit.sessions_snapshot(rows),
            },
        )
    if offline_supervisor is not None:
        session.flush()
        audit.record(
            session,
            supervisor=offline_supervisor,
            booth_id=booth.id,
            action="approve_waiver_offline",
            plate=body.plate,
            target=str(body.outcome_id),
            reason=body.reason,
            before=before,
            after={
                "entry": audit.entry_snapshot(session, body.plate),
                "sessions": audit.sessions_snapshot(rows),
                "waived_session_ids": answer["settled_session_ids"],
                "lane": body.lane,
                "attendant": body.attendant,
            },
        )
    return http_status, answer


def record_outcome(
    session: Session, *, body: OutcomeIn, booth: BoothIdentity, settings: ServerSettings
) -> Recorded:
    """Record ``body`` exactly once (committed); a replay returns the first answer."""
    request_json = body.model_dump(mode="json")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        replay = _replay(session, body=body, booth=booth, request_json=request_json)
        if replay is not None:
            return replay
        http_status, answer = _record(
            session, body=body, booth=booth, request_json=request_json, settings=settings
        )
        try:
            session.commit()
        except IntegrityError:
            # A concurrent request won: the same outcome_id, or a payment of one of
            # these sessions (UNIQUE(session_id)). Look again: replay or already_paid.
            session.rollback()
            logger.info("outcome conflict on attempt %d; retrying", attempt)
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        logger.info(
            "outcome %s from %s: %s -> %d", body.outcome_id, booth.id, body.kind, http_status
        )
        return Recorded(http_status, answer)
    raise AssertionError("unreachable")
