"""One exit lane's camera: a capture thread that keeps only the latest frame.

The design follows Frigate's capture loop and camera watchdog: the capture thread never
waits for consumers (a newer frame overwrites an unconsumed one, which counts as
dropped), failures lead to re-opening with exponential backoff, and a watchdog thread
notices a stream that stopped delivering frames, reports ``no_signal`` and, if the
capture thread is stuck inside OpenCV, abandons it and starts a fresh one.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum, auto

import cv2
import numpy as np

from .backoff import Backoff
from .frame import CaptureState, CaptureStats, FpsMeter, Frame
from .opener import CameraUnavailable, VideoCaptureLike, open_capture
from .source import CameraSource, SourceKind, parse_source

logger = logging.getLogger(__name__)

StateListener = Callable[[CaptureStats], None]
Opener = Callable[[CameraSource], VideoCaptureLike]

DEFAULT_FILE_FPS = 25.0
# Threads stuck in a blocking OpenCV call that the watchdog has given up on; beyond this
# many the watchdog stops spawning replacements and just reports no_signal.
MAX_ABANDONED_THREADS = 2


def utc_now() -> datetime:
    """The current wall-clock time, timezone-aware UTC."""
    return datetime.now(UTC)


class _End(Enum):
    STOPPED = auto()
    LOOPED = auto()
    FAILED = auto()


@dataclass(eq=False)
class _Worker:
    """One capture thread's bookkeeping; replaced wholesale when the watchdog restarts."""

    generation: int
    thread: threading.Thread | None = None
    busy_since: float | None = None
    busy_limit_s: float = 0.0


class LaneCapture:
    """Captures one lane's camera on its own thread, keeping only the newest frame.

    The ``cv2.VideoCapture`` is opened, read and released only on the capture thread.
    Consumers call :meth:`latest` (non-blocking) or :meth:`wait_for_frame` (blocks on a
    condition, no polling). Video files are paced at their own frame rate and loop.

    State listeners (:meth:`add_state_listener`) are called with a :class:`CaptureStats`
    snapshot on every state change, from the lane's capture or watchdog thread (the final
    ``stopped`` comes from the thread calling :meth:`stop`), one call at a time. They must
    return quickly and must not call :meth:`stop`; a GUI should hand the snapshot to its
    own thread (e.g. a queued Qt signal).
    """

    def __init__(
        self,
        name: str,
        source: CameraSource | str,
        *,
        opener: Opener = open_capture,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
        backoff: Backoff | None = None,
        stall_timeout_s: float = 10.0,
        open_stall_timeout_s: float = 30.0,
        stable_after_s: float = 30.0,
        fps_window_s: float = 2.0,
        default_file_fps: float = DEFAULT_FILE_FPS,
    ) -> None:
        """Prepare (not start) the capture of ``source`` for the lane called ``name``.

        ``clock`` must be monotonic seconds on the real timeline (file pacing waits on it);
        ``stall_timeout_s`` is how long without a frame before ``no_signal``, and how long a
        single read may block before the watchdog replaces the capture thread;
        ``open_stall_timeout_s`` is the same for opening; after ``stable_after_s`` of
        frames the backoff starts again from its initial delay.
        """
        self.name = name
        self.source = source if isinstance(source, CameraSource) else parse_source(source)
        self._opener = opener
        self._clock = clock
        self._wall_clock = wall_clock
        self._backoff = backoff or Backoff()
        self._stall_timeout_s = stall_timeout_s
        self._open_stall_timeout_s = max(open_stall_timeout_s, stall_timeout_s)
        self._stable_after_s = stable_after_s
        self._default_file_fps = default_file_fps

        self._cond = threading.Condition(threading.Lock())
        # Serializes state changes with their listener calls, so listeners see them in order.
        self._notify_lock = threading.RLock()
        self._stop = threading.Event()
        self._listeners: list[StateListener] = []

        # Everything below is guarded by self._cond.
        self._state = CaptureState.CONNECTING
        self._last_error: str | None = None
        self._slot: Frame | None = None
        self._slot_consumed = True
        self._frame_no = 0
        self._frames = 0
        self._dropped = 0
        self._reconnects = 0
        self._opened_before = False
        self._last_frame_at: float | None = None
        self._fps = FpsMeter(fps_window_s)
        self._worker = _Worker(generation=0)
        self._abandoned: list[_Worker] = []
        self._watchdog: threading.Thread | None = None
        self._started = False

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the capture and watchdog threads (once)."""
        with self._cond:
            if self._started:
                raise RuntimeError(f"capture of lane {self.name} already started")
            self._started = True
            worker = self._worker
        logger.info("lane %s: starting capture of %s", self.name, self.source.display_name)
        self._spawn(worker)
        self._watchdog = threading.Thread(
            target=self._watch, name=f"capture-watchdog-{self.name}", daemon=True
        )
        self._watchdog.start()

    def request_stop(self) -> None:
        """Ask the threads to stop without waiting (see :meth:`stop`)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop capturing, wait up to ``timeout`` s for the threads, release the camera.

        Returns False if a thread is still stuck inside OpenCV after ``timeout``; it is a
        daemon thread and releases its capture when the call returns.
        """
        self.request_stop()
        deadline = time.monotonic() + timeout
        with self._cond:
            workers = [self._worker, *self._abandoned]
        threads = [w.thread for w in workers] + [self._watchdog]
        for thread in threads:
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in threads if t is not None and t.is_alive()]
        if stuck:
            logger.warning("lane %s: threads still running after stop: %s", self.name, stuck)
        self._set_state(CaptureState.STOPPED)
        return not stuck

    def __enter__(self) -> LaneCapture:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- consumers

    def latest(self, after_frame_no: int | None = None) -> Frame | None:
        """The newest frame, or None if there is none newer than ``after_frame_no``."""
        with self._cond:
            return self._take_locked(after_frame_no)

    def wait_for_frame(
        self, after_frame_no: int | None = None, timeout: float | None = None
    ) -> Frame | None:
        """Wait for a frame newer than ``after_frame_no`` and return the newest one.

        Returns None on timeout or when the capture stops.
        """
        with self._cond:
            self._cond.wait_for(
                lambda: self._stop.is_set() or self._newer_locked(after_frame_no), timeout
            )
            return self._take_locked(after_frame_no)

    def wait_for(
        self, predicate: Callable[[CaptureStats], bool], timeout: float
    ) -> CaptureStats | None:
        """Wait until ``predicate(stats)`` holds; return those stats, or None on timeout.

        Re-checked on every frame and state change, and at least every 0.25 s so that
        predicates on time-based figures (fps, frame age) are noticed too.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                stats = self._snapshot_locked()
                if predicate(stats):
                    return stats
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(min(remaining, 0.25))

    def stats(self) -> CaptureStats:
        """A snapshot of this lane's capture health."""
        with self._cond:
            return self._snapshot_locked()

    @property
    def state(self) -> CaptureState:
        """The current state."""
        with self._cond:
            return self._state

    def add_state_listener(self, listener: StateListener) -> None:
        """Call ``listener(stats)`` on every state change (see the class docstring)."""
        with self._notify_lock:
            self._listeners.append(listener)

    def remove_state_listener(self, listener: StateListener) -> None:
        """Stop calling ``listener``."""
        with self._notify_lock:
            self._listeners.remove(listener)

    # ----------------------------------------------------------------- capture thread

    def _spawn(self, worker: _Worker) -> None:
        worker.thread = threading.Thread(
            target=self._run,
            args=(worker,),
            name=f"capture-{self.name}-{worker.generation}",
            daemon=True,
        )
        worker.thread.start()

    def _current(self, worker: _Worker) -> bool:
        return not self._stop.is_set() and worker is self._worker

    def _run(self, worker: _Worker) -> None:
        failures = 0
        looped = False
        while self._current(worker):
            if failures:
                delay = self._backoff.delay(failures - 1)
                logger.debug("lane %s: retrying in %.2f s", self.name, delay)
                if self._stop.wait(delay) or not self._current(worker):
                    break
            try:
                end, first_frame_at = self._session(worker, count_reconnect=not looped)
            except Exception as exc:  # a bug, not the camera: log it and keep the lane alive
                detail = self.source.redact("".join(traceback.format_exception(exc)))
                logger.error("lane %s: capture loop failed:\n%s", self.name, detail)
                self._fail(worker, f"internal error: {self.source.redact(repr(exc))}")
                end, first_frame_at = _End.FAILED, None
            looped = end is _End.LOOPED
            if end is _End.STOPPED:
                break
            if looped:
                failures = 0
                continue
            stable = (
                first_frame_at is not None
                and self._clock() - first_frame_at >= self._stable_after_s
            )
            failures = 1 if stable else failures + 1
        logger.debug("lane %s: capture thread %d exits", self.name, worker.generation)

    def _session(self, worker: _Worker, *, count_reconnect: bool) -> tuple[_End, float | None]:
        """Open the camera once and read it until it fails, ends or the lane stops."""
        with self._cond:
            if count_reconnect and self._opened_before:
                self._reconnects += 1
                self._cond.notify_all()
            self._opened_before = True
        self._busy(worker, self._open_stall_timeout_s)
        try:
            capture = self._opener(self.source)
        except Exception as exc:
            self._busy(worker, None)
            self._fail(worker, self._describe(exc))
            return _End.FAILED, None
        self._busy(worker, None)
        try:
            return self._pump(worker, capture)
        finally:
            try:
                capture.release()
            except Exception as exc:
                logger.debug("lane %s: release failed: %s", self.name, self._describe(exc))

    def _pump(self, worker: _Worker, capture: VideoCaptureLike) -> tuple[_End, float | None]:
        paced = self.source.kind is SourceKind.FILE
        interval = 1.0 / self._file_fps(capture) if paced else 0.0
        due = self._clock()
        first_frame_at: float | None = None
        while True:
            self._busy(worker, self._stall_timeout_s)
            try:
                ok, image = capture.read()
            except Exception as exc:
                ok, image = False, None
                error = f"read failed on {self.source.display_name}: {self._describe(exc)}"
            else:
                error = f"no frame from {self.source.display_name} (stream ended or timed out)"
            self._busy(worker, None)
            if not self._current(worker):
                return _End.STOPPED, first_frame_at
            if not ok or image is None:
                if self.source.loops and first_frame_at is not None:
                    return _End.LOOPED, first_frame_at
                self._fail(worker, error)
                return _End.FAILED, first_frame_at
            published_at = self._publish(worker, image)
            if published_at is None:
                return _End.STOPPED, first_frame_at
            if first_frame_at is None:
                first_frame_at = published_at
            if paced:
                due += interval
                wait = due - self._clock()
                if wait < -1.0:  # fell far behind (machine busy): don't burst to catch up
                    due = self._clock()
                elif wait > 0 and self._stop.wait(wait):
                    return _End.STOPPED, first_frame_at

    def _file_fps(self, capture: VideoCaptureLike) -> float:
        try:
            fps = float(capture.get(cv2.CAP_PROP_FPS))
        except Exception:
            fps = 0.0
        return fps if 0.5 <= fps <= 240 else self._default_file_fps

    def _publish(self, worker: _Worker, image: np.ndarray) -> float | None:
        """Put ``image`` in the slot; return its capture time, or None if abandoned."""
        image.flags.writeable = False
        now = self._clock()
        wall = self._wall_clock()
        with self._cond:
            if not self._current(worker):
                return None
            if self._slot is not None and not self._slot_consumed:
                self._dropped += 1
            self._frame_no += 1
            self._slot = Frame(image, self._frame_no, now, wall)
            self._slot_consumed = False
            self._frames += 1
            self._last_frame_at = now
            self._fps.add(now)
            became_live = self._state is not CaptureState.LIVE
            self._cond.notify_all()
        if became_live:
            self._set_state(CaptureState.LIVE, worker=worker)
        return now

    def _busy(self, worker: _Worker, limit_s: float | None) -> None:
        """Mark the worker as inside (or out of) a call that may block in OpenCV."""
        with self._cond:
            worker.busy_since = None if limit_s is None else self._clock()
            worker.busy_limit_s = limit_s or 0.0

    def _fail(self, worker: _Worker, error: str) -> None:
        with self._cond:
            if not self._current(worker):
                return
            repeated = self._state is CaptureState.NO_SIGNAL
        if repeated:
            logger.debug("lane %s: still no signal: %s", self.name, error)
        else:
            logger.warning("lane %s: no signal: %s", self.name, error)
        self._set_state(CaptureState.NO_SIGNAL, error=error, worker=worker)

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, CameraUnavailable):
            return str(exc)  # already names the source safely
        return self.source.redact(f"{type(exc).__name__}: {exc}")

    # ----------------------------------------------------------------- watchdog

    def _watch(self) -> None:
        tick = max(0.05, min(0.5, self._stall_timeout_s / 4))
        while not self._stop.wait(tick):
            try:
                self._check_stall()
            except Exception:
                logger.exception("lane %s: watchdog check failed", self.name)

    def _check_stall(self) -> None:
        now = self._clock()
        with self._cond:
            worker = self._worker
            age = None if self._last_frame_at is None else now - self._last_frame_at
            stalled = (
                self._state is CaptureState.LIVE and age is not None and age > self._stall_timeout_s
            )
            can_restart = False
            stuck = worker.busy_since is not None and now - worker.busy_since > worker.busy_limit_s
            if stuck:
                alive = [w for w in self._abandoned if w.thread and w.thread.is_alive()]
                self._abandoned = alive
                can_restart = len(alive) < MAX_ABANDONED_THREADS
        if stalled or stuck:
            waited = age if age is not None else self._stall_timeout_s
            self._fail(worker, f"no frame from {self.source.display_name} for {waited:.1f} s")
        if stuck and can_restart:
            self._restart(worker)

    def _restart(self, stuck: _Worker) -> None:
        """Abandon a capture thread stuck in OpenCV and start a fresh one.

        The stuck thread notices it was replaced when its call returns, releases its
        capture and exits; until then it publishes nothing.
        """
        with self._cond:
            if not self._current(stuck):
                return
            fresh = _Worker(generation=stuck.generation + 1)
            self._abandoned.append(stuck)
            self._worker = fresh
        logger.warning(
            "lane %s: capture of %s stalled; restarting it", self.name, self.source.display_name
        )
        self._spawn(fresh)

    # ----------------------------------------------------------------- state

    def _set_state(
        self, state: CaptureState, *, error: str | None = None, worker: _Worker | None = None
    ) -> None:
        with self._notify_lock:
            with self._cond:
                if worker is not None and not self._current(worker):
                    return
                if error is not None:
                    self._last_error = error
                changed = self._state is not state and self._state is not CaptureState.STOPPED
                if changed:
                    self._state = state
                snapshot = self._snapshot_locked()
                self._cond.notify_all()
            if not changed:
                return
            if state is not CaptureState.NO_SIGNAL:  # no_signal was already logged with why
                logger.info("lane %s: %s", self.name, state)
            for listener in list(self._listeners):
                try:
                    listener(snapshot)
                except Exception:
                    logger.exception("lane %s: state listener %r failed", self.name, listener)

    def _newer_locked(self, after_frame_no: int | None) -> bool:
        return self._slot is not None and (
            after_frame_no is None or self._slot.frame_no > after_frame_no
        )

    def _take_locked(self, after_frame_no: int | None) -> Frame | None:
        if not self._newer_locked(after_frame_no):
            return None
        self._slot_consumed = True
        return self._slot

    def _snapshot_locked(self) -> CaptureStats:
        now = self._clock()
        return CaptureStats(
            lane=self.name,
            source=self.source.display_name,
            state=self._state,
            fps=self._fps.rate(now),
            frames=self._frames,
            dropped=self._dropped,
            reconnects=self._reconnects,
            last_frame_age_s=None if self._last_frame_at is None else now - self._last_frame_at,
            last_error=self._last_error,
        )
