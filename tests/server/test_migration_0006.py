"""Migration 0006: a database with flags from before it keeps them, lot filter included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from server.config import ServerSettings
from server.db import UTCDateTime, make_engine, make_session_factory
from server.flags import FlagFilter, list_flags
from tests.server.migration_support import FLAG_HISTORY, LOTS_TABLE, migrate

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LOTS = ("north", "south", "a|b")

_entries = sa.table(
    "blacklist_entries",
    sa.column("plate", sa.String),
    sa.column("status", sa.String),
    sa.column("unpaid_cents", sa.Integer),
    sa.column("updated_at", UTCDateTime),
    sa.column("last_seq", sa.Integer),
    sa.column("entry", sa.JSON),
)


def _session(session_id: int, lot_id: str) -> dict:
    """A session as an entry published before 0006 lists it."""
    return {
        "id": session_id,
        "lot_id": lot_id,
        "lot_name": lot_id.title(),
        "entered_at": "2026-11-30T08:00:00Z",
        "exited_at": "2026-11-30T10:00:00Z",
        "fee_cents": 500,
        "paid_cents": 0,
        "unpaid_cents": 500,
        "status": "unpaid",
    }


def _entry(plate: str, minutes: int, *lots: str) -> dict:
    sessions = [_session(number, lot) for number, lot in enumerate(lots, start=1)]
    updated = T0 + timedelta(minutes=minutes)
    return {
        "plate": plate,
        "status": "active",
        "unpaid_cents": 500 * len(lots),
        "updated_at": updated,
        "last_seq": minutes,
        "entry": {
            "plate": plate,
            "status": "active",
            "unpaid_cents": 500 * len(lots),
            "currency": "USD",
            "sessions": sessions,
            "updated_at": updated.isoformat(),
        },
    }


@pytest.fixture
def engine_at_0005(settings: ServerSettings) -> Iterator[Engine]:
    """An engine on a database at revision 0005 holding three entries and a decided flag."""
    engine = make_engine(settings.database_url)
    migrate(engine, "0005")
    with engine.begin() as connection:
        connection.execute(sa.insert(LOTS_TABLE), [{"id": lot, "name": lot} for lot in LOTS])
        connection.execute(
            sa.insert(_entries),
            [
                _entry("ABC123", 1, "north", "south", "north"),
                _entry("PQR789", 2, "a|b"),
                _entry("XYZ789", 3, "south"),
            ],
        )
        connection.execute(
            sa.insert(FLAG_HISTORY),
            {
                "plate": "OLD111",
                "status": "waived",
                "session_ids": [9],
                "unpaid_cents": 700,
                "currency": "USD",
                "lots": ["south"],
                "first_unpaid_at": T0,
                "reason": "kept",
                "decided_by": "super",
                "source": "supervisor",
                "decided_at": T0,
            },
        )
    yield engine
    engine.dispose()


def _stored_lots(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT plate, lots FROM blacklist_entries"))
        return {plate: lots for plate, lots in rows}


def test_upgrade_fills_the_lots_of_existing_entries(engine_at_0005: Engine) -> None:
    migrate(engine_at_0005, "head")
    assert _stored_lots(engine_at_0005) == {
        "ABC123": "|north|south|",
        "PQR789": "|a%7Cb|",
        "XYZ789": "|south|",
    }
    indexes = {ix["name"] for ix in sa.inspect(engine_at_0005).get_indexes("blacklist_entries")}
    assert "ix_blacklist_entries_updated_at_plate" in indexes
    every = ("active", "disputed", "waived", "cleared")
    with make_session_factory(engine_at_0005)() as session:
        south, total = list_flags(
            session, FlagFilter(statuses=every, lot="south"), limit=10, offset=0
        )
        assert [(item.plate, item.status) for item in south] == [
            ("XYZ789", "active"),
            ("ABC123", "active"),
            ("OLD111", "waived"),
        ]
        assert total == 3
        (pqr,), _total = list_flags(session, FlagFilter(lot="a|b"), limit=10, offset=0)
        assert (pqr.plate, pqr.lots, pqr.unpaid_cents) == ("PQR789", ["a|b"], 500)


def test_downgrade_and_upgrade_again_keep_every_row(engine_at_0005: Engine) -> None:
    migrate(engine_at_0005, "head")
    migrate(engine_at_0005, "0005", down=True)
    columns = {c["name"] for c in sa.inspect(engine_at_0005).get_columns("blacklist_entries")}
    assert "lots" not in columns
    migrate(engine_at_0005, "head")
    assert set(_stored_lots(engine_at_0005)) == {"ABC123", "PQR789", "XYZ789"}
    with engine_at_0005.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM flag_history")).scalar() == 1
