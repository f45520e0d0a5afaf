"""Demo data: two lots, two booths, a supervisor and a handful of vehicles.

DEMO ONLY: the booth tokens and the supervisor's password and PIN below are published
in the source and must never be used on a real server. ``seed_demo`` is idempotent:
running it twice changes nothing.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.accounts import create_supervisor_account
from server.blacklist import refresh_entry
from server.db import utcnow
from server.models import Booth, Lot, ParkingSession, Supervisor
from server.passwords import hash_password, hash_pin
from server.security import hash_token

logger = logging.getLogger(__name__)

DEMO_LOTS = {"north": "North Garage", "south": "South Lot"}
#: DEMO ONLY tokens (booth id -> (name, lot, token)).
DEMO_BOOTHS = {
    "booth-a": ("Booth A", "north", "demo-booth-a-token"),
    "booth-b": ("Booth B", "south", "demo-booth-b-token"),
}

#: DEMO ONLY supervisor: username, password, offline PIN.
DEMO_SUPERVISOR = ("super", "demo-supervisor", "1234")


@functools.cache
def _demo_supervisor_hashes() -> tuple[str, str]:
    # Hashed once per process (random salts): seeding many test databases stays fast.
    _name, password, pin = DEMO_SUPERVISOR
    return hash_password(password), hash_pin(pin)


@dataclass(frozen=True)
class DemoSession:
    """A seeded session: days ago it started, hours parked, fee, paid, lot."""

    days_ago: int
    hours: int
    fee_cents: int
    paid_cents: int
    lot_id: str = "north"


def _paid(days_ago: int, fee: int, lot: str = "north") -> DemoSession:
    return DemoSession(days_ago, 2, fee, fee, lot)


def _unpaid(days_ago: int, fee: int, lot: str = "north", paid: int = 0) -> DemoSession:
    return DemoSession(days_ago, 3, fee, paid, lot)


DEMO_VEHICLES: dict[str, list[DemoSession]] = {
    # Owe money; blacklisted at their first sighting (method step 3).
    "ABC123": [_paid(25, 800), _unpaid(12, 1200), _unpaid(5, 650, "south")],
    "7XYZ042": [_paid(20, 500, "south"), _unpaid(9, 3400)],
    "TUV246": [_unpaid(16, 800, "south"), _unpaid(3, 1100)],
    "WXY135": [_unpaid(21, 500), _unpaid(14, 750, "south"), _unpaid(7, 1250)],
    "LMN802": [_unpaid(11, 3000, "south", paid=800)],
    # Owe money and are on the blacklist from the start (booths get them by sync).
    "PQR789": [_paid(18, 600), _unpaid(6, 900, "south")],
    "B0LT123": [_unpaid(4, 1500)],
    # Paid everything.
    "KLM4455": [_paid(19, 700), _paid(8, 1300, "south"), _paid(2, 450)],
    "DEF456": [_paid(10, 950)],
    "GHJ321": [_paid(15, 2100, "south"), _paid(1, 300)],
}
PRE_BLACKLISTED = ("PQR789", "B0LT123")


def seed_demo(session: Session, *, currency: str = "USD", now: datetime | None = None) -> None:
    """Insert the demo lots, booths, vehicles and blacklist entries, then commit.

    DEMO ONLY: booths ``booth-a`` / ``booth-b`` get the well-known tokens
    ``demo-booth-a-token`` / ``demo-booth-b-token``; supervisor ``super`` gets the
    password ``demo-supervisor`` and the PIN ``1234``. Session times are fixed offsets
    from ``now`` (default: the current time), so the data is deterministic. Plates that
    already have sessions are left alone; PQR789 and B0LT123 are put on the blacklist
    through the same code path as reads (appending changes only when needed).
    """
    now = now or utcnow()
    for lot_id, name in DEMO_LOTS.items():
        if session.get(Lot, lot_id) is None:
            session.add(Lot(id=lot_id, name=name))
    session.flush()
    for booth_id, (name, lot_id, token) in DEMO_BOOTHS.items():
        if session.get(Booth, booth_id) is None:
            session.add(Booth(id=booth_id, name=name, lot_id=lot_id, token_hash=hash_token(token)))
    username, password, pin = DEMO_SUPERVISOR
    if not session.scalar(select(exists().where(Supervisor.username == username))):
        password_hash, pin_hash = _demo_supervisor_hashes()
        create_supervisor_account(
            session,
            username=username,
            password=password,
            pin=pin,
            password_hash=password_hash,
            pin_hash=pin_hash,
        )
    for plate, visits in DEMO_VEHICLES.items():
        if session.scalar(select(exists().where(ParkingSession.plate == plate))):
            continue
        for visit in visits:
            entered = (now - timedelta(days=visit.days_ago)).replace(
                hour=8 + visit.days_ago % 9,
                minute=(visit.fee_cents // 10) % 60,
                second=0,
                microsecond=0,
            )
            status = "paid" if visit.paid_cents >= visit.fee_cents else "unpaid"
            session.add(
                ParkingSession(
                    plate=plate,
                    lot_id=visit.lot_id,
                    entered_at=entered,
                    exited_at=entered + timedelta(hours=visit.hours),
                    fee_cents=visit.fee_cents,
                    paid_cents=visit.paid_cents,
                    status=status,
                )
            )
    session.flush()
    for plate in PRE_BLACKLISTED:
        refresh_entry(session, plate=plate, currency=currency, now=now)
    session.commit()
    logger.info("demo data seeded (%d vehicles)", len(DEMO_VEHICLES))
