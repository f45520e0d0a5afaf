"""Where config and data live: per user in development and on Linux, one folder when
RECOUP_HOME is set, %ProgramData%\\Recoup for the installed (frozen) app on Windows.

The Windows branch is exercised with ``sys.platform`` and ``sys.frozen`` patched: a named
fake for the installed app, which cannot run here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs
import pytest

from desktop.config import default_config_path, default_data_dir, load_config, machine_home
from desktop.token_file import save_token


@pytest.fixture(autouse=True)
def _no_recoup_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("RECOUP_"):
            monkeypatch.delenv(name)


def installed_on_windows(monkeypatch: pytest.MonkeyPatch, program_data: Path) -> None:
    """Pretend to be the frozen app on Windows, with ``program_data`` as %ProgramData%."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("PROGRAMDATA", str(program_data))


def test_development_and_linux_use_the_per_user_folders() -> None:
    assert machine_home() is None
    assert default_data_dir() == platformdirs.user_data_path("Recoup", "Recoup")
    assert default_config_path() == platformdirs.user_config_path("Recoup", "Recoup") / (
        "config.toml"
    )


def test_recoup_home_holds_config_and_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECOUP_HOME", str(tmp_path / "booth"))
    assert default_config_path() == tmp_path / "booth" / "config.toml"
    assert default_data_dir() == tmp_path / "booth"
    assert load_config().data_dir == tmp_path / "booth"


def test_installed_windows_app_uses_program_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed_on_windows(monkeypatch, tmp_path)
    assert default_config_path() == tmp_path / "Recoup" / "config.toml"
    assert default_data_dir() == tmp_path / "Recoup"


def test_installed_app_finds_the_token_in_program_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed_on_windows(monkeypatch, tmp_path)
    save_token(tmp_path / "Recoup", "token-from-program-data")
    config_file = tmp_path / "Recoup" / "config.toml"
    config_file.write_text('[booth]\nid = "booth-north"\n', encoding="utf-8")
    config = load_config(default_config_path())
    assert config.booth.id == "booth-north"
    assert config.data_dir == tmp_path / "Recoup"
    assert config.booth.token is not None
    assert config.booth.token.get_secret_value() == "token-from-program-data"


def test_recoup_home_wins_over_program_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed_on_windows(monkeypatch, tmp_path / "ProgramData")
    monkeypatch.setenv("RECOUP_HOME", str(tmp_path / "D" / "Recoup"))
    assert default_data_dir() == tmp_path / "D" / "Recoup"
    assert default_config_path() == tmp_path / "D" / "Recoup" / "config.toml"


def test_windows_from_source_stays_per_user(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setenv("PROGRAMDATA", str(tmp_path))
    assert machine_home() is None
    assert default_data_dir() == platformdirs.user_data_path("Recoup", "Recoup")
