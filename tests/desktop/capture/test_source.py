"""Parsing lane camera strings, and keeping their credentials out of sight."""

from __future__ import annotations

import pytest

from desktop.capture import Backoff, FpsMeter, SourceKind, parse_source
from desktop.redaction import redact_url


def test_rtsp_url_keeps_its_value_but_shows_credentials_masked() -> None:
    url = "rtsp://admin:Hunter2@10.0.0.5:554/Streaming/Channels/101"
    source = parse_source(f"  {url} ")

    assert source.kind is SourceKind.RTSP
    assert source.value == url
    assert not source.loops
    assert source.is_network
    assert source.display_name == "rtsp://admin:***@10.0.0.5:554/Streaming/Channels/101"
    assert str(source) == source.display_name
    assert "Hunter2" not in repr(source)


def test_http_mjpeg_url_with_secret_query_parameters() -> None:
    source = parse_source("http://cam.local/video.mjpg?user=admin&pwd=hunter2&res=hd")

    assert source.kind is SourceKind.HTTP
    assert source.display_name == "http://cam.local/video.mjpg?user=admin&pwd=***&res=hd"


def test_usb_index_becomes_an_int() -> None:
    source = parse_source("0")

    assert (source.kind, source.value, source.loops) == (SourceKind.USB, 0, False)
    assert source.display_name == "usb:0"


@pytest.mark.parametrize("text", ["demo/lane1.mp4", r"C:\videos\lane 1.mp4", "file:///srv/a.avi"])
def test_files_loop(text: str) -> None:
    source = parse_source(text)

    assert source.kind is SourceKind.FILE
    assert source.loops
    assert source.display_name == source.value


def test_passwords_with_url_special_characters_are_still_masked() -> None:
    source = parse_source("rtsp://admin:p/a@ss%40x@10.0.0.5/live")

    assert "p/a@ss" not in source.display_name
    assert source.display_name.startswith("rtsp://admin:***@")
    # A library that percent-decodes the URL before quoting it is masked too.
    message = "error opening rtsp://admin:p/a@ss@x@10.0.0.5/live: 401 for p/a@ss@x"
    assert "p/a@ss" not in source.redact(message)


def test_redact_masks_raw_url_and_bare_password_in_any_message() -> None:
    source = parse_source("rtsp://viewer:S3cr3t!@cam/stream")
    message = f"cv2 said: cannot open {source.value} (user viewer, password S3cr3t!)"

    redacted = source.redact(message)

    assert "S3cr3t!" not in redacted
    assert "rtsp://viewer:***@cam/stream" in redacted


def test_unsupported_scheme_is_refused_without_leaking() -> None:
    with pytest.raises(ValueError, match="unsupported") as raised:
        parse_source("ftp://bob:secretpw@host/cam")
    assert "secretpw" not in str(raised.value)


def test_empty_source_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        parse_source("   ")


def test_redact_url_without_credentials_is_unchanged() -> None:
    assert redact_url("http://10.0.0.9:8080/stream.mjpg") == "http://10.0.0.9:8080/stream.mjpg"


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(initial_s=0.5, factor=2.0, max_s=30.0)

    assert [backoff.delay(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(10_000) == 30


def test_fps_meter_uses_a_sliding_window() -> None:
    meter = FpsMeter(window_s=1.0)
    for n in range(31):
        meter.add(10.0 + n / 30)

    assert meter.rate(now=11.0) == pytest.approx(30.0)
    assert meter.rate(now=13.0) == 0.0  # nothing in the last second
