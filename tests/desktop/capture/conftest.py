"""Fixtures for capture tests: generated videos, a real MJPEG server, captures that stop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.capture import Backoff, CameraSource, LaneCapture

from .media import make_video
from .mjpeg_server import MjpegServer

FAST_BACKOFF = Backoff(initial_s=0.05, factor=2.0, max_s=0.2)

MakeCapture = Callable[..., LaneCapture]


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A 1-second MJPG video: 30 numbered frames at 30 fps."""
    return make_video(tmp_path / "lane.avi", frames=30, fps=30.0)


@pytest.fixture
def make_capture() -> Iterator[MakeCapture]:
    """Build (and by default start) a LaneCapture; every one is stopped and joined after."""
    made: list[LaneCapture] = []

    def make(
        source: CameraSource | str, *, name: str = "lane-1", start: bool = True, **options: Any
    ) -> LaneCapture:
        options.setdefault("backoff", FAST_BACKOFF)
        capture = LaneCapture(name, source, **options)
        made.append(capture)
        if start:
            capture.start()
        return capture

    yield make
    stopped = [capture.stop(timeout=5.0) for capture in made]
    assert all(stopped), "a capture thread did not stop"


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    """A running MJPEG camera on 127.0.0.1, stopped after the test."""
    server = MjpegServer()
    server.start()
    yield server
    server.stop()
