"""Camera source strings: what kind of camera a lane has and how to name it safely.

A lane's ``camera`` setting is one string: ``rtsp://user:pw@host/stream``, an
``http(s)://`` MJPEG URL, a video file path (looped, for demos) or a USB index such as
``"0"``. Credentials in those strings must never reach a log line or an error message, so
every human-facing text goes through :attr:`CameraSource.display_name` or
:meth:`CameraSource.redact`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from desktop.redaction import MASK, redact_url, url_secrets


class SourceKind(StrEnum):
    """How a camera is reached."""

    FILE = "file"
    RTSP = "rtsp"
    HTTP = "http"
    USB = "usb"


@dataclass(frozen=True)
class CameraSource:
    """A parsed camera source.

    ``value`` is what to hand to ``cv2.VideoCapture`` (an ``int`` for USB cameras) and may
    contain credentials, so it is kept out of ``repr``; use ``display_name`` (credentials
    masked) in anything a person or a log file sees.
    """

    kind: SourceKind
    value: int | str = field(repr=False)
    loops: bool
    display_name: str
    _secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def is_network(self) -> bool:
        """True for RTSP and HTTP cameras (where open/read timeouts apply)."""
        return self.kind in (SourceKind.RTSP, SourceKind.HTTP)

    def redact(self, text: str) -> str:
        """``text`` with this source's raw value and every secret in it masked.

        Use on any message that may quote the source, such as an exception from OpenCV.
        """
        if isinstance(self.value, str) and self.value and self.value != self.display_name:
            text = text.replace(self.value, self.display_name)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def __str__(self) -> str:
        return self.display_name


def parse_source(text: str) -> CameraSource:
    """Parse a lane's camera string into a :class:`CameraSource`.

    Raises ``ValueError`` (with credentials masked) for an empty string or an unsupported
    URL scheme.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("camera source is empty")
    if raw.isdigit():
        return CameraSource(SourceKind.USB, int(raw), loops=False, display_name=f"usb:{raw}")
    scheme = urlsplit(raw).scheme.lower() if "://" in raw else ""
    if scheme in ("rtsp", "rtsps"):
        kind = SourceKind.RTSP
    elif scheme in ("http", "https"):
        kind = SourceKind.HTTP
    elif scheme == "file":
        path = unquote(urlsplit(raw).path)
        return CameraSource(SourceKind.FILE, path, loops=True, display_name=path)
    elif scheme:
        raise ValueError(f"unsupported camera source scheme {scheme!r} in {redact_url(raw)}")
    else:
        path = str(Path(raw).expanduser())
        return CameraSource(SourceKind.FILE, path, loops=True, display_name=path)
    return CameraSource(
        kind, raw, loops=False, display_name=redact_url(raw), _secrets=url_secrets(raw)
    )
