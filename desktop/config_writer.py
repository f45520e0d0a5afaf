"""Writing the booth configuration back to its TOML file (the settings screen's Save).

The file written by :func:`save_config` loads back with :func:`desktop.config.load_config`
to an equal configuration. It never holds the booth token (see :mod:`desktop.token_file`).
The write is atomic: the new text goes to a temporary file in the same folder, which then
replaces the old file; the previous file is kept next to it as ``<name>.bak``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from desktop.config import BoothConfig, default_data_dir

BACKUP_SUFFIX = ".bak"

_HEADER = """\
# Recoup booth configuration, saved by the booth's settings screen on {when}.
# The previous file is kept as {backup}. Comments are not kept: see
# config.example.toml for what every key means. The booth token is not stored here.

"""


def config_to_toml(config: BoothConfig) -> str:
    """The TOML text for ``config``: every setting except the token, unset values left out."""
    data = config.model_dump(mode="json", exclude={"booth": {"token"}})
    if config.data_dir == default_data_dir():
        del data["data_dir"]  # follow the per-user default on whichever PC reads the file
    return tomli_w.dumps(_without_none(data))


def backup_path(path: Path) -> Path:
    """Where :func:`save_config` keeps the previous version of ``path``."""
    return path.with_name(path.name + BACKUP_SUFFIX)


def save_config(config: BoothConfig, path: Path) -> None:
    """Write ``config`` to ``path`` atomically, keeping the previous file as ``.bak``.

    Raises OSError when the file cannot be written; ``path`` is then unchanged and no
    temporary file is left behind.
    """
    path = Path(path)
    backup = backup_path(path)
    text = _HEADER.format(
        when=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"), backup=backup.name
    ) + config_to_toml(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    backup_temporary = path.with_name(f".{backup.name}.{os.getpid()}.tmp")
    try:
        _write_synced(temporary, text)
        if path.is_file():
            shutil.copyfile(path, backup_temporary)
            os.replace(backup_temporary, backup)
        os.replace(temporary, path)
    except BaseException:
        for leftover in (temporary, backup_temporary):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())


def _without_none(value: Any) -> Any:
    """TOML has no null: drop keys whose value is None (they mean "use the default")."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value
