"""A camera frame on which the supervisor drags the lane's region of interest."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

Roi = tuple[float, float, float, float]
# Smaller drags (as a fraction of the frame) are taken as clicks, not regions.
MIN_DRAG = 0.02
_DECIMALS = 4


def fit_roi(x: float, y: float, w: float, h: float) -> Roi:
    """``(x, y, w, h)`` rounded to 4 decimals, nudged so ``x + w`` and ``y + h`` stay <= 1."""
    x, y, w, h = (round(value, _DECIMALS) for value in (x, y, w, h))
    while x + w > 1 and x + w - 1 < 1e-9:
        w = math.nextafter(w, 0.0)
    while y + h > 1 and y + h - 1 < 1e-9:
        h = math.nextafter(h, 0.0)
    return x, y, w, h


class RoiView(QWidget):
    """Shows a frame (scaled to fit) and the region of interest over it.

    Dragging with the left button draws a new region and emits ``roi_drawn`` with it as
    fractions of the frame ``(x, y, w, h)``. Without a frame it shows ``placeholder``.
    """

    roi_drawn = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._roi: Roi | None = None
        self._drag_from: QPointF | None = None
        self._drag_to: QPointF | None = None
        self._placeholder = ""
        self.setMinimumSize(320, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """Small on purpose: the view grows into whatever room the page has left."""
        return QSize(480, 200)

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None: the placeholder)."""
        self._image = image
        self.update()

    def image(self) -> QImage | None:
        """The frame shown, if any."""
        return self._image

    def set_roi(self, roi: Roi | None) -> None:
        """Outline ``roi`` (fractions), or nothing for the whole frame."""
        self._roi = roi
        self.update()

    def set_placeholder(self, text: str) -> None:
        """What to say while there is no frame."""
        self._placeholder = text
        self.update()

    def image_rect(self) -> QRectF:
        """Where the frame is drawn inside the widget (aspect ratio kept, centred)."""
        if self._image is None or self._image.isNull():
            return QRectF(self.rect())
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        width, height = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    # ----------------------------------------------------------------- mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        """Start a region at the pressed point (only over a frame)."""
        if event.button() is Qt.MouseButton.LeftButton and self._image is not None:
            self._drag_from = self._drag_to = self._clamped(event.position())
            self.update()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        """Stretch the region being drawn."""
        if self._drag_from is not None:
            self._drag_to = self._clamped(event.position())
            self.update()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        """Finish the region and emit it, unless the drag was too small to mean one."""
        if self._drag_from is None or event.button() is not Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        start, end = self._drag_from, self._clamped(event.position())
        self._drag_from = self._drag_to = None
        area = self.image_rect()
        x0, x1 = sorted(
            ((start.x() - area.left()) / area.width(), (end.x() - area.left()) / area.width())
        )
        y0, y1 = sorted(
            ((start.y() - area.top()) / area.height(), (end.y() - area.top()) / area.height())
        )
        if x1 - x0 >= MIN_DRAG and y1 - y0 >= MIN_DRAG:
            self._roi = fit_roi(x0, y0, x1 - x0, y1 - y0)
            self.roi_drawn.emit(self._roi)
        self.update()

    def _clamped(self, point: QPointF) -> QPointF:
        area = self.image_rect()
        return QPointF(
            min(max(point.x(), area.left()), area.right()),
            min(max(point.y(), area.top()), area.bottom()),
        )

    # ----------------------------------------------------------------- painting

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        """The frame, the outside of the region dimmed, the region outlined."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0b0f14"))
        if self._image is None or self._image.isNull():
            painter.setPen(QColor("#a9b4c2"))
            painter.drawText(
                self.rect().adjusted(16, 16, -16, -16),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._placeholder,
            )
            return
        area = self.image_rect()
        painter.drawImage(area, self._image)
        region = self._region_rect(area)
        if region is None:
            return
        painter.setClipRect(area)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 130))
        for part in (
            QRectF(area.left(), area.top(), area.width(), region.top() - area.top()),
            QRectF(area.left(), region.bottom(), area.width(), area.bottom() - region.bottom()),
            QRectF(area.left(), region.top(), region.left() - area.left(), region.height()),
            QRectF(region.right(), region.top(), area.right() - region.right(), region.height()),
        ):
            painter.drawRect(part)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor("#ffc857"), 3))
        painter.drawRect(region.intersected(area))

    def _region_rect(self, area: QRectF) -> QRectF | None:
        if self._drag_from is not None and self._drag_to is not None:
            return QRectF(self._drag_from, self._drag_to).normalized()
        if self._roi is None:
            return None
        x, y, w, h = self._roi
        return QRectF(
            area.left() + x * area.width(),
            area.top() + y * area.height(),
            w * area.width(),
            h * area.height(),
        )
