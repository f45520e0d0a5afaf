"""Supervisor accounts: creation, password login, bearer tokens (stored as SHA-256)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import utcnow
from server.models import Supervisor, SupervisorToken
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


def find_supervisor(session: Session, username: str) -> Supervisor | None:
    """The account named ``username`` (normalized), active or not, or None."""
    return session.scalar(
        select(Supervisor).where(Supervisor.username == normalize_username(username))
    )
