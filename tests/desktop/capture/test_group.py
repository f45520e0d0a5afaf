"""CaptureGroup: the lanes of one booth together."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.capture import CaptureGroup, CaptureState, CaptureStats, LaneCapture

from .conftest import FAST_BACKOFF


def test_group_starts_reports_and_stops_every_lane(video_file: Path, tmp_path: Path) -> None:
    group = CaptureGroup.from_sources(
        {"north": str(video_file), "south": str(tmp_path / "unplugged.avi")},
        backoff=FAST_BACKOFF,
    )
    changes: list[CaptureStats] = []
    group.add_state_listener(changes.append)

    with group:
        assert group.names == ["north", "south"]
        assert group["north"].wait_for(lambda s: s.state is CaptureState.LIVE, timeout=5)
        assert group["south"].wait_for(lambda s: s.state is CaptureState.NO_SIGNAL, timeout=5)
        stats = group.stats()
        assert stats["north"].frames >= 1
        assert stats["south"].frames == 0

    assert {s.state for s in group.stats().values()} == {CaptureState.STOPPED}
    assert {(c.lane, c.state) for c in changes} >= {
        ("north", CaptureState.LIVE),
        ("south", CaptureState.NO_SIGNAL),
        ("north", CaptureState.STOPPED),
        ("south", CaptureState.STOPPED),
    }
    assert len(group) == 2 and all(isinstance(c, LaneCapture) for c in group)


def test_lane_names_must_be_unique(video_file: Path) -> None:
    with pytest.raises(ValueError, match="north"):
        CaptureGroup([LaneCapture("north", str(video_file)), LaneCapture("north", "0")])
