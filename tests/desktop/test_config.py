"""Booth configuration: TOML file, environment overrides and readable errors."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from desktop import plates
from desktop.config import (
    BoothConfig,
    ConfigError,
    PlateSettings,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the RECOUP_* variables they set themselves."""
    for name in list(os.environ):
        if name.upper().startswith("RECOUP_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path | None, **overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, **overrides)
    return str(caught.value)


# ----------------------------------------------------------------------- loading


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.server.url == "http://127.0.0.1:8765"
    assert config.booth.id == "booth-a"
    assert config.booth.token is None
    assert [lane.name for lane in config.lanes] == ["Exit 1", "Exit 2"]
    rtsp, usb = config.lanes
    assert rtsp.camera.startswith("rtsp://")
    assert rtsp.roi == (0.2, 0.4, 0.6, 0.5)
    assert usb.capture_source == 0
    assert usb.roi is None
    assert config.plates.region == "us"
    assert config.recovery.exit_policy == "must_pay"


def test_example_config_documents_the_token_variable_and_holds_no_token() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "RECOUP_BOOTH__TOKEN" in text
    assert not any(line.strip().startswith("token") for line in text.splitlines())


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config.lanes == ()
    assert config.server.verify_tls is True
    assert config.server.connect_timeout_s == 3.0
    assert config.server.read_timeout_s == 10.0
    assert config.recovery.history_deadline_s == 1.5
    assert config.recovery.notice_cooldown_s == 120
    assert config.sync.interval_s == 15
    assert config.sync.page_size == 500
    assert config.ocr.engine == "rapidocr"
    assert config.log_level == "INFO"
    assert "Recoup" in config.data_dir.parts


def test_every_field_has_a_description() -> None:
    def walk(model: type[BaseModel], prefix: str) -> list[str]:
        missing = []
        for name, info in model.model_fields.items():
            if not info.description:
                missing.append(prefix + name)
            for arg in typing.get_args(info.annotation) or (info.annotation,):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    missing += walk(arg, f"{prefix}{name}.")
        return missing

    assert walk(BoothConfig, "") == []


def test_region_names_agree_with_the_plate_profiles() -> None:
    annotation = PlateSettings.model_fields["region"].annotation
    assert set(typing.get_args(annotation)) == set(plates.REGION_NAMES)


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[server]\nurl = "http://file.example:1"\nread_timeout_s = 4\n')
    monkeypatch.setenv("RECOUP_SERVER__URL", "https://env.example/")
    monkeypatch.setenv("RECOUP_RECOVERY__EXIT_POLICY", "remind_only")
    config = load_config(path)
    assert config.server.url == "https://env.example"
    assert config.server.read_timeout_s == 4  # the rest of the file's table still applies
    assert config.recovery.exit_policy == "remind_only"


def test_keyword_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_LOG_LEVEL", "ERROR")
    assert load_config(None).log_level == "ERROR"
    assert load_config(None, log_level="debug").log_level == "DEBUG"


def test_lanes_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_LANES", '[{"name": "Gate", "camera": "1"}]')
    config = load_config(None)
    assert [(lane.name, lane.capture_source) for lane in config.lanes] == [("Gate", 1)]


def test_unparsable_environment_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_LANES", "Exit 1")
    message = problems_of(None)
    assert "lanes" in message
    assert "environment" in message


# ------------------------------------------------------------------------ secrets


def test_token_comes_from_the_environment_and_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECOUP_BOOTH__TOKEN", "s3cret-token-value")
    config = load_config(EXAMPLE)
    assert config.booth.token is not None
    assert config.booth.token.get_secret_value() == "s3cret-token-value"
    for shown in (repr(config), str(config), repr(config.booth), config.model_dump_json()):
        assert "s3cret-token-value" not in shown


def test_empty_token_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_BOOTH__TOKEN", "")
    assert load_config(None).booth.token is None


def test_token_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[booth]\nid = "b1"\ntoken = "s3cret-token-value"\n')
    message = problems_of(path)
    assert "config.toml" in message
    assert "booth.token" in message
    assert "RECOUP_BOOTH__TOKEN" in message
    assert "s3cret-token-value" not in message


def test_camera_password_is_hidden_in_repr(tmp_path: Path) -> None:
    path = write(tmp_path, '[[lanes]]\nname = "A"\ncamera = "rtsp://admin:hunter2@10.0.0.5/s"\n')
    config = load_config(path)
    assert config.lanes[0].camera == "rtsp://admin:hunter2@10.0.0.5/s"
    assert "hunter2" not in repr(config)
    assert "hunter2" not in str(config.lanes[0])
    assert "rtsp://admin:***@10.0.0.5/s" in repr(config)


# ------------------------------------------------------------------------- errors


def test_unknown_key_is_named_with_its_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nulr = "http://x"\n')
    assert problems_of(path) == f"{path}: server.ulr: unknown key"


def test_unknown_top_level_key_and_lane_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'colour = "red"\n[[lanes]]\nname = "A"\ncamera = "0"\nzoom = 2\n')
    message = problems_of(path)
    assert f"{path}: colour: unknown key" in message.splitlines()
    assert f"{path}: lanes.0.zoom: unknown key" in message.splitlines()


def test_unknown_key_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECOUP_SERVER__ULR", "http://x")
    assert problems_of(None) == "environment RECOUP_SERVER__ULR: server.ulr: unknown key"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[recovery]\nexit_policy = "maybe"\n',
            "recovery.exit_policy: Input should be 'must_pay' or 'remind_only' (got 'maybe')",
        ),
        (
            "[server]\nconnect_timeout_s = -1\n",
            "server.connect_timeout_s: Input should be greater than 0 (got -1)",
        ),
        (
            '[[lanes]]\nname = "A"\ncamera = "0"\nroi = [0.1, 0.2, 1.5, 0.3]\n',
            "lanes.0.roi.2: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            '[[lanes]]\nname = "A"\ncamera = "0"\nroi = [0.5, 0.0, 0.6, 0.5]\n',
            "lanes.0.roi: region must lie inside the frame (x + w <= 1 and y + h <= 1)",
        ),
        (
            '[[lanes]]\nname = "A"\ncamera = "0"\nroi = [0.1, 0.1, 0.5]\n',
            "lanes.0.roi: expected four numbers [x, y, w, h], got 3",
        ),
        ('[plates]\nregion = "mars"\n', "plates.region: Input should be"),
        (
            '[plates]\nregion = "cn"\nlocal_province = "X"\n',
            "plates.local_province: must be one Chinese province character",
        ),
        ('[ocr]\nengine = "tesseract"\n', "ocr.engine: Input should be"),
        ("[sync]\npage_size = 5000\n", "sync.page_size: Input should be less than or equal to"),
        ('[server]\nurl = "ftp://host"\n', "server.url: expected an http:// or https:// URL"),
        ('[server]\nurl = "http://u:p@host"\n', "server.url: must not contain credentials"),
        ('[server]\nca_bundle = "/no/such/ca.pem"\n', "server.ca_bundle: Path does not point"),
        ('[booth]\nid = "booth a"\n', "booth.id: String should match pattern"),
        ('[[lanes]]\nname = "A"\ncamera = "  "\n', "lanes.0.camera: must not be blank"),
        (
            '[[lanes]]\nname = "A"\ncamera = "0"\n[[lanes]]\nname = "a"\ncamera = "1"\n',
            "lanes: lane name 'a' is used twice",
        ),
        ('log_level = "loud"\n', "log_level: Input should be 'DEBUG'"),
        ('[[lanes]]\nname = "A"\n', "lanes.0.camera: required key is missing"),
    ],
)
def test_bad_value_is_named_with_its_key_and_reason(
    tmp_path: Path, toml: str, expected: str
) -> None:
    path = write(tmp_path, toml)
    message = problems_of(path)
    assert message.startswith(f"{path}: {expected}")


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[server]\nread_timeout_s = 0\nverify = false\n[recovery]\nexit_policy = "x"\n',
    )
    lines = problems_of(path).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}: ") for line in lines)


def test_credentials_in_a_bad_value_are_hidden(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nurl = "ftp://user:hunter2@host"\n')
    assert "hunter2" not in problems_of(path)


def test_toml_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nurl = "http://x"\nverify_tls = \n')
    message = problems_of(path)
    assert message.startswith(f"{path}: line 3, column")
    assert "invalid TOML" in message


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "booth.toml"
    assert problems_of(missing) == f"{missing}: config file not found"


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == f"{tmp_path}: config file is not a regular file"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'log_level = "\xff"\n')
    assert problems_of(path).startswith(f"{path}: ")


def test_a_manual_only_booth_needs_no_lanes(tmp_path: Path) -> None:
    path = write(tmp_path, '[booth]\nid = "kiosk-3"\nattendant = "alice"\n')
    config = load_config(path)
    assert config.lanes == ()
    assert (config.booth.id, config.booth.attendant) == ("kiosk-3", "alice")


def test_server_url_trailing_slash_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nurl = "https://parking.example.com/"\n')
    assert load_config(path).server.url == "https://parking.example.com"


def test_ca_bundle_that_exists_is_accepted(tmp_path: Path) -> None:
    bundle = write(tmp_path, "-----BEGIN CERTIFICATE-----\n", name="ca.pem")
    path = write(tmp_path, f"[server]\nca_bundle = {str(bundle)!r}\n")
    assert load_config(path).server.ca_bundle == bundle


def test_data_dir_expands_the_home_directory(tmp_path: Path) -> None:
    path = write(tmp_path, 'data_dir = "~/recoup-data"\n')
    assert load_config(path).data_dir == Path.home() / "recoup-data"
