"""Opening a camera with OpenCV: the default collaborator of :class:`LaneCapture`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .source import CameraSource, SourceKind

logger = logging.getLogger(__name__)


class CameraUnavailable(Exception):  # noqa: N818 - reads better than CameraUnavailableError
    """A camera could not be opened (environmental: unplugged, unreachable, missing file).

    The message names the camera by its display name only (credentials masked).
    """


class VideoCaptureLike(Protocol):
    """The part of ``cv2.VideoCapture`` a lane capture uses."""

    def read(self) -> tuple[bool, np.ndarray | None]:
        """Grab, decode and return the next frame as a new BGR array (never a reused one)."""
        ...

    def get(self, prop_id: int) -> float:
        """A capture property such as ``cv2.CAP_PROP_FPS``."""
        ...

    def release(self) -> None:
        """Close the camera."""
        ...


def open_capture(
    source: CameraSource, *, open_timeout_s: float = 10.0, read_timeout_s: float = 5.0
) -> cv2.VideoCapture:
    """Open ``source`` with OpenCV and return the opened capture.

    Network cameras go through the FFmpeg backend with open and read timeouts, so a dead
    camera makes ``read`` fail after ``read_timeout_s`` instead of blocking forever (after
    such a timeout the capture is finished and must be re-opened). USB cameras use the
    platform's default backend, which has no timeouts; the lane's watchdog covers them.
    Raises :class:`CameraUnavailable` when the camera cannot be opened.
    """
    if source.kind is SourceKind.FILE and not Path(str(source.value)).is_file():
        raise CameraUnavailable(f"video file not found: {source.display_name}")
    try:
        if source.kind is SourceKind.USB:
            capture = cv2.VideoCapture(source.value)
        elif source.kind is SourceKind.FILE:
            capture = cv2.VideoCapture(source.value, cv2.CAP_FFMPEG)
        else:
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                round(open_timeout_s * 1000),
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                round(read_timeout_s * 1000),
            ]
            capture = cv2.VideoCapture(source.value, cv2.CAP_FFMPEG, params)
    except cv2.error as exc:
        # "from None": the original message may quote the URL with its password.
        raise CameraUnavailable(
            f"cannot open {source.display_name}: {source.redact(str(exc))}"
        ) from None
    if not capture.isOpened():
        capture.release()
        raise CameraUnavailable(f"cannot open {source.display_name}")
    logger.debug(
        "opened %s with %s (%s fps reported)",
        source.display_name,
        capture.getBackendName(),
        capture.get(cv2.CAP_PROP_FPS),
    )
    return capture
