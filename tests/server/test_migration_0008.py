"""Migration 0008: flags from before it get their counters, lots and plate search."""

from __future__ import annotations

import logging
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
EVERY = ("active", "disputed", "waived", "cleared")
TRGM = {"ix_blacklist_entries_plate_trgm", "ix_flag_history_plate_trgm"}

_entries = sa.table(
    "blacklist_entries",
    sa.column("plate", sa.String),
    sa.column("status", sa.String),
    sa.column("unpaid_cents", sa.Integer),
    sa.column("updated_at", UTCDateTime),
    sa.column("last_seq", sa.Integer),
    sa.column("entry", sa.JSON),
    sa.column("lots", sa.Text),
)


def _entry(plate: str, minutes: int, status: str, *lots: str) -> dict:
    """An entry as a server at 0007 stores it (sessions in its JSON, lots as text)."""
    updated = T0 + timedelta(minutes=minutes)
    sessions = [
        {
            "id": number,
            "lot_id": lot,
            "lot_name": lot.title(),
            "entered_at": "2026-11-30T08:00:00Z",
            "exited_at": "2026-11-30T10:00:00Z",
            "fee_cents": 500,
            "paid_cents": 0,
            "unpaid_cents": 500,
            "status": "disputed" if status == "disputed" else "unpaid",
        }
        for number, lot in enumerate(lots, start=minutes * 10)
    ]
    return {
        "plate": plate,
        "status": status,
        "unpaid_cents": 500 * len(lots),
        "updated_at": updated,
        "last_seq": minutes,
        "entry": {
            "plate": plate,
            "status": status,
            "unpaid_cents": 500 * len(lots),
            "currency": "USD",
            "sessions": sessions,
            "updated_at": updated.isoformat(),
        },
        "lots": "".join("|" + lot.replace("|", "%7C") for lot in sorted(set(lots))) + "|",
    }


def _decision(plate: str, minutes: int, status: str, *lots: str) -> dict:
    return {
        "plate": plate,
        "status": status,
        "session_ids": [900 + minutes],
        "unpaid_cents": 700,
        "currency": "USD",
        "lots": sorted(set(lots)),
        "first_unpaid_at": T0,
        "reason": "kept",
        "decided_by": "super",
        "source": "supervisor",
        "decided_at": T0 + timedelta(minutes=minutes),
    }


@pytest.fixture
def engine_at_0007(settings: ServerSettings) -> Iterator[Engine]:
    """An engine on a database at revision 0007 holding current and decided flags."""
    engine = make_engine(settings.database_url)
    migrate(engine, "0007")
    with engine.begin() as connection:
        connection.execute(
            sa.insert(LOTS_TABLE), [{"id": lot, "name": lot} for lot in ("north", "south", "a|b")]
        )
        connection.execute(
            sa.insert(_entries),
            [
                _entry("ABC123", 1, "active", "north", "south", "north"),
                _entry("XYZ789", 2, "disputed", "south"),
                _entry("京A12345", 3, "active", "a|b"),
                _entry("Q7", 4, "active", "north"),
            ],
        )
        connection.execute(
            sa.insert(FLAG_HISTORY),
            [
                _decision("OLD111", 5, "waived", "south"),
                _decision("ABC123", 6, "cleared", "north"),
                _decision("ZZZ999", 7, "waived", "north", "a|b"),
            ],
        )
    yield engine
    engine.dispose()


def _listed(engine: Engine, **filters: object) -> tuple[list[tuple[str, str]], int]:
    flt = FlagFilter(**{"statuses": EVERY, **filters})  # type: ignore[arg-type]
    with make_session_factory(engine)() as session:
        items, total = list_flags(session, flt, limit=50, offset=0)
    return [(item.plate, item.status) for item in items], total


def _indexes(engine: Engine, table: str) -> set[str]:
    return {index["name"] for index in sa.inspect(engine).get_indexes(table)}


def test_upgrade_counts_the_flags_and_indexes_their_lots_and_plates(
    engine_at_0007: Engine,
) -> None:
    engine = engine_at_0007
    migrate(engine, "head")
    with engine.connect() as connection:
        counters = connection.execute(
            sa.text(
                "SELECT active_flags, disputed_flags, waived_flags, cleared_flags FROM server_state"
            )
        ).one()
        lots = connection.execute(
            sa.text("SELECT lot, plate, row_id > 0, status FROM flag_lots ORDER BY 1, 2, 3")
        ).all()
        in_lots = connection.execute(
            sa.text("SELECT lot, status, flags FROM flag_lot_counts ORDER BY 1, 2")
        ).all()
        grams = connection.execute(
            sa.text("SELECT gram FROM flag_plate_grams WHERE plate = '京A12345' ORDER BY gram")
        ).scalars()
        grams = list(grams)
    assert tuple(counters) == (3, 1, 2, 1)
    assert [tuple(row) for row in lots] == [
        ("a|b", "ZZZ999", True, "waived"),
        ("a|b", "京A12345", False, "active"),
        ("north", "ABC123", False, "active"),
        ("north", "ABC123", True, "cleared"),
        ("north", "Q7", False, "active"),
        ("north", "ZZZ999", True, "waived"),
        ("south", "ABC123", False, "active"),
        ("south", "OLD111", True, "waived"),
        ("south", "XYZ789", False, "disputed"),
    ]
    assert [tuple(row) for row in in_lots] == [
        ("a|b", "active", 1),
        ("a|b", "waived", 1),
        ("north", "active", 2),
        ("north", "cleared", 1),
        ("north", "waived", 1),
        ("south", "active", 1),
        ("south", "disputed", 1),
        ("south", "waived", 1),
    ]
    if engine.dialect.name == "sqlite":
        assert grams == ["123", "234", "345", "A12", "京A1"]
    else:
        assert grams == []  # PostgreSQL searches plates through pg_trgm
        assert _indexes(engine, "blacklist_entries") | _indexes(engine, "flag_history") >= TRGM

    assert _listed(engine)[1] == 7
    assert _listed(engine, lot="a|b") == ([("ZZZ999", "waived"), ("京A12345", "active")], 2)
    assert _listed(engine, lot="north", statuses=("active",)) == (
        [("Q7", "active"), ("ABC123", "active")],
        2,
    )
    assert _listed(engine, plate="A12") == ([("京A12345", "active")], 1)
    assert _listed(engine, plate="BC1", lot="north") == (
        [("ABC123", "cleared"), ("ABC123", "active")],
        2,
    )
    assert _listed(engine, plate="7") == ([("Q7", "active"), ("XYZ789", "disputed")], 2)


def test_downgrade_and_upgrade_again(engine_at_0007: Engine) -> None:
    engine = engine_at_0007
    migrate(engine, "head")
    migrate(engine, "0007", down=True)
    tables = set(sa.inspect(engine).get_table_names())
    assert not {"flag_lots", "flag_lot_counts", "flag_plate_grams"} & tables
    columns = {column["name"] for column in sa.inspect(engine).get_columns("server_state")}
    assert "active_flags" not in columns
    assert not TRGM & (_indexes(engine, "blacklist_entries") | _indexes(engine, "flag_history"))
    assert "ix_blacklist_entries_lots" in _indexes(engine, "blacklist_entries")
    migrate(engine, "head")
    assert "ix_blacklist_entries_lots" not in _indexes(engine, "blacklist_entries")
    assert _listed(engine, lot="south")[1] == 3


def test_without_pg_trgm_the_migration_still_runs_and_the_search_still_answers(
    engine_at_0007: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine = engine_at_0007
    if engine.dialect.name != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    with engine.begin() as connection:
        # The owner may create trusted extensions because it may CREATE in the database.
        database = connection.execute(sa.text("SELECT current_database()")).scalar_one()
        connection.execute(sa.text(f'REVOKE CREATE ON DATABASE "{database}" FROM CURRENT_USER'))
    with caplog.at_level(logging.WARNING):
        migrate(engine, "head")
    assert any("pg_trgm could not be created" in record.getMessage() for record in caplog.records)
    assert not TRGM & (_indexes(engine, "blacklist_entries") | _indexes(engine, "flag_history"))
    assert _listed(engine, plate="BC1") == ([("ABC123", "cleared"), ("ABC123", "active")], 2)
    assert _listed(engine)[1] == 7
