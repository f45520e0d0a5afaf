"""``support-bundle``: logs, config and a self-test report in a zip, and no secret at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from desktop.supervisor_pin import hash_pin
from desktop.support_bundle import write_support_bundle
from desktop.token_file import save_token
from tests.desktop.booth_support import TOKEN

ROOT = Path(__file__).resolve().parents[2]
FILE_TOKEN = "file-token-5d9c2e7a41b8f036"
CAMERA_PASSWORD = "camPa55-w0rd"
QUERY_PASSWORD = "qs3cretvalue"
CONFIG = f"""\
# Exit lanes of the north car park
[server]
url = "http://127.0.0.1:8765"

[booth]
id = "booth-north"

[[lanes]]
name = "Exit 1"
camera = "rtsp://admin:{CAMERA_PASSWORD}@10.0.0.5:554/stream1"

[[lanes]]
name = "Exit 2"
camera = "http://10.0.0.6/video.cgi?user=viewer&pwd={QUERY_PASSWORD}"

[supervisor]
pin_hash = "{{pin_hash}}"
"""


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A booth in RECOUP_HOME with a config, a token file, a token variable and logs."""
    for name in list(os.environ):
        if name.upper().startswith("RECOUP_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "ProgramData" / "Recoup"
    folder.mkdir(parents=True)
    monkeypatch.setenv("RECOUP_HOME", str(folder))
    monkeypatch.setenv("RECOUP_BOOTH__TOKEN", TOKEN)
    save_token(folder, FILE_TOKEN)
    (folder / "config.toml").write_text(CONFIG.format(pin_hash=hash_pin("2468")), encoding="utf-8")
    logs = folder / "logs"
    logs.mkdir()
    (logs / "recoup.log").write_text(
        "2026-11-24 08:00:00 INFO MainThread desktop.sync: synced 12 entries\n"
        # A line that should never have been written: the bundle still hides it.
        f"2026-11-24 08:00:01 DEBUG MainThread somewhere: header Bearer {TOKEN}\n",
        encoding="utf-8",
    )
    (logs / "recoup.log.1").write_text(
        f"2026-11-23 07:00:00 WARNING Lane-1 camera rtsp://admin:{CAMERA_PASSWORD}@10.0.0.5 lost\n",
        encoding="utf-8",
    )
    return folder


def members(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as bundle:
        return {name: bundle.read(name).decode("utf-8") for name in bundle.namelist()}


def test_bundle_holds_logs_config_and_self_test(home: Path, tmp_path: Path) -> None:
    path = write_support_bundle(tmp_path / "support.zip")
    files = members(path)
    assert sorted(files) == [
        "config/config.toml",
        "config/effective-config.json",
        "environment.json",
        "logs/recoup.log",
        "logs/recoup.log.1",
        "self-test.txt",
    ]
    assert "# Exit lanes of the north car park" in files["config/config.toml"]
    assert 'id = "booth-north"' in files["config/config.toml"]
    assert "synced 12 entries" in files["logs/recoup.log"]
    assert "self-test passed" in files["self-test.txt"]
    environment = json.loads(files["environment.json"])
    assert environment["data_dir"] == str(home)
    assert environment["config_file"] == str(home / "config.toml")
    assert environment["self_test_passed"] is True
    assert "RECOUP_BOOTH__TOKEN" in environment["environment_variables_set"]
    effective = json.loads(files["config/effective-config.json"])
    assert effective["booth"]["id"] == "booth-north"
    assert effective["booth"]["token"] == "(set, not included)"


def test_no_secret_anywhere_in_the_bundle(home: Path, tmp_path: Path) -> None:
    path = write_support_bundle(tmp_path / "support.zip")
    files = members(path)
    everything = "\n".join(files.values())
    raw = path.read_bytes()
    pin_hash = (home / "config.toml").read_text(encoding="utf-8").split('pin_hash = "')[1][:40]
    for secret in (TOKEN, FILE_TOKEN, CAMERA_PASSWORD, QUERY_PASSWORD, pin_hash):
        assert secret not in everything
        assert secret.encode() not in raw
    assert "rtsp://admin:***@10.0.0.5:554/stream1" in files["config/config.toml"]
    assert "user=viewer&pwd=***" in files["config/config.toml"]
    assert 'pin_hash = "***"' in files["config/config.toml"]
    assert "rtsp://admin:***@10.0.0.5 lost" in files["logs/recoup.log.1"]
    assert "header Bearer ***" in files["logs/recoup.log"]
    lanes = json.loads(files["config/effective-config.json"])["lanes"]
    assert lanes[0]["camera"] == "rtsp://admin:***@10.0.0.5:554/stream1"


def test_token_written_into_the_file_is_masked_too(home: Path, tmp_path: Path) -> None:
    config = home / "config.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'id = "booth-north"', f'id = "booth-north"\ntoken = "{FILE_TOKEN}"'
        ),
        encoding="utf-8",
    )
    files = members(write_support_bundle(tmp_path / "support.zip"))
    assert FILE_TOKEN not in "\n".join(files.values())
    assert 'token = "***"' in files["config/config.toml"]
    problem = json.loads(files["environment.json"])["config_problem"]
    assert "booth.token: secrets are not read from the file" in problem
    assert "config/effective-config.json" not in files


def test_command_writes_the_zip(home: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "bundle.zip"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    result = subprocess.run(
        [sys.executable, "main.py", "support-bundle", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Support bundle written: {output}" in result.stdout
    report = members(output)["self-test.txt"]
    assert "ok    qt" in report
    assert TOKEN not in result.stdout + result.stderr
