"""Fixtures for the Qt tests: offscreen Qt, the real reference server, a real booth core."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.booth import BoothService
from desktop.config import BoothConfig
from server.cli import ServerThread
from ui.bridge import BoothBridge

DEMO_TOKENS = {"booth-a": "demo-booth-a-token", "booth-b": "demo-booth-b-token"}
LANE = "Exit 1"


@pytest.fixture(autouse=True)
def garbage_on_the_gui_thread(qapp) -> Iterator[None]:
    """Collect garbage only here, on the GUI thread, as the app does (see ui/gc_guard.py).

    Left to Python, a worker thread (decisions, sync, capture) may run the collector and
    destroy a Qt widget of an earlier test outside the GUI thread, which crashes Qt.
    """
    enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect()
    if enabled:
        gc.enable()


@pytest.fixture
def reference_server(tmp_path: Path) -> Iterator[ServerThread]:
    """The reference server with demo data on 127.0.0.1 (a free port), for one test."""
    server = ServerThread(database_url=f"sqlite:///{tmp_path / 'server.sqlite3'}", seed_demo=True)
    server.start()
    yield server
    server.stop()


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
    """Booth-a's core against the reference server (sync thread not started)."""
    service = BoothService.from_config(booth_config(reference_server.url, tmp_path / "booth"))
    yield service
    service.stop()


@pytest.fixture
def bridge(booth: BoothService, qtbot) -> Iterator[BoothBridge]:
    """The Qt bridge over ``booth``."""
    bridge = BoothBridge(booth)
    yield bridge
    bridge.close()
