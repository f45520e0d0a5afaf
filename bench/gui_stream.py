"""Benchmark: the main window showing 4 live 1080p lanes; GUI-thread stalls and CPU use.

Generates a 1080p lane video (rendered plates, MJPG, paced at its own fps and looped),
opens one LaneCapture per lane on it, and shows the real MainWindow offscreen over a real
booth core and bridge against the reference server (a camera read is submitted every 2 s, so the
reads list, the lane captions and the plate box are exercised too). For ``--seconds`` it records
how late a 5 ms GUI-thread timer fires (a stall is anything that keeps the GUI thread
busy), the process CPU use, and how many frames each lane view painted. First it times
the ways of scaling one 1080p frame to a lane view's size.

    python bench/gui_stream.py --seconds 20
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import argparse
import logging
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QRect, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from bench.lookup import cpu_model, percentile
from desktop.booth import BoothService
from desktop.capture import CaptureGroup, CaptureStats, LaneCapture
from desktop.config import BoothConfig
from desktop.domain import PlateRead
from desktop.recognition.consensus import Decision, VehicleRead
from desktop.synthetic.video import LaneVideo, make_lane_video
from server.cli import ServerThread
from ui.bridge import BoothBridge
from ui.frames import to_display_image
from ui.main_window import MainWindow

logger = logging.getLogger(__name__)

PROBE_MS = 5
WARM_UP_S = 2.0
PLATES = ["ABC123", "KLM4455", "7XYZ042"]
READS_MS: list[float] = []


def time_ms(fn: Callable[[], object], repeat: int = 30) -> float:
    """Median milliseconds of ``fn()``."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def compare_scaling(video: Path, size: tuple[int, int]) -> dict[str, float]:
    """Milliseconds to get one 1080p frame on screen at ``size``, per method."""
    capture = cv2.VideoCapture(str(video))
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise RuntimeError(f"cannot read {video}")
    width, height = size
    source = QImage(frame.data, frame.shape[1], frame.shape[0], frame.strides[0],
                    QImage.Format.Format_BGR888)  # fmt: skip
    target = QImage(width, height, QImage.Format.Format_RGB32)

    def paint(image: QImage, rect: QRect | None = None, smooth: bool = False) -> None:
        painter = QPainter(target)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        if rect is None:
            painter.drawImage(0, 0, image)
        else:
            painter.drawImage(rect, image)
        painter.end()

    def ours() -> None:
        paint(to_display_image(frame, width, height).image)

    def qt_scaled() -> None:
        paint(
            source.scaled(
                width,
                height,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def painter_scaled() -> None:
        paint(source, QRect(0, 0, width, height), smooth=True)

    def cv2_area() -> None:
        paint(to_display_image(cv2.resize(frame, (width, height), cv2.INTER_AREA), width, height)
              .image)  # fmt: skip

    return {
        "cv2.resize linear + BGRA (used)": time_ms(ours),
        "cv2.resize area + BGRA": time_ms(cv2_area),
        "QImage.scaled smooth": time_ms(qt_scaled),
        "QPainter.drawImage scaled smooth": time_ms(painter_scaled),
    }


def spin(ms: int) -> None:
    """Run the Qt event loop for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


class StallProbe:
    """A 5 ms GUI-thread timer; how late each tick comes is the GUI thread's stall."""

    def __init__(self) -> None:
        self.lateness_ms: list[float] = []
        self._last = 0.0
        self._recording = False
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def record(self) -> None:
        self._recording = True

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._recording:
            self.lateness_ms.append(max(0.0, (now - self._last) * 1000 - PROBE_MS))
        self._last = now

    def stop(self) -> None:
        self._timer.stop()


@dataclass
class Run:
    """What one streaming run measured."""

    wall_s: float
    cpu_s: float
    stalls_ms: list[float]
    ticks_ms: list[float]
    paints_ms: list[float]
    painted: dict[str, int]
    stats: dict[str, CaptureStats]
    reads: int


def timed(durations: list[float], fn: Callable[..., object]) -> Callable[..., object]:
    """``fn`` wrapped to append each call's milliseconds to ``durations``."""

    def wrapper(*args: object) -> object:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            durations.append((time.perf_counter() - started) * 1000)

    return wrapper


def instrument(window: MainWindow) -> tuple[list[float], list[float]]:
    """Time each lane view's frame pull (with scaling) and each of its paints."""
    ticks_ms: list[float] = []
    paints_ms: list[float] = []
    for view in window.lane_views.values():
        view._frame_timer.timeout.disconnect()
        view._frame_timer.timeout.connect(timed(ticks_ms, view._tick))
        view.video.paintEvent = timed(paints_ms, view.video.paintEvent)  # type: ignore[method-assign]
    window.bridge.decided.disconnect(window._on_decided)
    window.bridge.decided.connect(timed(READS_MS, window._on_decided))
    return ticks_ms, paints_ms


def start_booth(tmp: Path) -> tuple[ServerThread, BoothService]:
    """The reference server with demo data and booth-a's core against it."""
    server = ServerThread(database_url=f"sqlite:///{tmp / 'server.sqlite3'}", seed_demo=True)
    server.start()
    config = BoothConfig(
        server={"url": server.url, "connect_timeout_s": 0.5, "read_timeout_s": 3.0},
        booth={"id": "booth-a", "token": "demo-booth-a-token", "attendant": "alice"},
        sync={"interval_s": 3600},
        data_dir=tmp / "booth",
    )
    return server, BoothService.from_config(config)


def stream(  # noqa: PLR0917 - the benchmark's knobs
    video: LaneVideo, tmp: Path, lanes: int, seconds: float, window_size: str, read_every_s: float
) -> Run:
    """Show the main window over ``lanes`` captures of ``video`` for ``seconds``."""
    server, booth = start_booth(tmp)
    bridge = BoothBridge(booth)
    names = [f"Exit {number + 1}" for number in range(lanes)]
    cameras = CaptureGroup(LaneCapture(name, str(video.path)) for name in names)
    window = MainWindow(bridge, cameras, attendant="alice", lanes=names)
    ticks_ms, paints_ms = instrument(window)
    probe = StallProbe()
    stopped_box = next(t.box for t in video.frames if t.phase == "stopped")
    submitted = 0

    def submit_read() -> None:
        nonlocal submitted
        lane = names[submitted % len(names)]
        read = PlateRead(plate=PLATES[submitted % len(PLATES)], lane=lane, confidence=0.9)
        bridge.submit_vehicle(
            VehicleRead(read, Decision.AGREEMENT, (), 5, 0.0, 0.0, box=stopped_box)
        )
        submitted += 1

    reads_timer = QTimer()
    reads_timer.setInterval(max(1, round(read_every_s * 1000)))
    reads_timer.timeout.connect(submit_read)
    width, height = (int(part) for part in window_size.split("x"))
    try:
        booth.sync_now()
        cameras.start()
        window.resize(width, height)
        window.show()
        probe.start()
        if read_every_s > 0:
            # The first decision warms up the client and server code paths (one-off stall of
            # ~100 ms on other threads holding the GIL): keep it in the warm-up.
            submit_read()
            reads_timer.start()
        spin(round(WARM_UP_S * 1000))
        before = {name: view.frames_shown for name, view in window.lane_views.items()}
        probe.record()
        ticks_ms.clear()
        paints_ms.clear()
        cpu_before = time.process_time()
        wall_before = time.perf_counter()
        spin(round(seconds * 1000))
        wall_s = time.perf_counter() - wall_before
        cpu_s = time.process_time() - cpu_before
        probe.stop()
        reads_timer.stop()
        views = window.lane_views
        painted = {name: view.frames_shown - before[name] for name, view in views.items()}
        return Run(
            wall_s, cpu_s, probe.lateness_ms, ticks_ms, paints_ms, painted, cameras.stats(),
            window.reads_list.model.rowCount(),
        )  # fmt: skip
    finally:
        window.close()
        bridge.close()
        cameras.stop()
        booth.stop()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--lanes", type=int, default=4, choices=[1, 2, 3, 4])
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate of the video")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--window", default="1920x1080", help="window size, WxH")
    parser.add_argument(
        "--read-every", type=float, default=2.0, help="seconds between camera reads (0: none)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    app = QApplication.instance() or QApplication([])
    print(
        f"machine: {platform.platform()}; python {platform.python_version()}; "
        f"opencv {cv2.__version__}; Qt platform {app.platformName()}"
    )
    print(f"cpu: {cpu_model()}; cores: {os.cpu_count()}; opencv threads {cv2.getNumThreads()}")

    with tempfile.TemporaryDirectory(prefix="recoup-bench-") as folder:
        tmp = Path(folder)
        started = time.perf_counter()
        video = make_lane_video(
            tmp / "lane.avi", PLATES, args.fps, (args.width, args.height), seconds_per_vehicle=4.0
        )
        print(
            f"video: {args.width}x{args.height} at {args.fps:g} fps, {video.frame_count} frames, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        for size in ((640, 360), (1280, 720)):
            for name, ms in compare_scaling(video.path, size).items():
                print(f"scale to {size[0]}x{size[1]}: {name:34s} {ms:6.2f} ms")
        run = stream(video, tmp, args.lanes, args.seconds, args.window, args.read_every)

    for name, painted in run.painted.items():
        stats = run.stats[name]
        print(
            f"{name}: capture {stats.fps:.1f} fps, {stats.dropped} frames never taken; "
            f"painted {painted / run.wall_s:.1f} fps"
        )
    stalls = run.stalls_ms
    print(
        f"GUI thread: {len(stalls)} probe ticks, lateness median "
        f"{statistics.median(stalls):.2f} ms, p99 {percentile(stalls, 0.99):.2f} ms, "
        f"worst {max(stalls):.2f} ms; reads listed {run.reads}"
    )
    for name, values in (
        ("frame pull + scale", run.ticks_ms),
        ("lane paint", run.paints_ms),
        ("decision shown", READS_MS),
    ):
        print(
            f"{name}: n={len(values)} median {statistics.median(values):.2f} ms, "
            f"p99 {percentile(values, 0.99):.2f} ms, worst {max(values):.2f} ms"
        )
    print(f"process CPU: {100 * run.cpu_s / run.wall_s:.0f}% of one core")
    summary = {
        "lanes": args.lanes,
        "resolution": f"{args.width}x{args.height}",
        "seconds": f"{run.wall_s:.1f}",
        "worst_stall_ms": f"{max(stalls):.1f}",
        "p99_stall_ms": f"{percentile(stalls, 0.99):.1f}",
        "cpu_percent": f"{100 * run.cpu_s / run.wall_s:.0f}",
        "display_fps": f"{sum(run.painted.values()) / len(run.painted) / run.wall_s:.1f}",
    }
    print(" ".join(f"{key}={value}" for key, value in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
