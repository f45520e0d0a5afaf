"""The settings screen's camera test: open a lane's camera briefly and take one frame."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

from desktop.capture import CaptureState, LaneCapture, parse_source

DEFAULT_TIMEOUT_S = 10.0


class CameraTestError(Exception):
    """The camera gave no frame; the message is for a person, credentials masked."""


def grab_frame(camera: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> QImage:
    """Open ``camera`` (a lane's camera string) and return its first frame as an image.

    Blocking (up to about ``timeout_s``): call it off the GUI thread. Raises
    :class:`CameraTestError` with a credential-free reason when no frame arrives.
    """
    try:
        source = parse_source(camera)
    except ValueError as exc:
        raise CameraTestError(str(exc)) from None
    capture = LaneCapture(
        "settings-test", source, stall_timeout_s=timeout_s, open_stall_timeout_s=timeout_s
    )
    capture.start()
    try:
        stats = capture.wait_for(
            lambda s: s.frames > 0 or s.state is CaptureState.NO_SIGNAL, timeout_s
        )
        frame = capture.latest()
        if frame is None:
            reason = stats.last_error if stats is not None else None
            raise CameraTestError(
                source.redact(reason or f"no frame from {source.display_name} in {timeout_s:g} s")
            )
        return to_qimage(frame.image)
    finally:
        capture.stop(timeout=2.0)  # a network open stuck in OpenCV is left to its daemon thread


def to_qimage(image_bgr: np.ndarray) -> QImage:
    """A BGR ``uint8`` array as an RGB QImage that owns its pixels."""
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888).copy()
