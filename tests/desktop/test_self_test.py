"""``self-test``: passes in the source tree; a broken piece makes it exit 1 naming it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop.recognition.engine import EngineUnavailableError, TextBox
from desktop.self_test import find_sample, run_self_test

ROOT = Path(__file__).resolve().parents[2]
CHECKS = (
    "config",
    "database",
    "ocr engine",
    "province reader",
    "sample plate",
    "qt",
    "style sheet",
    "icon",
    "translations",
)


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Config and data in a fresh folder; no RECOUP_* variable from the caller."""
    for name in list(os.environ):
        if name.upper().startswith("RECOUP_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("RECOUP_HOME", str(home))
    return home


class BlankEngine:
    """An engine that loads at once and never finds text."""

    name = "blank"

    def read(self, image_bgr: np.ndarray) -> list[TextBox]:
        return []


def run(**kwargs: object) -> tuple[int, str]:
    out = io.StringIO()
    status = run_self_test(out=out, **kwargs)  # type: ignore[arg-type]
    return status, out.getvalue()


def line_of(report: str, check: str) -> str:
    return next(line for line in report.splitlines() if line[6:].startswith(check))


def test_command_passes_in_the_source_tree(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    result = subprocess.run(
        [sys.executable, "main.py", "self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Recoup 0.") and "self-test (source" in lines[0]
    for check in CHECKS:
        assert line_of(result.stdout, check).startswith("ok "), result.stdout
    assert "read RCP7284" in result.stdout
    assert "platform plugin offscreen" in result.stdout
    assert lines[-1].startswith(f"self-test passed: {len(CHECKS)} checks in ")
    # The database was a temporary one: nothing was written to the booth's data folder.
    assert not home.exists()


def test_missing_sample_image_fails_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "samples"
    empty.mkdir()
    status, report = run(sample_dir=empty, engine_loader=lambda name: BlankEngine())
    assert status == 1
    assert line_of(report, "sample plate").startswith("FAIL ")
    assert f"no sample plate image (plate-<region>-<TEXT>.jpg) in {empty}" in report
    assert line_of(report, "config").startswith("ok ")
    assert line_of(report, "database").startswith("ok ")
    assert report.splitlines()[-1].startswith("self-test FAILED (sample plate) in ")


def test_engine_that_cannot_load_fails_naming_it() -> None:
    def broken(name: str) -> BlankEngine:
        raise EngineUnavailableError(f"{name}: RapidOCR models missing from C:/nowhere")

    status, report = run(engine_loader=broken)
    assert status == 1
    engine_line = line_of(report, "ocr engine")
    assert engine_line.startswith("FAIL ")
    assert "EngineUnavailableError: rapidocr: RapidOCR models missing" in engine_line
    assert "skipped: the OCR engine did not load" in line_of(report, "sample plate")
    assert "FAILED (ocr engine, sample plate)" in report.splitlines()[-1]


def test_sample_read_wrongly_fails_with_both_texts(tmp_path: Path) -> None:
    sample, _region, text = find_sample()
    folder = tmp_path / "samples"
    folder.mkdir()
    shutil.copy(sample, folder / "plate-us-XYZ9999.jpg")
    status, report = run(sample_dir=folder)
    assert status == 1
    assert f"read {text}, expected XYZ9999" in line_of(report, "sample plate")


def test_bad_config_file_fails_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "booth.toml"
    config.write_text('[server]\nurl = "http://127.0.0.1:8765"\nspeed = 3\n', encoding="utf-8")
    status, report = run(config_path=config, engine_loader=lambda name: BlankEngine())
    assert status == 1
    assert "server.speed: unknown key" in line_of(report, "config")


def test_missing_default_config_means_defaults_but_a_named_one_must_exist(
    tmp_path: Path, home: Path
) -> None:
    _status, report = run(engine_loader=lambda name: BlankEngine())
    assert f"defaults (no file at {home / 'config.toml'})" in line_of(report, "config")
    assert line_of(report, "config").startswith("ok ")

    status, report = run(
        config_path=tmp_path / "typo.toml", engine_loader=lambda name: BlankEngine()
    )
    assert "typo.toml: config file not found" in line_of(report, "config")
    assert status == 1
