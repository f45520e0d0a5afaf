"""URL redaction: camera passwords and secret query values never reach a person's eyes."""

from __future__ import annotations

import pytest

from desktop.redaction import redact_url, url_secrets


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:pass@host/stream", "rtsp://user:***@host/stream"),
        ("rtsp://admin:p@ss/w0rd@10.0.0.5:554/s", "rtsp://admin:***@10.0.0.5:554/s"),
        ("http://cam.local/video.cgi?user=a&pwd=b", "http://cam.local/video.cgi?user=a&pwd=***"),
        (
            "https://u:p@cam/x?token=abc&fps=5#top",
            "https://u:***@cam/x?token=***&fps=5#top",
        ),
        ("rtsp://viewer@host/stream", "rtsp://viewer@host/stream"),
        ("rtsp://host:554/stream", "rtsp://host:554/stream"),
        ("0", "0"),
        ("C:/videos/exit.mp4", "C:/videos/exit.mp4"),
        ("", ""),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_url_secrets_lists_password_and_secret_query_values_decoded_too() -> None:
    secrets = url_secrets("rtsp://admin:p%40ss@cam/live?user=a&token=t0k")
    assert set(secrets) == {"p%40ss", "p@ss", "t0k"}
