"""Camera frames made ready to paint: scaled once with OpenCV, wrapped as a QImage.

Measured on 1080p frames (bench notes in ``bench/gui_stream.py``): ``cv2.resize`` with
linear interpolation plus a BGR -> BGRA conversion costs about as much as the resize
alone (0.7 ms to 720x405, 1.3 ms to 1400x788 on one core), and a 32-bit image then paints
in about 0.1 ms. Letting Qt scale instead (``QImage.scaled`` smooth, or ``drawImage``
into a larger rectangle) costs 2 to 6 ms per frame, and painting a 24-bit image needs a
conversion on every paint.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QImage

Box = tuple[int, int, int, int]  # x, y, width, height in frame pixels


@dataclass(frozen=True)
class Placement:
    """Where a frame of ``source`` size lands in a widget: the target rectangle and scale."""

    source: tuple[int, int]
    target: QRect
    scale: float

    def map_box(self, box: Box) -> QRectF:
        """A box in frame pixels, in widget coordinates."""
        x, y, w, h = box
        return QRectF(
            self.target.x() + x * self.scale,
            self.target.y() + y * self.scale,
            w * self.scale,
            h * self.scale,
        )


def fit(source: tuple[int, int], width: int, height: int) -> Placement:
    """Place a ``source`` (width, height) frame centred in ``width`` x ``height``, aspect kept."""
    src_w, src_h = source
    if src_w <= 0 or src_h <= 0 or width <= 0 or height <= 0:
        return Placement(source, QRect(0, 0, 0, 0), 0.0)
    scale = min(width / src_w, height / src_h)
    w = max(1, round(src_w * scale))
    h = max(1, round(src_h * scale))
    return Placement(source, QRect((width - w) // 2, (height - h) // 2, w, h), scale)


@dataclass(frozen=True)
class DisplayImage:
    """A scaled frame as a QImage, with the pixel buffer it points into kept alive."""

    image: QImage
    pixels: np.ndarray


def to_display_image(frame: np.ndarray, width: int, height: int) -> DisplayImage:
    """``frame`` (BGR uint8) resized to ``width`` x ``height`` as a 32-bit QImage.

    The QImage shares the returned ``pixels`` array (no copy): keep both together.
    """
    if frame.shape[1] == width and frame.shape[0] == height:
        resized = frame
    else:
        interpolation = cv2.INTER_LINEAR if width < frame.shape[1] else cv2.INTER_CUBIC
        resized = cv2.resize(frame, (width, height), interpolation=interpolation)
    if resized.ndim == 2:
        pixels = cv2.cvtColor(resized, cv2.COLOR_GRAY2BGRA)
    else:
        pixels = cv2.cvtColor(resized, cv2.COLOR_BGR2BGRA)
    # Format_RGB32 is 0xffRRGGBB per pixel: B, G, R, A bytes on little-endian machines.
    image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_RGB32)
    return DisplayImage(image, pixels)
