"""Offline supervisor login: the PIN hash cached at the last online login, for a while.

After an online login the booth stores ``{username: {"offline_pin_hash", "cached_at"}}`` in
``supervisor_cache.json`` in its data folder (written atomically, owner-only where the
platform allows). When the server cannot be reached, :meth:`SupervisorSessionCache.offline_login`
lets a cached supervisor in with the PIN, checked by :func:`verify_pin`, but only within
``max_age_hours`` of that online login (``[supervisor] offline_hours``).

The hash is as sensitive as the PIN, so it never reaches a log line.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desktop.supervisor_pin import verify_pin

log = logging.getLogger(__name__)

CACHE_FILE = "supervisor_cache.json"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OfflineLoginRefused(Exception):  # noqa: N818 - reads as what happened
    """The offline login was refused; ``reason`` is ``unknown``, ``expired`` or ``wrong_pin``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class OfflineSupervisor:
    """A supervisor let in offline: no server token, only local powers."""

    username: str
    cached_at: datetime
    valid_until: datetime


def _key(username: str) -> str:
    # The server stores usernames trimmed and in lower case.
    return username.strip().lower()


class SupervisorSessionCache:
    """The cached PIN hashes of supervisors who logged in online at this booth."""

    def __init__(self, data_dir: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = Path(data_dir) / CACHE_FILE
        self._clock = clock
        self._lock = threading.Lock()

    def remember(self, username: str, offline_pin_hash: str) -> None:
        """Cache a supervisor's PIN hash after an online login (replaces an older one)."""
        with self._lock:
            entries = self._read()
            entries[_key(username)] = {
                "offline_pin_hash": offline_pin_hash,
                "cached_at": self._clock().astimezone(UTC).isoformat(),
            }
            self._write(entries)
        log.info("cached the offline PIN of supervisor %s", _key(username))

    def forget(self, username: str) -> None:
        """Drop a supervisor from the cache."""
        with self._lock:
            entries = self._read()
            if entries.pop(_key(username), None) is not None:
                self._write(entries)

    def cached_usernames(self) -> list[str]:
        """Supervisors with a cached PIN (expired ones included), sorted."""
        with self._lock:
            return sorted(self._read())

    def offline_login(self, username: str, pin: str, max_age_hours: float) -> OfflineSupervisor:
        """Let ``username`` in with ``pin``; raises :class:`OfflineLoginRefused` otherwise.

        Blocking (scrypt): call it off the GUI thread.
        """
        with self._lock:
            entry = self._read().get(_key(username))
        cached_at = _parse_time(entry.get("cached_at")) if entry else None
        stored = entry.get("offline_pin_hash") if entry else None
        if cached_at is None or not isinstance(stored, str):
            raise OfflineLoginRefused(
                "unknown", "this supervisor has not logged in online at this booth"
            )
        valid_until = cached_at + timedelta(hours=max_age_hours)
        if self._clock() >= valid_until:
            raise OfflineLoginRefused(
                "expired",
                f"the last online login is older than {max_age_hours:g} hours; log in online first",
            )
        if not verify_pin(pin, stored):
            log.warning("offline supervisor login refused: wrong PIN")
            raise OfflineLoginRefused("wrong_pin", "wrong PIN")
        log.info("supervisor %s logged in offline", _key(username))
        return OfflineSupervisor(_key(username), cached_at, valid_until)

    # ----------------------------------------------------------------- file

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning(
                "ignoring unreadable supervisor cache %s: %s", self.path, type(exc).__name__
            )
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(name): entry
            for name, entry in data.items()
            if isinstance(entry, dict)
            and all(isinstance(entry.get(k), str) for k in ("offline_pin_hash", "cached_at"))
        }

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".supervisor_cache.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle, indent=2, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
