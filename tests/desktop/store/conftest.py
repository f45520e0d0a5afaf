"""Fixtures for the local store: a fresh SQLite file per test, closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from desktop.domain import BlacklistChange, BlacklistEntry, EntryStatus, UnpaidSession
from desktop.store import Store
from tests.desktop.booth_support import T0, ManualClock


def make_entry(plate: str, unpaid_cents: int = 1850, **changes: object) -> BlacklistEntry:
    """A listed vehicle owing ``unpaid_cents`` over one session."""
    session = UnpaidSession(
        id=7,
        lot_id="north",
        lot_name="North Garage",
        entered_at=T0 - timedelta(days=3),
        exited_at=T0 - timedelta(days=3, hours=-2),
        fee_cents=unpaid_cents,
        unpaid_cents=unpaid_cents,
    )
    values: dict[str, object] = {
        "plate": plate,
        "status": EntryStatus.ACTIVE,
        "unpaid_cents": unpaid_cents,
        "currency": "USD",
        "sessions": [session],
        "updated_at": T0,
    }
    values.update(changes)
    return BlacklistEntry.model_validate(values)


def upsert(seq: int, plate: str, **entry_changes: object) -> BlacklistChange:
    """An upsert change for ``plate`` at ``seq``."""
    return BlacklistChange(
        seq=seq, plate=plate, action="upsert", entry=make_entry(plate, **entry_changes)
    )


def remove(seq: int, plate: str) -> BlacklistChange:
    """A remove change for ``plate`` at ``seq``."""
    return BlacklistChange(seq=seq, plate=plate, action="remove")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "booth.db"


@pytest.fixture
def store(store_path: Path, clock: ManualClock) -> Iterator[Store]:
    opened = Store(store_path, clock=clock)
    try:
        yield opened
    finally:
        opened.close()
