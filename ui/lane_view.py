"""One lane's live video, its last read and a clear "no signal" when the camera is down.

The GUI thread pulls the lane's newest frame at display rate (a QTimer, ~15 fps) with
the non-blocking :meth:`LaneCapture.latest`; capture threads never touch the widget.
Each new frame is scaled once with OpenCV to the widget size (see :mod:`ui.frames`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop.capture import CaptureState, CaptureStats, Frame, LaneCapture
from desktop.domain import Outcome, OutcomeKind, RecoveryNotice
from desktop.recognition.consensus import VehicleRead
from ui.bridge import ReadDecision
from ui.format import format_age
from ui.frames import Box, DisplayImage, Placement, fit, to_display_image
from ui.read_text import (
    ROLE_MUTED,
    ROLE_OK,
    ROLE_WARNING,
    describe_decision,
    describe_outcome,
    format_confidence,
)
from ui.roles import scaled_font, set_role

DISPLAY_FPS = 15.0
BOX_SECONDS = 1.5  # the vehicle moves on; an older box would point at the wrong place
# A live camera whose newest frame is older than this is shown as "no signal" at once,
# well before the capture's own stall watchdog gives up on it.
STALE_AFTER_S = 3.0
STATS_INTERVAL_MS = 1000

BOX_COLOURS = {
    "danger": QColor("#ff1744"),
    "ok": QColor("#00e676"),
    "warning": QColor("#ffc400"),
    ROLE_MUTED: QColor("#ffc400"),
}


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" instead of widening its parent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(24)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    @property
    def full_text(self) -> str:
        """The whole text, however much of it fits."""
        return self._full

    def set_full_text(self, text: str) -> None:
        """Show ``text``, shortened to the label's width."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().sizeHint()
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        return QSize(width + 4, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(24, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        if shown != self.text():
            self.setText(shown)
        self.updateGeometry()


class LaneSignal(StrEnum):
    """What the lane view shows instead of (or with) video."""

    LIVE = "live"
    CONNECTING = "connecting"
    NO_SIGNAL = "no_signal"
    NO_CAMERA = "no_camera"


class VideoSurface(QWidget):
    """Paints the newest frame scaled to fit (aspect kept) and the last plate box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("laneVideo")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self._frame: Frame | None = None
        self._display: DisplayImage | None = None
        self._placement: Placement | None = None
        self._box: Box | None = None
        self._box_colour = BOX_COLOURS[ROLE_MUTED]
        self.show_video = True
        self.alert = False

    @property
    def frame(self) -> Frame | None:
        """The frame on screen (None before the first one)."""
        return self._frame

    @property
    def box(self) -> Box | None:
        """The plate box drawn on the video, if any."""
        return self._box

    def set_frame(self, frame: Frame) -> None:
        """Show ``frame`` (scaled now, once) and repaint."""
        self._frame = frame
        self._rescale()
        self.update()

    def clear(self) -> None:
        """Forget the frame, so a stale image is never shown."""
        self._frame = None
        self._display = None
        self._placement = None
        self.update()

    def set_box(self, box: Box | None, colour: QColor | None = None) -> None:
        """Draw ``box`` (frame pixels) on the video, or no box."""
        self._box = box
        if colour is not None:
            self._box_colour = colour
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(640, 360)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        frame = self._frame
        if frame is None:
            return
        height, width = frame.image.shape[:2]
        ratio = self.devicePixelRatioF()
        placement = fit((width, height), self.width(), self.height())
        target = placement.target
        if target.width() <= 0 or target.height() <= 0:
            self._display, self._placement = None, None
            return
        display = to_display_image(
            frame.image, round(target.width() * ratio), round(target.height() * ratio)
        )
        display.image.setDevicePixelRatio(ratio)
        self._display, self._placement = display, placement

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor("#3a0b0b" if self.alert else "#101214"))
            if not self.show_video or self._display is None or self._placement is None:
                return
            painter.drawImage(self._placement.target.topLeft(), self._display.image)
            if self._box is not None:
                pen = QPen(self._box_colour, max(3.0, self.height() / 120))
                painter.setPen(pen)
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                rect: QRectF = self._placement.map_box(self._box)
                pad = pen.widthF()
                painter.drawRect(rect.adjusted(-pad, -pad, pad, pad))
        finally:
            painter.end()


class LaneView(QFrame):
    """One lane: live video, the last read's plate box and caption, "no signal" overlay.

    ``capture`` None shows "no camera" (a lane read only by typing plates). The view
    pulls frames itself while visible; :meth:`show_vehicle`, :meth:`show_decision` and
    :meth:`set_stats` are fed by the main window from the bridge's signals.
    Object names: ``laneView`` (property ``lane`` and ``signal``), ``laneVideo``,
    ``laneName``, ``laneRead`` (property ``role``), ``laneOverlay``.
    """

    def __init__(
        self,
        lane: str,
        capture: LaneCapture | None,
        parent: QWidget | None = None,
        *,
        fps: float = DISPLAY_FPS,
        box_seconds: float = BOX_SECONDS,
        stale_after_s: float = STALE_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        phase: float = 0.0,
    ) -> None:
        """``phase`` (0..1) delays this view's frame timer by that share of a frame, so
        several lanes do not all scale their frames in the same event-loop pass."""
        super().__init__(parent)
        self.lane = lane
        self.capture = capture
        self._box_seconds = box_seconds
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._last_frame_no: int | None = None
        self._last_frame_at: float | None = None
        self._frames_shown = 0
        self._box_until = 0.0
        self._read_id: uuid.UUID | None = None
        self._notice: RecoveryNotice | None = None
        self._read_seen_at: datetime | None = None
        self._box_read_id: uuid.UUID | None = None
        self._stats: CaptureStats | None = None
        self._signal: LaneSignal | None = None
        self._stopped = False

        self.setObjectName("laneView")
        self.setProperty("lane", lane)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._build()

        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(max(1, round(1000 / fps)))
        self._frame_timer.timeout.connect(self._tick)
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(STATS_INTERVAL_MS)
        self._stats_timer.timeout.connect(self._poll_stats)
        if capture is not None:
            delay = round(self._frame_timer.interval() * min(max(phase, 0.0), 1.0))
            QTimer.singleShot(delay, self, self._start_frames)
            self._stats_timer.start()
        self._update_signal()

    def _build(self) -> None:
        self.video = VideoSurface(self)
        self.overlay = QLabel(self.video)
        self.overlay.setObjectName("laneOverlay")
        self.overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.overlay.setWordWrap(True)
        self.overlay.setFont(scaled_font(self, 1.8, bold=True))
        overlay_layout = QVBoxLayout(self.video)
        overlay_layout.setContentsMargins(12, 12, 12, 12)
        overlay_layout.addWidget(self.overlay)
        overlay_palette = self.overlay.palette()
        overlay_palette.setColor(self.overlay.foregroundRole(), QColor("#ffffff"))
        self.overlay.setPalette(overlay_palette)
        self.overlay.hide()

        self.name_label = QLabel(self.lane, self)
        self.name_label.setObjectName("laneName")
        self.name_label.setFont(scaled_font(self, 1.4, bold=True))
        self.read_label = ElidedLabel(self)
        self.read_label.setObjectName("laneRead")
        self.read_label.setFont(scaled_font(self, 1.4, bold=True))
        self.read_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.read_label.setContentsMargins(8, 2, 8, 2)
        self.read_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

        caption = QWidget(self)
        caption.setObjectName("laneCaption")
        row = QHBoxLayout(caption)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.name_label)
        row.addSpacing(12)
        row.addWidget(self.read_label, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addWidget(self.video, 1)
        layout.addWidget(caption)

    # -- what the tests and the window ask -----------------------------------------

    @property
    def signal(self) -> LaneSignal:
        """What the view shows: live video, connecting, no signal or no camera."""
        assert self._signal is not None
        return self._signal

    @property
    def frames_shown(self) -> int:
        """How many distinct frames this view has painted."""
        return self._frames_shown

    @property
    def overlay_text(self) -> str:
        """The overlay's text when it is shown, else ""."""
        return self.overlay.text() if not self.overlay.isHidden() else ""

    @property
    def caption_text(self) -> str:
        """The last read as shown in the caption ("" before the first)."""
        return self.read_label.full_text

    def stop(self) -> None:
        """Stop pulling frames (the capture itself belongs to the caller)."""
        self._stopped = True
        self._frame_timer.stop()
        self._stats_timer.stop()

    def _start_frames(self) -> None:
        if not self._stopped:
            self._frame_timer.start()

    # -- inputs ----------------------------------------------------------------------

    def show_vehicle(self, vehicle: VehicleRead) -> None:
        """A consensus read on this lane: its box on the video, plate in the caption."""
        read = vehicle.read
        self._read_id, self._read_seen_at = read.read_id, read.seen_at
        self.read_label.set_full_text(f"{read.plate} · {format_confidence(read)}")
        set_role(self.read_label, ROLE_MUTED)
        if vehicle.box is not None:
            self._box_until = self._clock() + self._box_seconds
            self._box_read_id = read.read_id
            self.video.set_box(vehicle.box, BOX_COLOURS[ROLE_MUTED])

    def show_decision(self, decision: ReadDecision) -> None:
        """The booth's decision on a read of this lane (camera or typed)."""
        read = decision.read
        seen_before = self._read_seen_at
        if read.read_id != self._read_id and seen_before is not None and read.seen_at < seen_before:
            return  # an older read decided late: keep the newer one on screen
        self._read_id, self._read_seen_at = read.read_id, read.seen_at
        self._notice = decision.notice
        text, role = describe_decision(decision)
        # Least important last, so a narrow lane cuts the confidence, not what is owed.
        self.read_label.set_full_text(f"{read.plate} · {text} · {format_confidence(read)}")
        set_role(self.read_label, role)
        if read.read_id == self._box_read_id and self.video.box is not None:
            self.video.set_box(self.video.box, BOX_COLOURS.get(role))

    def show_outcome(self, outcome: Outcome) -> None:
        """What the attendant recorded for this lane's current notice replaces "owes"."""
        notice = self._notice
        if notice is None or notice.notice_id != outcome.notice_id:
            return
        self.read_label.set_full_text(
            f"{notice.read.plate} · {describe_outcome(outcome, notice.currency)}"
        )
        set_role(self.read_label, ROLE_OK if outcome.kind is OutcomeKind.PAID else ROLE_WARNING)

    def set_stats(self, stats: CaptureStats) -> None:
        """Fresh capture stats for this lane (from ``bridge.camera_changed`` or polling)."""
        if stats.lane != self.lane:
            return
        self._stats = stats
        self._update_signal()

    # -- display loop ----------------------------------------------------------------

    def _tick(self) -> None:
        capture = self.capture
        if capture is None or not self.isVisible():
            return
        now = self._clock()
        frame = capture.latest(after_frame_no=self._last_frame_no)
        if frame is not None:
            self._last_frame_no = frame.frame_no
            self._last_frame_at = now
            if self._signal is not LaneSignal.LIVE:
                self._poll_stats()
            if self._signal is LaneSignal.LIVE:
                self.video.set_frame(frame)
                self._frames_shown += 1
        elif self._signal is LaneSignal.LIVE and self._stale(now):
            self._poll_stats()
        if self.video.box is not None and now >= self._box_until:
            self.video.set_box(None)

    def _stale(self, now: float) -> bool:
        return self._last_frame_at is None or now - self._last_frame_at > self._stale_after_s

    def _poll_stats(self) -> None:
        if self.capture is not None:
            self._stats = self.capture.stats()
        self._update_signal()

    def _update_signal(self) -> None:
        signal = self._judge()
        if signal is not self._signal:
            self._signal = signal
            self.setProperty("signal", str(signal))
            self.style().unpolish(self)
            self.style().polish(self)
            if signal is not LaneSignal.LIVE:
                self.video.clear()
            self.video.show_video = signal is LaneSignal.LIVE
            self.video.alert = signal is LaneSignal.NO_SIGNAL
        self._update_overlay()

    def _judge(self) -> LaneSignal:
        if self.capture is None:
            return LaneSignal.NO_CAMERA
        stats = self._stats
        state = stats.state if stats is not None else CaptureState.CONNECTING
        if state in (CaptureState.NO_SIGNAL, CaptureState.STOPPED):
            return LaneSignal.NO_SIGNAL
        if self._last_frame_at is not None and not self._stale(self._clock()):
            return LaneSignal.LIVE
        if state is CaptureState.CONNECTING and self._last_frame_at is None:
            return LaneSignal.CONNECTING
        if state is CaptureState.LIVE and self._last_frame_at is None:
            return LaneSignal.CONNECTING  # live, the first frame is on its way
        return LaneSignal.NO_SIGNAL

    def _update_overlay(self) -> None:
        signal = self._signal
        if signal is LaneSignal.LIVE:
            self.overlay.hide()
            return
        if signal is LaneSignal.NO_CAMERA:
            text = self.tr("No camera on this lane")
        elif signal is LaneSignal.CONNECTING:
            text = self.tr("Connecting to the camera…")
        else:
            text = self.tr("No signal - retrying")
            detail = self._signal_detail()
            if detail:
                text = f"{text}\n{detail}"
        if self.overlay.text() != text:
            self.overlay.setText(text)
        self.overlay.setProperty("signal", str(signal))
        self.overlay.show()

    def _signal_detail(self) -> str:
        stats = self._stats
        if stats is None or stats.state is CaptureState.STOPPED:
            return self.tr("camera stopped") if stats is not None else ""
        if stats.last_frame_age_s is None:
            return self.tr("no picture yet")
        return self.tr("last picture {age} ago").format(age=format_age(stats.last_frame_age_s))
