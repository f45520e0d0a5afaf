"""A committed outcome survives a power cut: every store connection syncs the WAL at commit.

In WAL mode ``synchronous = NORMAL`` syncs only at checkpoints, so a payment the booth
showed as recorded could roll back after a power loss; FULL (2) syncs every commit.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from desktop.store import Store
from desktop.store.database import create_store_engine

FULL, NORMAL = 2, 1


def test_every_connection_of_the_store_syncs_each_commit(store: Store) -> None:
    with ExitStack() as stack:
        # Held at once, so the pool hands out distinct connections (readers and writers).
        connections = [stack.enter_context(store.engine.connect()) for _ in range(3)]
        modes = [c.exec_driver_sql("PRAGMA synchronous").scalar() for c in connections]
        journals = [c.exec_driver_sql("PRAGMA journal_mode").scalar() for c in connections]
    assert modes == [FULL] * 3
    assert journals == ["wal"] * 3


def test_the_durability_benchmark_can_ask_for_normal_and_nothing_else(tmp_path: Path) -> None:
    engine = create_store_engine(tmp_path / "normal.db", synchronous="normal")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == NORMAL
    finally:
        engine.dispose()
    with pytest.raises(ValueError, match="synchronous"):
        create_store_engine(tmp_path / "odd.db", synchronous="FULL; DROP TABLE outbox")
