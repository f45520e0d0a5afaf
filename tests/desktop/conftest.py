"""Fixtures shared by the booth-core tests: a fresh store file and a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.store import Store
from tests.desktop.booth_support import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[Store]:
    opened = Store(tmp_path / "booth.db", clock=clock)
    try:
        yield opened
    finally:
        opened.close()
