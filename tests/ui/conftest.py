"""Fixtures for the Qt tests: offscreen Qt, garbage collected on the GUI thread, the bridge.

The reference server and the booth core come from ``tests/conftest.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
from collections.abc import Iterator

import pytest

from desktop.booth import BoothService
from ui.bridge import BoothBridge


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
def bridge(booth: BoothService, qtbot) -> Iterator[BoothBridge]:
    """The Qt bridge over ``booth``."""
    bridge = BoothBridge(booth)
    yield bridge
    bridge.close()
