"""``support-bundle``: one zip for the support desk, with no secret in it.

It holds the booth's log files, its config file and the effective configuration with
secrets removed, a description of the machine, and a fresh self-test report. The booth
token is never written (neither from the environment nor from the token file); the
supervisor PIN hash is masked; URLs lose their passwords (:func:`redact_url`); and every
known secret value is scrubbed from every file as a last line of defence. The database
(plates of real vehicles) is not included.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import sys
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from desktop.config import (
    ENV_PREFIX,
    TOKEN_ENV_VAR,
    BoothConfig,
    ConfigError,
    default_config_path,
    default_data_dir,
    load_config,
)
from desktop.logs import LOG_FILE
from desktop.redaction import MASK, redact_url, url_secrets
from desktop.self_test import CheckResult, app_version, run_self_test
from desktop.token_file import load_token

#: Keys whose values are secrets wherever they appear (TOML keys, environment names).
SECRET_NAME = re.compile(r"token|pin_hash|pass|pwd|secret|credential|auth|key", re.IGNORECASE)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
_TOML_ASSIGNMENT = re.compile(r"^(?P<key>\s*[\"']?[\w.-]+[\"']?\s*=\s*)(?P<value>.*)$")


class Scrubber:
    """Removes known secret values and URL credentials from text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing a shorter one is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)

    def text(self, text: str) -> str:
        """``text`` with URLs redacted and every known secret replaced by ``***``."""
        text = _URL.sub(lambda found: redact_url(found[0]), text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def toml(self, text: str) -> str:
        """A config file's text with secret-named keys' values masked, then :meth:`text`."""
        lines = []
        for line in text.splitlines():
            found = _TOML_ASSIGNMENT.match(line)
            secret = found is not None and SECRET_NAME.search(found["key"])
            lines.append(f'{found["key"]}"{MASK}"' if found and secret else line)
        return self.text("\n".join(lines) + "\n")


def known_secrets(config: BoothConfig | None, data_dirs: Iterable[Path]) -> list[str]:
    """Every secret value this booth knows: its tokens, PIN hash, camera passwords."""
    found: list[str] = []
    env_token = os.environ.get(TOKEN_ENV_VAR, "").strip()
    if env_token:
        found.append(env_token)
    for folder in data_dirs:
        try:
            stored = load_token(folder)
        except (OSError, UnicodeDecodeError):
            stored = None
        if stored:
            found.append(stored)
    for name, value in os.environ.items():
        if name.upper().startswith(ENV_PREFIX) and SECRET_NAME.search(name) and value.strip():
            found.append(value.strip())
    if config is not None:
        if config.booth.token is not None:
            found.append(config.booth.token.get_secret_value())
        if config.supervisor.pin_hash:
            found.append(config.supervisor.pin_hash)
        for lane in config.lanes:
            found.extend(url_secrets(lane.camera))
        found.extend(url_secrets(config.server.url))
    return found


def effective_config(config: BoothConfig) -> dict[str, object]:
    """The loaded configuration as JSON data, secrets replaced by whether they are set."""
    data = config.model_dump(mode="json")
    data["booth"]["token"] = "(set, not included)" if config.booth.token else "(not set)"
    if config.supervisor.pin_hash:
        data["supervisor"]["pin_hash"] = "(set, not included)"
    data["server"]["url"] = redact_url(config.server.url)
    for lane in data["lanes"]:
        lane["camera"] = redact_url(lane["camera"])
    return data


def environment_report(
    config_path: Path, data_dir: Path, config_problem: str | None
) -> dict[str, object]:
    """Where things are and what runs them; ``RECOUP_*`` variables by name only."""
    names = sorted(name for name in os.environ if name.upper().startswith(ENV_PREFIX))
    return {
        "version": app_version(),
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "frozen": bool(getattr(sys, "frozen", False)),
        "executable": sys.executable,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "config_file": str(config_path),
        "config_file_exists": config_path.is_file(),
        "config_problem": config_problem,
        "data_dir": str(data_dir),
        "environment_variables_set": names,
    }


def default_output(now: datetime | None = None) -> Path:
    """``recoup-support-<date>-<time>.zip`` in the current folder."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path.cwd() / f"recoup-support-{stamp}.zip"


def write_support_bundle(
    output: Path | None = None,
    config_path: Path | None = None,
    *,
    qt_checks: Callable[[], Iterable[CheckResult]] | None = None,
) -> Path:
    """Write the support zip to ``output`` (default :func:`default_output`); its path.

    Raises OSError when the zip cannot be written.
    """
    output = Path(output or default_output())
    given = config_path
    config_path = Path(config_path or default_config_path())
    config: BoothConfig | None = None
    problem: str | None = None
    try:
        config = load_config(config_path if given or config_path.exists() else None)
    except ConfigError as error:
        problem = str(error)
    data_dir = Path(config.data_dir) if config else default_data_dir()
    scrub = Scrubber(known_secrets(config, {data_dir, default_data_dir()}))

    report = io.StringIO()
    status = run_self_test(given, report, qt_checks=qt_checks)
    environment = environment_report(config_path, data_dir, problem)
    environment["self_test_passed"] = status == 0

    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("environment.json", scrub.text(json.dumps(environment, indent=2)))
        bundle.writestr("self-test.txt", scrub.text(report.getvalue()))
        if config_path.is_file():
            text = config_path.read_text(encoding="utf-8", errors="replace")
            bundle.writestr("config/config.toml", scrub.toml(text))
        if config is not None:
            data = json.dumps(effective_config(config), indent=2, ensure_ascii=False)
            bundle.writestr("config/effective-config.json", scrub.text(data))
        logs = data_dir / "logs"
        for log_file in sorted(logs.glob(f"{LOG_FILE}*")) if logs.is_dir() else ():
            text = log_file.read_text(encoding="utf-8", errors="replace")
            bundle.writestr(f"logs/{log_file.name}", scrub.text(text))
    return output
