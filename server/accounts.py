"""Supervisor accounts: creation, password login, bearer tokens (stored as SHA-256)."""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.db import utcnow
from server.models import LoginFailure, Supervisor, SupervisorToken
from server.passwords import hash_password, hash_pin
from server.security import hash_token

logger = logging.getLogger(__name__)

USERNAME_MAX = 64


@dataclass(frozen=True)
class Login:
    """A successful login: the plain token (shown once) and its stored row."""

    token: str
    row: SupervisorToken


def normalize_username(username: str) -> str:
    """Usernames are compared trimmed and lower-case."""
    return username.strip().lower()


def create_supervisor_account(
    session: Session,
    *,
    username: str,
    password: str,
    pin: str,
    password_hash: str | None = None,
    pin_hash: str | None = None,
) -> Supervisor:
    """Add an active supervisor (the caller commits); ValueError for bad input or a taken name.

    ``password_hash`` / ``pin_hash`` skip hashing when already computed (demo seed).
    """
    name = normalize_username(username)
    if not name or len(name) > USERNAME_MAX or not name.isprintable() or " " in name:
        raise ValueError(f"a username is 1 to {USERNAME_MAX} printable characters, no spaces")
    if session.scalar(select(Supervisor).where(Supervisor.username == name)) is not None:
        raise ValueError(f"supervisor {name!r} already exists")
    supervisor = Supervisor(
        username=name,
        password_hash=password_hash or hash_password(password),
        pin_hash=pin_hash or hash_pin(pin),
        role="supervisor",
        active=True,
    )
    session.add(supervisor)
    session.flush()
    logger.info("supervisor %s created", name)
    return supervisor


def issue_token(
    session: Session, *, supervisor: Supervisor, lifetime_s: int, now: datetime | None = None
) -> Login:
    """A new random bearer token for ``supervisor``, valid ``lifetime_s`` seconds."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = SupervisorToken(
        supervisor=supervisor,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime_s),
    )
    session.add(row)
    session.flush()
    return Login(token=token, row=row)


def find_token(session: Session, token: str) -> SupervisorToken | None:
    """The stored login of a plain bearer token, or None."""
    return session.scalar(
        select(SupervisorToken).where(SupervisorToken.token_hash == hash_token(token))
    )


def token_usable(row: SupervisorToken, now: datetime) -> bool:
    """True while the token is neither revoked nor expired."""
    return row.revoked_at is None and now < row.expires_at


# -------------------------------------------------------------------- login rate limit


def find_supervisor(session: Session, username: str) -> Supervisor | None:
    """The account named ``username`` (normalized), active or not, or None."""
    return session.scalar(
        select(Supervisor).where(Supervisor.username == normalize_username(username))
    )


def login_locked_until(
    session: Session, *, username: str, now: datetime, max_failures: int, window_s: int
) -> datetime | None:
    """When ``username`` may try again, or None when it may try now.

    Locked while at least ``max_failures`` failed logins lie within the last
    ``window_s`` seconds; the lock ends when enough of them have aged out.
    """
    since = now - timedelta(seconds=window_s)
    times = list(
        session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.username == normalize_username(username), LoginFailure.at > since)
            .order_by(LoginFailure.at)
        )
    )
    if len(times) < max_failures:
        return None
    return times[len(times) - max_failures] + timedelta(seconds=window_s)


def record_login_failure(session: Session, *, username: str, now: datetime, window_s: int) -> int:
    """Count one failed login of ``username`` (older ones outside the window are pruned);
    returns the failures now within the window. The caller commits."""
    name = normalize_username(username)[:USERNAME_MAX]
    since = now - timedelta(seconds=window_s)
    session.execute(
        delete(LoginFailure).where(LoginFailure.username == name, LoginFailure.at <= since)
    )
    session.add(LoginFailure(username=name, at=now))
    session.flush()
    return len(
        list(
            session.scalars(
                select(LoginFailure.id).where(
                    LoginFailure.username == name, LoginFailure.at > since
                )
            )
        )
    )


def clear_login_failures(session: Session, *, username: str) -> None:
    """A successful login starts the count afresh. The caller commits."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.username == normalize_username(username))
    )


def retry_after_s(locked_until: datetime, now: datetime) -> int:
    """Whole seconds until ``locked_until`` (at least 1), for a Retry-After header."""
    return max(1, math.ceil((locked_until - now).total_seconds()))
