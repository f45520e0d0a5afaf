"""The booth token entered in the settings screen, kept in a small file in the data folder.

The token is a secret, so it never goes into the config file. When the environment
variable ``RECOUP_BOOTH__TOKEN`` is not set, :func:`desktop.config.load_config` reads it
from ``<data_dir>/booth.token`` instead. On POSIX the file is readable by its owner only
(mode 0600). On Windows the installed app keeps its data in ``%ProgramData%\\Recoup``,
which the installer opens to the booth's local users (they write the database), so any
local account can read the token there: the operator's guide says so, and an environment
variable set for the booth's account is the stricter choice. Nothing here logs or quotes
the token.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TOKEN_FILE_NAME = "booth.token"
_MODE = 0o600


def token_path(data_dir: Path) -> Path:
    """Where the token file of the booth with ``data_dir`` lives."""
    return Path(data_dir) / TOKEN_FILE_NAME


def save_token(data_dir: Path, token: str) -> Path:
    """Store ``token`` in ``data_dir/booth.token`` (mode 0600), atomically; return the path.

    Raises ValueError for an empty token or one with spaces or line breaks inside, and
    OSError when the file cannot be written (the previous file is then left as it was).
    """
    value = token.strip()
    if not value:
        raise ValueError("the booth token is empty")
    if any(char.isspace() for char in value):
        raise ValueError("the booth token must not contain spaces or line breaks")
    path = token_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{TOKEN_FILE_NAME}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(temporary, flags, _MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(value + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _MODE)  # in case the file already existed with other modes
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return path


def load_token(data_dir: Path) -> str | None:
    """The token stored in ``data_dir``, or None when there is no file or it is empty.

    Raises OSError when the file exists but cannot be read. A byte order mark (Notepad's
    "UTF-8 with BOM", when the operator writes the file by hand) is not part of the token.
    """
    path = token_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    value = text.strip()
    return value or None


def delete_token(data_dir: Path) -> None:
    """Remove the stored token, if any."""
    with contextlib.suppress(FileNotFoundError):
        token_path(data_dir).unlink()
