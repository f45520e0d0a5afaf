"""LaneCapture reading a real HTTP MJPEG camera through cv2.VideoCapture (FFmpeg)."""

from __future__ import annotations

from functools import partial

from desktop.capture import CaptureState, SourceKind, open_capture, parse_source

from .conftest import MakeCapture
from .media import HEIGHT, WIDTH
from .mjpeg_server import MjpegServer


def test_camera_dies_and_comes_back(mjpeg_server: MjpegServer, make_capture: MakeCapture) -> None:
    source = parse_source(mjpeg_server.url)
    assert source.kind is SourceKind.HTTP
    capture = make_capture(
        source, opener=partial(open_capture, open_timeout_s=2.0, read_timeout_s=1.0)
    )

    frame = capture.wait_for_frame(timeout=5)
    assert frame is not None
    assert frame.image.shape == (HEIGHT, WIDTH, 3)
    assert capture.wait_for(lambda s: s.state is CaptureState.LIVE, timeout=5)

    mjpeg_server.stop()
    lost = capture.wait_for(lambda s: s.state is CaptureState.NO_SIGNAL, timeout=5)
    assert lost is not None, capture.stats()
    assert lost.last_error is not None

    mjpeg_server.start()  # same port
    back = capture.wait_for(
        lambda s: s.state is CaptureState.LIVE and s.reconnects > lost.reconnects, timeout=10
    )
    assert back is not None, capture.stats()
    assert capture.wait_for_frame(after_frame_no=frame.frame_no, timeout=5) is not None


def test_watchdog_reports_a_stalled_stream_while_read_is_blocked(
    mjpeg_server: MjpegServer, make_capture: MakeCapture
) -> None:
    # A read timeout far longer than the stall timeout: only the watchdog can notice.
    capture = make_capture(
        mjpeg_server.url,
        opener=partial(open_capture, open_timeout_s=3.0, read_timeout_s=20.0),
        stall_timeout_s=0.6,
        open_stall_timeout_s=5.0,
    )
    live = capture.wait_for(lambda s: s.state is CaptureState.LIVE, timeout=5)
    assert live is not None, capture.stats()

    mjpeg_server.stall()
    stalled = capture.wait_for(
        lambda s: s.state is CaptureState.NO_SIGNAL and s.reconnects > live.reconnects,
        timeout=5,
    )
    assert stalled is not None, capture.stats()
    assert stalled.last_error is not None and "no frame" in stalled.last_error

    mjpeg_server.resume()
    back = capture.wait_for(lambda s: s.state is CaptureState.LIVE, timeout=10)
    assert back is not None, capture.stats()
