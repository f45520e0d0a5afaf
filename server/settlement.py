"""Checks and writes shared by everything that settles parking sessions.

A ``paid`` outcome and a QR payment intent validate their sessions the same way, in the
same order: ``unknown_sessions`` (422), ``already_paid`` (409; for an intent a waived
session counts as settled, while a booth's paid outcome pays it, as the money was
taken), ``amount_mismatch`` (422); and both collect through :func:`pay_sessions`,
whose rows the ``UNIQUE(session_id)`` guard of ``payments`` keeps to one per session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ParkingSession, Payment

SETTLED = ("paid", "waived")


def api_error(code: str, message: str, *, http_status: int = 422, **extra: Any) -> HTTPException:
    """An error whose ``detail`` is ``{"code", "message", ...extra}``."""
    return HTTPException(
        status_code=http_status, detail={"code": code, "message": message, **extra}
    )


def lock_sessions(
    session: Session, *, plate: str, session_ids: Sequence[int]
) -> list[ParkingSession]:
    """The sessions ``session_ids`` of ``plate``, locked in id order; 422 ``unknown_sessions``.

    A session that does not exist or belongs to another plate is unknown.
    """
    rows = list(
        session.scalars(
            select(ParkingSession)
            .where(ParkingSession.id.in_(session_ids))
            .order_by(ParkingSession.id)
            .with_for_update(of=ParkingSession)
            .execution_options(populate_existing=True)
        )
    )
    found = {row.id: row for row in rows}
    unknown = [i for i in session_ids if i not in found or found[i].plate != plate]
    if unknown:
        raise api_error(
            "unknown_sessions",
            f"sessions {unknown} do not exist or do not belong to {plate}",
            session_ids=unknown,
        )
    return rows


def settled_ids(rows: Sequence[ParkingSession]) -> list[int]:
    """Ids of the sessions already settled (paid or waived): nothing may be collected."""
    return [row.id for row in rows if row.status in SETTLED]


def check_amount(rows: Sequence[ParkingSession], amount_cents: int) -> int:
    """The unpaid total of ``rows``; 422 ``amount_mismatch`` when ``amount_cents`` differs."""
    expected = sum(row.unpaid_cents for row in rows)
    if amount_cents != expected:
        raise api_error(
            "amount_mismatch",
            f"amount {amount_cents} differs from the unpaid total {expected}",
            expected_cents=expected,
        )
    return expected


def pay_sessions(
    session: Session,
    rows: Sequence[ParkingSession],
    *,
    method: str,
    outcome_id: uuid.UUID | None = None,
    intent_id: uuid.UUID | None = None,
) -> int:
    """Add one payment per session (for an outcome or an intent) and mark them paid.

    Returns the cents collected. The caller has checked them with the functions above.
    """
    if (outcome_id is None) == (intent_id is None):
        raise ValueError("a payment belongs to exactly one outcome or payment intent")
    collected = 0
    for row in rows:
        session.add(
            Payment(
                session_id=row.id,
                outcome_id=outcome_id,
                intent_id=intent_id,
                amount_cents=row.unpaid_cents,
                method=method,
            )
        )
        collected += row.unpaid_cents
        row.paid_cents = row.fee_cents
        row.status = "paid"
    return collected
