"""Camera capture for the booth's exit lanes: one thread per lane, latest frame only.

See ARCHITECTURE.md, "Data flow in the booth". Nothing here imports Qt.
"""

from .backoff import Backoff
from .frame import CaptureState, CaptureStats, FpsMeter, Frame
from .group import CaptureGroup
from .lane import LaneCapture, StateListener
from .opener import CameraUnavailable, VideoCaptureLike, open_capture
from .source import CameraSource, SourceKind, parse_source

__all__ = [
    "Backoff",
    "CameraSource",
    "CameraUnavailable",
    "CaptureGroup",
    "CaptureState",
    "CaptureStats",
    "FpsMeter",
    "Frame",
    "LaneCapture",
    "SourceKind",
    "StateListener",
    "VideoCaptureLike",
    "open_capture",
    "parse_source",
]
