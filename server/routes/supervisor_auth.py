"""``/supervisor/login`` and ``/supervisor/logout``: supervisor bearer tokens."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from server import audit
from server.accounts import find_supervisor, issue_token
from server.config import ServerSettings
from server.db import utcnow
from server.deps import DatabaseDep, SettingsDep, SupervisorCaller
from server.login_limit import (
    LoginLimits,
    clear_failures,
    failed_since_last_login,
    locked_until,
    record_failure,
    retry_after_s,
    source_of,
)
from server.models import Supervisor, SupervisorToken
from server.passwords import dummy_password_hash, verify
from server.routes.common import SUPERVISOR_RESPONSES, api_router
from server.schemas import ErrorOut, LoginIn, LoginOut

logger = logging.getLogger(__name__)

router = api_router("/supervisor", tags=["supervisor"])


@router.post(
    "/login",
    response_model=LoginOut,
    responses={
        401: {"model": ErrorOut, "description": "invalid_credentials"},
        429: {
            "model": ErrorOut,
            "description": "too_many_attempts: too many failed logins from this address; "
            "the Retry-After header gives the seconds to wait",
        },
    },
)
async def login(
    body: LoginIn, request: Request, database: DatabaseDep, settings: SettingsDep
) -> LoginOut:
    """Exchange a username and password for a bearer token and the offline PIN hash.

    Wrong password, unknown or disabled user: the same 401 ``invalid_credentials``,
    after the same scrypt work. Too many failures from this address (for this username,
    or in all): 429 ``too_many_attempts`` with ``Retry-After``, the password not checked
    (see :mod:`server.login_limit`); other addresses can still log in. Failures and
    locks are audited for accounts that exist, and a successful login tells the
    supervisor how many failures there were since their previous login. The password
    check (scrypt) runs while no connection is held.
    """
    now = utcnow()
    source = source_of(request.client.host if request.client else None)
    limits = LoginLimits(
        max_failures=settings.supervisor_login_max_failures,
        max_failures_per_source=settings.supervisor_login_max_failures_per_source,
        window_s=settings.supervisor_login_window_s,
    )

    def look_up(session: Session) -> tuple[datetime | None, str]:
        locked = locked_until(
            session, username=body.username, source=source, now=now, limits=limits
        )
        account = find_supervisor(session, body.username)
        stored = account.password_hash if account is not None else dummy_password_hash()
        return locked, stored

    locked, stored = await database.read(look_up)
    if locked is not None:
        logger.warning("supervisor login refused: too many failed attempts from %s", source)
        raise _too_many_attempts(locked, now)
    matches = await run_in_threadpool(verify, body.password, stored)

    def conclude(session: Session) -> LoginOut | None:
        supervisor = find_supervisor(session, body.username) if matches else None
        if supervisor is None or not supervisor.active:
            _count_failure(session, body.username, source=source, now=now, limits=limits)
            return None
        return _grant(session, supervisor, source=source, now=now, settings=settings)

    granted = await database.write(conclude)
    if granted is None:
        logger.warning("failed supervisor login from %s", source)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail={"code": "invalid_credentials", "message": "wrong username or password"},
        )
    logger.info("supervisor %s logged in", granted.username)
    return granted


def _grant(
    session: Session,
    supervisor: Supervisor,
    *,
    source: str,
    now: datetime,
    settings: ServerSettings,
) -> LoginOut:
    """A new token for ``supervisor``, audited and committed."""
    failed = failed_since_last_login(session, supervisor_id=supervisor.id)
    clear_failures(session, username=supervisor.username, source=source)
    granted = issue_token(
        session, supervisor=supervisor, lifetime_s=settings.supervisor_token_lifetime_s, now=now
    )
    audit.record(
        session,
        supervisor=supervisor,
        action="login",
        target=str(granted.row.id),
        after={
            "token_id": granted.row.id,
            "expires_at": granted.row.expires_at.isoformat(),
            "source": source,
            "failed_logins_before": failed.count,
        },
        now=now,
    )
    session.commit()
    return LoginOut(
        token=granted.token,
        username=supervisor.username,
        role="supervisor",
        expires_at=granted.row.expires_at,
        offline_pin_hash=supervisor.pin_hash,
        failed_logins=failed.count,
        last_failed_login_at=failed.last_at,
        last_failed_login_from=failed.last_source,
    )


def _count_failure(
    session: Session, username: str, *, source: str, now: datetime, limits: LoginLimits
) -> None:
    """Count a failed login; audit it (and the lock it starts) when the account exists."""
    failures = record_failure(
        session, username=username, source=source, now=now, window_s=limits.window_s
    )
    account = find_supervisor(session, username)
    if account is not None:
        audit.record(
            session,
            supervisor=account,
            action="login_failed",
            after={"failures_in_window": failures, "window_s": limits.window_s, "source": source},
            now=now,
        )
        if failures == limits.max_failures:
            locked = locked_until(session, username=username, source=source, now=now, limits=limits)
            audit.record(
                session,
                supervisor=account,
                action="login_locked",
                reason=(
                    f"{failures} failed logins from {source} within {limits.window_s // 60} minutes"
                ),
                before={"failures_in_window": failures - 1},
                after={
                    "failures_in_window": failures,
                    "source": source,
                    "locked_until": None if locked is None else locked.isoformat(),
                },
                now=now,
            )
    session.commit()


def _too_many_attempts(locked: datetime, now: datetime) -> HTTPException:
    wait_s = retry_after_s(locked, now)
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail={
            "code": "too_many_attempts",
            "message": "too many failed logins from this address; try again later",
            "retry_after_s": wait_s,
        },
        headers={"Retry-After": str(wait_s)},
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses={**SUPERVISOR_RESPONSES})
async def logout(caller: SupervisorCaller) -> Response:
    """Revoke the token the request was made with."""

    def work(session: Session, token: SupervisorToken) -> None:
        now = utcnow()
        token.revoked_at = now
        audit.record(
            session,
            supervisor=token.supervisor,
            action="logout",
            target=str(token.id),
            before={"token_id": token.id, "expires_at": token.expires_at.isoformat()},
            after={"token_id": token.id, "revoked_at": now.isoformat()},
            now=now,
        )
        session.commit()

    await caller.write(work)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
