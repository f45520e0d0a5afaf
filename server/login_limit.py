"""The supervisor login rate limit, by where the attempts come from.

Failed logins are counted per (username, source address) and per source address. A
source that fails ``max_failures`` times for one username within the window is refused
for that username (429 with ``Retry-After``), and one that fails
``max_failures_per_source`` times in all is refused for every username; attempts from
anywhere else go on, so a stranger can lock out only the stranger, never the supervisor
at the booth. Unknown usernames count the same way, so the answers say nothing about
which accounts exist. The rows live in the database: every server process sees them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.accounts import USERNAME_MAX, normalize_username
from server.models import AuditEntry, LoginFailure

SOURCE_MAX = 64


@dataclass(frozen=True)
class LoginLimits:
    """How many failures lock a (username, source) pair, and a source, within the window."""

    max_failures: int
    max_failures_per_source: int
    window_s: int


@dataclass(frozen=True)
class FailedLogins:
    """Failed logins of an account since its previous successful login."""

    count: int
    last_at: datetime | None
    last_source: str | None


def source_of(host: str | None) -> str:
    """The stored form of a client address (``unknown`` when the server was not told)."""
    return (host or "unknown")[:SOURCE_MAX]


def _unlocks_at(times: list[datetime], limit: int, window_s: int) -> datetime | None:
    """When the oldest of the last ``limit`` failures leaves the window, if there are that many."""
    if len(times) < limit:
        return None
    return times[len(times) - limit] + timedelta(seconds=window_s)


def locked_until(
    session: Session, *, username: str, source: str, now: datetime, limits: LoginLimits
) -> datetime | None:
    """When ``source`` may try ``username`` again, or None when it may try now."""
    since = now - timedelta(seconds=limits.window_s)
    recent = select(LoginFailure.at).where(LoginFailure.source == source, LoginFailure.at > since)
    pair = list(
        session.scalars(
            recent.where(LoginFailure.username == normalize_username(username)).order_by(
                LoginFailure.at
            )
        )
    )
    from_source = list(session.scalars(recent.order_by(LoginFailure.at)))
    ends = [
        end
        for end in (
            _unlocks_at(pair, limits.max_failures, limits.window_s),
            _unlocks_at(from_source, limits.max_failures_per_source, limits.window_s),
        )
        if end is not None
    ]
    return max(ends, default=None)


def record_failure(
    session: Session, *, username: str, source: str, now: datetime, window_s: int
) -> int:
    """Count one failed login of ``username`` from ``source`` (rows that left the window
    are pruned); returns that pair's failures within the window. The caller commits."""
    name = normalize_username(username)[:USERNAME_MAX]
    since = now - timedelta(seconds=window_s)
    session.execute(
        delete(LoginFailure).where(LoginFailure.username == name, LoginFailure.at <= since)
    )
    session.execute(
        delete(LoginFailure).where(LoginFailure.source == source, LoginFailure.at <= since)
    )
    session.add(LoginFailure(username=name, source=source, at=now))
    session.flush()
    return int(
        session.scalar(
            select(func.count()).where(
                LoginFailure.username == name,
                LoginFailure.source == source,
                LoginFailure.at > since,
            )
        )
        or 0
    )


def clear_failures(session: Session, *, username: str, source: str) -> None:
    """A successful login from ``source`` starts that source's count afresh (the failures
    of other sources stay: a stranger's count is not reset by the real user)."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username == normalize_username(username), LoginFailure.source == source
        )
    )


def failed_since_last_login(session: Session, *, supervisor_id: int) -> FailedLogins:
    """The account's audited failed logins since its previous successful login."""
    last_login = session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.supervisor_id == supervisor_id, AuditEntry.action == "login"
        )
    )
    failures = select(AuditEntry).where(
        AuditEntry.supervisor_id == supervisor_id, AuditEntry.action == "login_failed"
    )
    if last_login is not None:
        failures = failures.where(AuditEntry.at > last_login)
    count = int(session.scalar(select(func.count()).select_from(failures.subquery())) or 0)
    last = session.scalar(failures.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1))
    source = None if last is None else (last.after or {}).get("source")
    return FailedLogins(count=count, last_at=None if last is None else last.at, last_source=source)


def retry_after_s(locked: datetime, now: datetime) -> int:
    """Whole seconds until ``locked`` ends (at least 1), for a Retry-After header."""
    return max(1, math.ceil((locked - now).total_seconds()))
