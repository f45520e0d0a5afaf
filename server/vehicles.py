"""Parking history queries and their JSON shapes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ParkingSession
from server.schemas import SessionOut

OPEN_STATUSES = ("unpaid", "disputed")


def session_out(row: ParkingSession) -> SessionOut:
    """The API shape of one parking session."""
    return SessionOut(
        id=row.id,
        lot_id=row.lot_id,
        lot_name=row.lot.name,
        entered_at=row.entered_at,
        exited_at=row.exited_at,
        fee_cents=row.fee_cents,
        paid_cents=row.paid_cents,
        unpaid_cents=row.unpaid_cents,
        status=row.status,  # type: ignore[arg-type]
    )


def session_json(row: ParkingSession) -> dict[str, Any]:
    """The API shape of one parking session as plain JSON data."""
    return session_out(row).model_dump(mode="json")


def sessions_for_plate(
    session: Session, *, plate: str, reload: bool = False
) -> list[ParkingSession]:
    """Every session of ``plate`` (already normalized), oldest first.

    ``reload`` overwrites rows this session loaded before with what the database holds
    now (after taking a lock, another transaction's commits are visible).
    """
    query = (
        select(ParkingSession)
        .where(ParkingSession.plate == plate)
        .order_by(ParkingSession.entered_at, ParkingSession.id)
    )
    if reload:
        query = query.execution_options(populate_existing=True)
    return list(session.scalars(query))


def open_sessions(rows: list[ParkingSession]) -> list[ParkingSession]:
    """The sessions that still owe money (unpaid or disputed)."""
    return [row for row in rows if row.status in OPEN_STATUSES and row.unpaid_cents > 0]


def vehicle_status(rows: list[ParkingSession]) -> str:
    """``active`` (owes), ``disputed`` (owes, a dispute is open) or ``clear``."""
    owing = open_sessions(rows)
    if not owing:
        return "clear"
    if any(row.status == "disputed" for row in owing):
        return "disputed"
    return "active"
