"""Booth configuration: a TOML file, overridden by ``RECOUP_*`` environment variables.

Precedence, strongest first: keyword arguments to :func:`load_config`, environment
variables (prefix ``RECOUP_``, ``__`` between nested names, e.g. ``RECOUP_SERVER__URL``),
the TOML file, the defaults below. Unknown keys are rejected. Secrets (the booth token)
never come from the config file; a token written there is refused so it cannot leak
through a readable file. The token comes from the environment, or, when the environment
does not set it, from the owner-only token file that the settings screen writes in the
data folder (:mod:`desktop.token_file`). Every problem is reported as a
:class:`ConfigError` whose message names the file (or environment variable), the dotted
key and the reason.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from desktop.plates import CN_PROVINCES
from desktop.redaction import redact_url
from desktop.token_file import load_token, token_path

APP_NAME = "Recoup"
ENV_PREFIX = "RECOUP_"
ENV_NESTED_DELIMITER = "__"
TOKEN_ENV_VAR = f"{ENV_PREFIX}BOOTH{ENV_NESTED_DELIMITER}TOKEN"
#: One folder for config and data (the installer's %ProgramData%\Recoup, or any other).
HOME_ENV_VAR = f"{ENV_PREFIX}HOME"

RegionName = Literal["cn", "us", "eu", "br", "generic"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class ConfigError(Exception):
    """The configuration cannot be used; the message is meant for a person.

    ``problems`` holds one line per offending key, each naming where it came from.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def machine_home() -> Path | None:
    """The one folder holding config and data, or None for the per-user folders.

    ``RECOUP_HOME`` when set; else ``%ProgramData%\\Recoup`` for the frozen app on Windows
    (the per-machine install); else None (source tree, Linux: platformdirs per user).
    """
    home = os.environ.get(HOME_ENV_VAR, "").strip()
    if home:
        return Path(home).expanduser()
    if sys.platform == "win32" and getattr(sys, "frozen", False):
        return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / APP_NAME
    return None


def default_data_dir() -> Path:
    """Data directory (database, snapshots, logs): :func:`machine_home`, else per user."""
    return machine_home() or platformdirs.user_data_path(APP_NAME, APP_NAME)


def default_config_path() -> Path:
    """The booth's config file by default: in :func:`machine_home`, else per user."""
    folder = machine_home() or platformdirs.user_config_path(APP_NAME, APP_NAME)
    return folder / "config.toml"


# ------------------------------------------------------------------------------ models


class _Section(BaseModel):
    """A config table: unknown keys are errors, values cannot change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Section):
    """How the booth reaches the operator server."""

    url: str = Field(
        default="http://127.0.0.1:8765",
        description="Base URL of the operator server (http or https), without /api/v1.",
    )
    ca_bundle: FilePath | None = Field(
        default=None,
        description="PEM file of CA certificates to trust for https, when the server's "
        "certificate is not signed by a public CA. Absolute path recommended.",
    )
    verify_tls: bool = Field(
        default=True,
        description="Check the server's TLS certificate. Turn off only for a lab test.",
    )
    connect_timeout_s: float = Field(
        default=3.0, gt=0, le=120, description="Seconds to wait for a connection."
    )
    read_timeout_s: float = Field(
        default=10.0, gt=0, le=600, description="Seconds to wait for an answer."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL, got {redact_url(value)!r}")
        if parts.username or parts.password:
            raise ValueError("must not contain credentials; the booth token authenticates")
        if parts.query or parts.fragment:
            raise ValueError("must not contain a query or fragment")
        return value.strip().rstrip("/")


class BoothIdentity(_Section):
    """Who this booth is to the server."""

    id: str = Field(
        default="booth-a",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Booth identifier known to the server (letters, digits, . _ -).",
    )
    token: SecretStr | None = Field(
        default=None,
        description=f"Bearer token of this booth. Secret: set {TOKEN_ENV_VAR} in the "
        "environment or enter it in the settings screen (kept in booth.token in the data "
        "folder), never in the file.",
    )
    attendant: str = Field(
        default="", max_length=100, description="Name of the attendant on duty, if fixed."
    )

    @field_validator("token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return value


class Lane(_Section):
    """One exit lane and the camera watching it."""

    name: str = Field(min_length=1, max_length=60, description="Lane name shown to the attendant.")
    camera: str = Field(
        min_length=1,
        description="Camera source: rtsp://..., http(s)://... (MJPEG), a video file path, "
        'or a USB camera index such as "0".',
    )
    roi: tuple[Fraction, Fraction, Fraction, Fraction] | None = Field(
        default=None,
        description="Region of interest [x, y, w, h] as fractions of the frame (0..1); "
        "omit to use the whole frame.",
    )

    @field_validator("name", "camera")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("roi", mode="before")
    @classmethod
    def _four_numbers(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) != 4:
            raise ValueError(f"expected four numbers [x, y, w, h], got {len(value)}")
        return value

    @field_validator("roi")
    @classmethod
    def _inside_frame(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is None:
            return None
        x, y, w, h = value
        if w <= 0 or h <= 0:
            raise ValueError("width and height must be greater than 0")
        if x + w > 1 or y + h > 1:
            raise ValueError("region must lie inside the frame (x + w <= 1 and y + h <= 1)")
        return value

    @property
    def capture_source(self) -> int | str:
        """What to hand to ``cv2.VideoCapture``: a USB index as int, anything else as is."""
        return int(self.camera) if self.camera.isdigit() else self.camera

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "camera" else value


class PlateSettings(_Section):
    """Plate text rules."""

    region: RegionName = Field(
        default="us",
        description="Plate format region: cn, us, eu, br or generic.",
    )
    local_province: str | None = Field(
        default=None,
        description="Chinese plates (region cn) only: the booth's own province character "
        "(e.g. 粤), given to a read whose province no recognizer could read, such as a "
        "plate whose first character is dirty or covered. Unset: such reads stay "
        "without a province.",
    )

    @field_validator("local_province")
    @classmethod
    def _one_province(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 1 or value not in CN_PROVINCES):
            raise ValueError(f"must be one Chinese province character: {CN_PROVINCES}")
        return value


class OcrSettings(_Section):
    """Local plate recognition."""

    engine: Literal["rapidocr", "easyocr"] = Field(
        default="rapidocr", description="OCR engine used to read plates."
    )


class RecoverySettings(_Section):
    """What happens when a vehicle that owes money reaches the exit."""

    exit_policy: Literal["must_pay", "remind_only"] = Field(
        default="must_pay",
        description="must_pay: the notice asks for payment before exit; remind_only: the "
        "notice informs and the vehicle may leave.",
    )
    history_deadline_s: float = Field(
        default=1.5,
        gt=0,
        le=30,
        description="Seconds to wait for the server's parking history before deciding "
        "from the local blacklist alone.",
    )
    notice_cooldown_s: float = Field(
        default=120.0,
        ge=0,
        description="Seconds before the same plate on the same lane raises another notice.",
    )


class SyncSettings(_Section):
    """Blacklist sync and outbox upload."""

    interval_s: float = Field(
        default=15.0, gt=0, le=3600, description="Seconds between sync rounds."
    )
    page_size: int = Field(
        default=500, ge=1, le=1000, description="Blacklist changes fetched per request."
    )


class SupervisorSettings(_Section):
    """What a supervisor needs at this booth."""

    pin_hash: str | None = Field(
        default=None,
        description="Hash of the supervisor PIN (make one with: python main.py hash-pin). "
        "Without it, settings and unpaid exits under must_pay cannot be unlocked.",
    )
    offline_hours: float = Field(
        default=12,
        gt=0,
        le=24 * 30,
        description="How many hours after a supervisor's last online login the booth accepts "
        "that supervisor's PIN for an offline login (when the server cannot be reached).",
    )


class DisplaySettings(_Section):
    """How the booth screen looks and sounds."""

    language: Literal["en", "zh_CN"] = Field(
        default="en", description="Language of the booth screen: en or zh_CN."
    )
    sound: bool = Field(default=True, description="Play the alert sound with each notice.")


class BoothConfig(BaseSettings):
    """Everything a booth needs to run; see ``config.example.toml`` for a commented file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    server: ServerConfig = Field(
        default_factory=ServerConfig, description="Operator server connection."
    )
    booth: BoothIdentity = Field(
        default_factory=BoothIdentity, description="This booth's identity."
    )
    lanes: tuple[Lane, ...] = Field(
        default=(),
        description="Exit lanes with cameras; none for a booth where plates are typed.",
    )
    plates: PlateSettings = Field(default_factory=PlateSettings, description="Plate rules.")
    ocr: OcrSettings = Field(default_factory=OcrSettings, description="Plate recognition.")
    recovery: RecoverySettings = Field(
        default_factory=RecoverySettings, description="Recovery notices."
    )
    sync: SyncSettings = Field(default_factory=SyncSettings, description="Server sync.")
    supervisor: SupervisorSettings = Field(
        default_factory=SupervisorSettings, description="Supervisor PIN."
    )
    display: DisplaySettings = Field(
        default_factory=DisplaySettings, description="Language and sound of the booth screen."
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the local database, snapshots and logs.",
    )
    evidence_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description=(
            "Days every plate read is kept: its pictures under data_dir/evidence and its row "
            "in the local database (a read that raised a notice is kept for good)."
        ),
    )
    log_level: LogLevel = Field(default="INFO", description="Logging threshold.")

    @field_validator("lanes")
    @classmethod
    def _unique_lane_names(cls, lanes: tuple[Lane, ...]) -> tuple[Lane, ...]:
        seen: set[str] = set()
        for lane in lanes:
            if lane.name.casefold() in seen:
                raise ValueError(f"lane name {lane.name!r} is used twice")
            seen.add(lane.name.casefold())
        return lanes

    @field_validator("data_dir")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then the TOML file being loaded."""
        path = _loading_file.get()
        if path is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, _TomlFileSource(settings_cls, path))


# ------------------------------------------------------------------------------ loading

# The file that load_config is reading; a context variable so concurrent loads in
# different threads do not see each other's file.
_loading_file: ContextVar[Path | None] = ContextVar("recoup_config_file", default=None)

_TOML_POSITION = re.compile(r"^(?P<reason>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")


class _TomlFileSource(TomlConfigSettingsSource):
    """The TOML source; syntax errors and secrets in the file raise :class:`ConfigError`."""

    def _read_file(self, file_path: Path) -> dict[str, Any]:  # type: ignore[override]
        try:
            with file_path.open("rb") as stream:
                data = tomllib.load(stream)
        except tomllib.TOMLDecodeError as exc:
            found = _TOML_POSITION.match(str(exc))
            if found is None:
                raise ConfigError([f"{file_path}: invalid TOML: {exc}"]) from None
            raise ConfigError(
                [
                    f"{file_path}: line {found['line']}, column {found['col']}: "
                    f"invalid TOML: {found['reason']}"
                ]
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError([f"{file_path}: not UTF-8 text ({exc.reason})"]) from None
        except OSError as exc:
            raise ConfigError([f"{file_path}: cannot read: {exc.strerror or exc}"]) from None
        booth = data.get("booth")
        if isinstance(booth, dict) and "token" in booth:
            raise ConfigError(
                [
                    f"{file_path}: booth.token: secrets are not read from the file; remove "
                    f"it and set the environment variable {TOKEN_ENV_VAR} instead, or enter "
                    "the token in the booth's settings"
                ]
            )
        return data


def load_config(path: Path | None = None, **overrides: Any) -> BoothConfig:
    """Load the booth configuration from ``path`` (TOML), the environment and defaults.

    ``path=None`` uses the environment and defaults only. ``overrides`` (top-level keys,
    nested values as dicts) beat everything else. When no token is set by then, the token
    file in the data folder supplies it (see :mod:`desktop.token_file`). Raises
    :class:`ConfigError` when the file is missing or malformed or any value is invalid.
    """
    if path is not None:
        path = Path(path)
        if not path.is_file():
            reason = "is not a regular file" if path.exists() else "not found"
            raise ConfigError([f"{path}: config file {reason}"])
    marker = _loading_file.set(path)
    try:
        config = BoothConfig(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, overrides)) from None
    except SettingsError as exc:
        raise _environment_error(exc) from None
    finally:
        _loading_file.reset(marker)
    return with_stored_token(config)


def validate_config(values: Mapping[str, Any]) -> BoothConfig:
    """A :class:`BoothConfig` from complete ``values`` (as the settings screen edits them).

    Applies the same validation as :func:`load_config`; values given here win over the
    environment. Raises :class:`ConfigError` whose lines read ``dotted.key: reason``
    (for example ``lanes.0.roi: region must lie inside the frame ...``).
    """
    marker = _loading_file.set(None)
    try:
        return BoothConfig(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, None, dict(values), with_origin=False)) from None
    except SettingsError as exc:
        raise _environment_error(exc) from None
    finally:
        _loading_file.reset(marker)


def with_stored_token(config: BoothConfig) -> BoothConfig:
    """``config`` with the token from the data folder's token file, if it has none yet.

    The token's value never appears in a message: a token file that cannot be read is
    reported by its path and the reason only.
    """
    if config.booth.token is not None:
        return config
    try:
        token = load_token(config.data_dir)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigError(
            [f"{token_path(config.data_dir)}: booth.token: cannot read the token file: {reason}"]
        ) from None
    if token is None:
        return config
    booth = config.booth.model_copy(update={"token": SecretStr(token)})
    return config.model_copy(update={"booth": booth})


def _environment_error(exc: SettingsError) -> ConfigError:
    # Raised by the environment source for a value it cannot parse (bad JSON).
    return ConfigError([f"environment: {exc}; lists and tables given in one variable must be JSON"])


def _describe(
    exc: ValidationError,
    path: Path | None,
    overrides: dict[str, Any],
    *,
    with_origin: bool = True,
) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        dotted = ".".join(loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            reason = "unknown key"
        elif error["type"] == "missing":
            reason = "required key is missing"
        else:
            reason = error["msg"].removeprefix("Value error, ")
            value = error.get("input")
            if isinstance(value, str | int | float | bool) and "token" not in loc:
                shown = redact_url(value) if isinstance(value, str) else value
                if f"got {shown!r}" not in reason:  # our own validators already say it
                    reason += f" (got {shown!r})"
        if with_origin:
            problems.append(f"{_origin(loc, path, overrides)}: {dotted}: {reason}")
        else:
            problems.append(f"{dotted}: {reason}")
    return problems


def _origin(loc: list[str], path: Path | None, overrides: dict[str, Any]) -> str:
    """Best guess at where a bad value came from, to name it in the message."""
    if loc and loc[0] in overrides:
        return "argument"
    names = {name.upper() for name in os.environ}
    for end in range(len(loc), 0, -1):
        candidate = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc[:end]).upper()
        if candidate in names:
            return f"environment {candidate}"
    return str(path) if path is not None else "configuration"
