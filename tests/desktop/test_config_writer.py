"""Saving the booth configuration: round trip, no token in the file, token file, backups."""

from __future__ import annotations

import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from desktop import config_writer
from desktop.config import ConfigError, load_config, validate_config
from desktop.config_writer import backup_path, save_config
from desktop.token_file import load_token, save_token, token_path

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SECRET = "settings-entered-s3cret"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the RECOUP_* variables they set themselves."""
    for name in list(os.environ):
        if name.upper().startswith("RECOUP_"):
            monkeypatch.delenv(name)


def edited_config(tmp_path: Path, **changes: object):
    """The example config moved to a private data folder, with ``changes`` applied."""
    values = load_config(EXAMPLE).model_dump()
    values["data_dir"] = tmp_path / "data"
    values.update(changes)
    return validate_config(values)


def test_round_trip_gives_an_equal_config(tmp_path: Path) -> None:
    config = edited_config(
        tmp_path,
        lanes=[
            {
                "name": "North gate",
                "camera": "rtsp://u:p@10.1.1.1/s",
                "roi": [0.1, 0.25, 0.5, 0.75],
            },
            {"name": "出口 2", "camera": "C:\\Videos\\exit 2.avi"},
        ],
        server={"url": "https://ops.example:8443", "verify_tls": False, "read_timeout_s": 4.5},
        supervisor={"pin_hash": "scrypt$16384$8$1$c2FsdA==$aGFzaA=="},
        display={"language": "zh_CN", "sound": False},
    )
    path = tmp_path / "config.toml"
    save_config(config, path)
    assert load_config(path) == config


def test_default_data_dir_is_left_out_so_it_follows_the_user(tmp_path: Path) -> None:
    config = load_config(EXAMPLE)
    path = tmp_path / "config.toml"
    save_config(config, path)
    assert "data_dir" not in path.read_text(encoding="utf-8")
    assert load_config(path).data_dir == config.data_dir


def test_the_token_is_never_written_to_the_file(tmp_path: Path) -> None:
    config = edited_config(tmp_path, booth={"id": "booth-a", "token": SECRET})
    path = tmp_path / "config.toml"
    save_config(config, path)
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert "token =" not in text
    reloaded = load_config(path)  # a token key would be refused
    assert reloaded.booth.token is None


def test_the_token_file_is_private_and_supplies_the_token(tmp_path: Path) -> None:
    config = edited_config(tmp_path)
    path = tmp_path / "config.toml"
    save_config(config, path)
    written = save_token(config.data_dir, SECRET)
    assert written == token_path(config.data_dir)
    if sys.platform != "win32":
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert load_token(config.data_dir) == SECRET
    reloaded = load_config(path)
    assert reloaded.booth.token is not None
    assert reloaded.booth.token.get_secret_value() == SECRET
    assert SECRET not in repr(reloaded)


def test_saving_a_token_again_keeps_it_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    token_path(data_dir).write_text("old\n", encoding="utf-8")
    token_path(data_dir).chmod(0o644)
    save_token(data_dir, SECRET)
    if sys.platform != "win32":
        assert stat.S_IMODE(token_path(data_dir).stat().st_mode) == 0o600
    assert load_token(data_dir) == SECRET
    assert [p.name for p in data_dir.iterdir()] == ["booth.token"]


def test_a_token_file_written_by_hand_in_notepad_is_read(tmp_path: Path) -> None:
    # Notepad may save "UTF-8 with BOM" and a CRLF line end (operator's guide, 2.2).
    token_path(tmp_path).write_bytes(b"\xef\xbb\xbf" + SECRET.encode() + b"\r\n")
    assert load_token(tmp_path) == SECRET


@pytest.mark.parametrize("bad", ["", "   ", "two words", "line\nbreak"])
def test_a_malformed_token_is_not_saved(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        save_token(tmp_path, bad)
    assert not token_path(tmp_path).exists()


def test_the_environment_wins_over_the_token_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = edited_config(tmp_path)
    path = tmp_path / "config.toml"
    save_config(config, path)
    save_token(config.data_dir, SECRET)
    monkeypatch.setenv("RECOUP_BOOTH__TOKEN", "from-the-environment")
    token = load_config(path).booth.token
    assert token is not None
    assert token.get_secret_value() == "from-the-environment"


def test_an_unreadable_token_file_is_named_without_its_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = edited_config(tmp_path)
    path = tmp_path / "config.toml"
    save_config(config, path)
    token_path(config.data_dir).parent.mkdir(parents=True, exist_ok=True)
    token_path(config.data_dir).write_bytes(b"\xff\xfe" + SECRET.encode())
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "booth.token" in str(caught.value)
    assert str(token_path(config.data_dir)) in str(caught.value)
    assert SECRET not in str(caught.value)
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_the_previous_file_is_kept_as_bak(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = EXAMPLE.read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    config = edited_config(tmp_path, plates={"region": "cn"})
    save_config(config, path)
    assert backup_path(path) == tmp_path / "config.toml.bak"
    assert backup_path(path).read_text(encoding="utf-8") == original
    assert load_config(path).plates.region == "cn"
    save_config(edited_config(tmp_path, plates={"region": "eu"}), path)
    assert load_config(backup_path(path)).plates.region == "cn"
    assert load_config(path).plates.region == "eu"


def test_a_failed_write_leaves_the_old_file_and_no_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    original = EXAMPLE.read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")

    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(config_writer.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_config(edited_config(tmp_path, plates={"region": "cn"}), path)
    assert path.read_text(encoding="utf-8") == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_validate_config_names_the_field_without_an_origin(tmp_path: Path) -> None:
    values = edited_config(tmp_path).model_dump()
    values["lanes"] = [{"name": "A", "camera": "0", "roi": [0.5, 0.0, 0.6, 1.0]}]
    with pytest.raises(ConfigError) as caught:
        validate_config(values)
    assert caught.value.problems[0].startswith("lanes.0.roi: region must lie inside the frame")
