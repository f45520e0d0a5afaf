"""LaneCapture over real video files: latest frame only, drops, looping, fps, retries."""

from __future__ import annotations

import logging
import os
import threading
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop.capture import CameraSource, CaptureState, CaptureStats, LaneCapture, parse_source

from .conftest import MakeCapture
from .media import HEIGHT, WIDTH, frame_index, make_video
from .mjpeg_server import closed_port

FRAME_BYTES = WIDTH * HEIGHT * 3


def test_frames_arrive_in_order_and_latest_is_the_newest(
    make_capture: MakeCapture, video_file: Path
) -> None:
    capture = make_capture(str(video_file))

    first = capture.wait_for_frame(timeout=5)
    assert first is not None
    assert first.image.shape == (HEIGHT, WIDTH, 3)
    assert first.image.dtype == np.uint8
    assert not first.image.flags.writeable  # shared with other consumers
    assert first.captured_at_utc.tzinfo is not None

    second = capture.wait_for_frame(after_frame_no=first.frame_no, timeout=5)
    assert second is not None
    assert second.frame_no > first.frame_no
    assert second.captured_at >= first.captured_at
    # Every file frame gets the next frame number, so the picture tells which one it is.
    for frame in (first, second):
        assert frame_index(frame.image) == (frame.frame_no - 1) % 30

    newest = capture.latest()
    assert newest is not None and newest.frame_no >= second.frame_no
    assert capture.latest(after_frame_no=newest.frame_no + 1000) is None
    assert capture.state is CaptureState.LIVE


def test_file_loops_without_counting_a_reconnect(make_capture: MakeCapture, tmp_path: Path) -> None:
    video = make_video(tmp_path / "short.avi", frames=10, fps=100.0)
    capture = make_capture(str(video))

    seen: list[tuple[int, int]] = []
    frame_no = 0
    while frame_no <= 25:  # two and a half passes over the file
        frame = capture.wait_for_frame(after_frame_no=frame_no, timeout=5)
        assert frame is not None
        frame_no = frame.frame_no
        seen.append((frame_no, frame_index(frame.image)))

    assert all(index == (number - 1) % 10 for number, index in seen)
    stats = capture.stats()
    assert stats.reconnects == 0
    assert stats.state is CaptureState.LIVE


def test_fps_is_measured_near_the_files_own_rate(
    make_capture: MakeCapture, video_file: Path
) -> None:
    capture = make_capture(str(video_file))

    # Paced playback: 45 frames of a 30 fps file take about 1.5 s, not a few milliseconds.
    stats = capture.wait_for(lambda s: s.frames >= 45, timeout=10)

    assert stats is not None, capture.stats()
    assert stats.last_frame_age_s is not None and stats.last_frame_age_s < 1.0
    assert 15 <= stats.fps <= 45, stats  # loose: a 2-core shared machine


def test_slow_consumer_sees_drops_and_only_one_frame_is_held(
    make_capture: MakeCapture, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "fast.avi", frames=30, fps=200.0)
    tracemalloc.start()
    try:
        capture = make_capture(str(video))
        assert capture.wait_for(lambda s: s.frames >= 10, timeout=5) is not None
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()

        taken: list[int] = []
        for _ in range(4):  # a consumer far slower than the camera
            frame = capture.latest()
            assert frame is not None
            taken.append(frame.frame_no)
            target = frame.frame_no + 25
            assert capture.wait_for(lambda s, t=target: s.frames >= t, timeout=5) is not None
            del frame
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert capture.stop()
    stats = capture.stats()
    assert stats.state is CaptureState.STOPPED
    assert stats.frames >= 100
    assert stats.dropped >= stats.frames - len(taken) - 1 - 10  # all but taken (and warm-up)
    # Every published frame is either taken, dropped, or the one still in the slot.
    assert stats.frames - stats.dropped - len(set(taken)) in (0, 1)
    # 100 frames went by; keeping them would need ~5.7 MB. Allow a few frames' worth.
    assert peak - baseline < 6 * FRAME_BYTES, (baseline, peak)


def test_missing_file_means_no_signal_and_retries_until_it_appears(
    make_capture: MakeCapture, tmp_path: Path
) -> None:
    path = tmp_path / "arrives-later.avi"
    states: list[tuple[CaptureState, str]] = []
    capture = make_capture(str(path), start=False)
    capture.add_state_listener(lambda s: states.append((s.state, threading.current_thread().name)))
    capture.start()

    retrying = capture.wait_for(
        lambda s: s.state is CaptureState.NO_SIGNAL and s.reconnects >= 3, timeout=5
    )
    assert retrying is not None, capture.stats()
    assert retrying.last_error is not None and "not found" in retrying.last_error
    assert retrying.frames == 0 and retrying.last_frame_age_s is None
    assert capture.wait_for_frame(timeout=0.05) is None

    # Write elsewhere and rename, so the capture never opens a half-written file.
    os.replace(make_video(tmp_path / "writing.avi"), path)

    live = capture.wait_for(lambda s: s.state is CaptureState.LIVE, timeout=5)
    assert live is not None, capture.stats()
    assert live.reconnects >= retrying.reconnects
    assert capture.wait_for_frame(timeout=5) is not None

    assert capture.stop()
    assert [state for state, _ in states] == [
        CaptureState.NO_SIGNAL,
        CaptureState.LIVE,
        CaptureState.STOPPED,
    ]
    assert states[0][1].startswith("capture-")  # from the capture thread, not the caller


def _quoting_opener(source: CameraSource) -> cv2.VideoCapture:
    """A camera library that puts the whole URL in its error message."""
    raise RuntimeError(f"could not connect to {source.value}")


class _QuotingReader:
    """An opened camera whose reads fail with the URL in the message."""

    def __init__(self, source: CameraSource) -> None:
        self.source = source

    def read(self) -> tuple[bool, np.ndarray | None]:
        raise RuntimeError(f"lost {self.source.value}")

    def get(self, prop_id: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


@pytest.mark.parametrize("opener", ["opencv", "quoting_opener", "quoting_reader"])
def test_credentials_never_reach_logs_errors_or_stderr(
    make_capture: MakeCapture,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    opener: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="desktop.capture")
    source = parse_source(f"http://admin:s3cretPW@127.0.0.1:{closed_port()}/stream.mjpg")
    options = {"quoting_opener": {"opener": _quoting_opener}}.get(opener, {})
    if opener == "quoting_reader":
        options = {"opener": _QuotingReader}
    capture = make_capture(source, **options)

    stats = capture.wait_for(lambda s: s.reconnects >= 2, timeout=5)
    assert capture.stop()

    assert stats is not None and stats.state is CaptureState.NO_SIGNAL
    assert stats.last_error and "admin:***@127.0.0.1" in stats.last_error
    assert "lane-1" in caplog.text and "***" in caplog.text
    assert "s3cretPW" not in caplog.text
    assert "s3cretPW" not in repr(capture.stats())
    assert "s3cretPW" not in capfd.readouterr().err  # OpenCV/FFmpeg's own messages


def test_stop_wakes_waiting_consumers_and_joins(make_capture: MakeCapture, tmp_path: Path) -> None:
    capture = make_capture(str(tmp_path / "never.avi"))
    results: list[object] = []
    consumer = threading.Thread(target=lambda: results.append(capture.wait_for_frame(timeout=30)))
    consumer.start()

    assert capture.stop(timeout=5)
    consumer.join(timeout=5)

    assert not consumer.is_alive()
    assert results == [None]
    assert capture.state is CaptureState.STOPPED
    assert not [t for t in threading.enumerate() if t.name.startswith("capture-")]


def test_a_failing_listener_does_not_stop_the_capture(
    make_capture: MakeCapture, video_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(stats: CaptureStats) -> None:
        raise ValueError("listener bug")

    capture = make_capture(str(video_file), start=False)
    capture.add_state_listener(broken)
    capture.start()

    assert capture.wait_for(lambda s: s.frames >= 3, timeout=5) is not None
    assert "listener bug" in caplog.text


def test_capture_can_only_start_once(make_capture: MakeCapture, video_file: Path) -> None:
    capture: LaneCapture = make_capture(str(video_file))
    with pytest.raises(RuntimeError, match="already started"):
        capture.start()
