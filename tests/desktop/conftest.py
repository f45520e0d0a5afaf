"""Fixtures shared by the booth-core tests: a fresh store file and a hand-moved clock."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.store import Store
from tests.desktop.booth_support import TOKEN, ManualClock


@pytest.fixture(autouse=True)
def token_never_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No log record of any booth-core test may hold the booth's token."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert TOKEN not in text, f"token leaked into a log record of {record.name}"
        assert "Bearer " not in text


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
