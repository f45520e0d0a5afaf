"""Fixtures shared by the booth tests: the real reference server and a real booth core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.booth import BoothService
from desktop.config import BoothConfig
from server.cli import ServerThread

DEMO_TOKENS = {"booth-a": "demo-booth-a-token", "booth-b": "demo-booth-b-token"}
LANE = "Exit 1"


@pytest.fixture
def reference_server(tmp_path: Path) -> Iterator[ServerThread]:
    """The reference server with demo data on 127.0.0.1 (a free port), for one test."""
    with ServerThread(
        database_url=f"sqlite:///{tmp_path / 'server.sqlite3'}", seed_demo=True
    ) as server:
        yield server
    server.app.state.engine.dispose()


def booth_config(server_url: str, data_dir: Path, **sections: dict) -> BoothConfig:
    """A booth-a configuration against ``server_url``; ``sections`` override tables."""
    values: dict = {
        "server": {"url": server_url, "connect_timeout_s": 0.5, "read_timeout_s": 3.0},
        "booth": {"id": "booth-a", "token": DEMO_TOKENS["booth-a"], "attendant": "alice"},
        "recovery": {"history_deadline_s": 1.0, "notice_cooldown_s": 60},
        "sync": {"interval_s": 3600},
        "data_dir": data_dir,
    }
    for name, table in sections.items():
        values[name] = {**values.get(name, {}), **table}
    return BoothConfig(**values)


@pytest.fixture
def booth(reference_server: ServerThread, tmp_path: Path) -> Iterator[BoothService]:
    """Booth-a's core (attendant alice) against the reference server, sync not started."""
    service = BoothService.from_config(booth_config(reference_server.url, tmp_path / "booth"))
    yield service
    service.stop()
