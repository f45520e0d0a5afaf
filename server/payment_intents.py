"""QR payment intents: create one (checked like a paid outcome), read its status, pay it.

An intent stores ``pending``, ``paid`` or ``cancelled``; ``expired`` is derived when it
is read (still pending at or after ``expires_at``), so no background job is needed.
Paying settles the sessions in the same transaction as a ``paid`` outcome with method
``qr`` would; the booth's own ``qr`` outcome that names the intent as its reference is
then recognised and recorded without a second payment (see :func:`paid_intent_for`).
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.blacklist import refresh_entry
from server.booths import BoothIdentity
from server.config import ServerSettings
from server.db import utcnow
from server.models import PaymentIntent
from server.schemas import OutcomeIn, PaymentIntentIn, PaymentIntentOut
from server.settlement import api_error, check_amount, lock_sessions, pay_sessions, settled_ids

logger = logging.getLogger(__name__)

SANDBOX_PAY_PATH = "/sandbox/pay/{intent_id}"
MAX_ATTEMPTS = 3


class PayResult(enum.StrEnum):
    """What an attempt to pay an intent found."""

    PAID = "paid"  # this attempt collected the money
    ALREADY_PAID = "already_paid"  # the intent was paid before: nothing more collected
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SETTLED_ELSEWHERE = "settled_elsewhere"  # sessions settled another way: intent cancelled
    UNKNOWN = "unknown"


def current_status(intent: PaymentIntent, now: datetime) -> str:
    """``pending``, ``paid``, ``expired`` (pending past ``expires_at``) or ``cancelled``."""
    if intent.status == "pending" and now >= intent.expires_at:
        return "expired"
    return intent.status


def pay_url(base_url: str, intent_id: uuid.UUID) -> str:
    """The absolute URL of the sandbox page of ``intent_id`` under ``base_url``."""
    return base_url.rstrip("/") + SANDBOX_PAY_PATH.format(intent_id=intent_id)


def intent_answer(
    intent: PaymentIntent, *, base_url: str, now: datetime | None = None
) -> dict[str, Any]:
    """The API shape of ``intent`` with its status at ``now`` (default: now), as JSON data."""
    now = now or utcnow()
    return PaymentIntentOut(
        intent_id=intent.intent_id,
        status=current_status(intent, now),  # type: ignore[arg-type]
        plate=intent.plate,
        amount_cents=intent.amount_cents,
        currency=intent.currency,
        pay_url=pay_url(base_url, intent.intent_id),
        expires_at=intent.expires_at,
        paid_at=intent.paid_at,
    ).model_dump(mode="json")


def find_intent(
    session: Session, intent_id: uuid.UUID, *, lock: bool = False
) -> PaymentIntent | None:
    """The intent with ``intent_id`` (locked until the transaction ends when ``lock``)."""
    query = select(PaymentIntent).where(PaymentIntent.intent_id == intent_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def _add_intent(
    session: Session,
    *,
    body: PaymentIntentIn,
    booth: BoothIdentity,
    request_json: dict[str, Any],
    settings: ServerSettings,
    now: datetime,
) -> PaymentIntent:
    """Check the sessions exactly like a paid outcome, then add a pending intent.

    Raises 422 ``unknown_sessions``, 409 ``already_paid`` or 422 ``amount_mismatch``.
    """
    rows = lock_sessions(session, plate=body.plate, session_ids=body.session_ids)
    settled = settled_ids(rows)
    if settled:
        raise api_error(
            "already_paid",
            f"sessions {settled} are already settled; nothing to pay",
            http_status=409,
            session_ids=settled,
        )
    check_amount(rows, body.amount_cents)
    intent = PaymentIntent(
        intent_id=body.intent_id,
        notice_id=body.notice_id,
        booth_id=booth.id,
        plate=body.plate,
        session_ids=list(body.session_ids),
        amount_cents=body.amount_cents,
        currency=settings.currency,
        status="pending",
        request=request_json,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.payment_intent_lifetime_s),
    )
    session.add(intent)
    return intent


def create_intent(
    session: Session,
    *,
    body: PaymentIntentIn,
    booth: BoothIdentity,
    settings: ServerSettings,
    base_url: str,
) -> tuple[int, dict[str, Any]]:
    """Create the intent ``body`` asks for (committed): (201, intent) the first time,
    (200, intent) for a replay by the same booth with the same body.

    422 ``idempotency_key_reused`` for the same id with another body or from another
    booth (whose intent this booth must not see).
    """
    request_json = body.model_dump(mode="json")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        existing = find_intent(session, body.intent_id)
        if existing is not None:
            if existing.booth_id != booth.id or existing.request != request_json:
                raise api_error(
                    "idempotency_key_reused",
                    "this intent_id was already used for a different payment intent",
                )
            return 200, intent_answer(existing, base_url=base_url)
        now = utcnow()
        intent = _add_intent(
            session,
            body=body,
            booth=booth,
            request_json=request_json,
            settings=settings,
            now=now,
        )
        try:
            session.commit()
        except IntegrityError:
            # The same intent_id committed concurrently: look again and replay it.
            session.rollback()
            logger.info("payment intent conflict on attempt %d; retrying", attempt)
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        logger.info(
            "payment intent %s from %s: %s %d cents",
            body.intent_id,
            booth.id,
            body.plate,
            body.amount_cents,
        )
        return 201, intent_answer(intent, base_url=base_url, now=now)
    raise AssertionError("unreachable")


def pay_intent(
    session: Session, *, intent_id: uuid.UUID, settings: ServerSettings, now: datetime
) -> tuple[PayResult, PaymentIntent | None]:
    """Pay ``intent_id``: settle its sessions (method ``qr``) and mark it paid.

    Nothing is collected when the intent is unknown, expired, cancelled or already paid,
    or when any of its sessions was settled another way meanwhile (the intent is then
    cancelled). The caller commits; an ``IntegrityError`` on commit means a concurrent
    payment of a session won, and a retry finds ``SETTLED_ELSEWHERE``.
    """
    intent = find_intent(session, intent_id, lock=True)
    if intent is None:
        return PayResult.UNKNOWN, None
    state = current_status(intent, now)
    if state != "pending":
        return {
            "paid": PayResult.ALREADY_PAID,
            "expired": PayResult.EXPIRED,
            "cancelled": PayResult.CANCELLED,
        }[state], intent
    rows = lock_sessions(session, plate=intent.plate, session_ids=intent.session_ids)
    if settled_ids(rows) or sum(row.unpaid_cents for row in rows) != intent.amount_cents:
        intent.status = "cancelled"
        logger.info("intent %s cancelled: its sessions were settled another way", intent_id)
        return PayResult.SETTLED_ELSEWHERE, intent
    collected = pay_sessions(session, rows, method="qr", intent_id=intent.intent_id)
    intent.status = "paid"
    intent.paid_at = now
    session.flush()
    refresh_entry(
        session, plate=intent.plate, currency=settings.currency, keep=settings.change_log_keep
    )
    logger.info("intent %s paid: %d cents for %s", intent_id, collected, intent.plate)
    return PayResult.PAID, intent


def paid_intent_for(session: Session, body: OutcomeIn) -> PaymentIntent | None:
    """The paid intent behind a booth's ``qr`` outcome, or None when it is not backed by one.

    It backs the outcome when the outcome's ``reference`` is the intent's id, plate,
    sessions and amount are the intent's, and no other outcome claimed it yet: the money
    is already collected. The caller claims it (``intent.outcome_id``).
    """
    if body.kind != "paid" or body.method != "qr" or not body.reference:
        return None
    try:
        intent_id = uuid.UUID(body.reference)
    except ValueError:
        return None
    intent = find_intent(session, intent_id)
    if (
        intent is None
        or intent.status != "paid"
        or intent.plate != body.plate
        or sorted(intent.session_ids) != sorted(body.session_ids)
        or intent.amount_cents != body.amount_cents
        or intent.outcome_id not in (None, body.outcome_id)
    ):
        return None
    return intent
