"""All the lane captures of one booth, started and stopped together."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .frame import CaptureStats
from .lane import LaneCapture, StateListener
from .source import CameraSource

logger = logging.getLogger(__name__)


class CaptureGroup:
    """The booth's lane captures by lane name: start and stop all, stats for all."""

    def __init__(self, captures: Iterable[LaneCapture]) -> None:
        """Own ``captures``; lane names must be unique."""
        self._captures: dict[str, LaneCapture] = {}
        for capture in captures:
            if capture.name in self._captures:
                raise ValueError(f"two lanes are called {capture.name!r}")
            self._captures[capture.name] = capture

    @classmethod
    def from_sources(
        cls, sources: Mapping[str, CameraSource | str], **lane_options: Any
    ) -> CaptureGroup:
        """A group with one :class:`LaneCapture` per ``lane name -> camera source``.

        ``lane_options`` go to every :class:`LaneCapture` (opener, clock, backoff, ...).
        """
        return cls(LaneCapture(name, source, **lane_options) for name, source in sources.items())

    def start(self) -> None:
        """Start every lane's capture."""
        for capture in self._captures.values():
            capture.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop every lane, waiting at most ``timeout`` s in total; False if any is stuck."""
        for capture in self._captures.values():
            capture.request_stop()
        deadline = time.monotonic() + timeout
        clean = True
        for capture in self._captures.values():
            clean &= capture.stop(max(0.0, deadline - time.monotonic()))
        return clean

    def stats(self) -> dict[str, CaptureStats]:
        """Each lane's capture stats, by lane name."""
        return {name: capture.stats() for name, capture in self._captures.items()}

    def add_state_listener(self, listener: StateListener) -> None:
        """Add ``listener`` to every lane (see :class:`LaneCapture` for the threading rules)."""
        for capture in self._captures.values():
            capture.add_state_listener(listener)

    @property
    def names(self) -> list[str]:
        """Lane names in configuration order."""
        return list(self._captures)

    def __getitem__(self, name: str) -> LaneCapture:
        return self._captures[name]

    def __iter__(self) -> Iterator[LaneCapture]:
        return iter(self._captures.values())

    def __len__(self) -> int:
        return len(self._captures)

    def __enter__(self) -> CaptureGroup:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
