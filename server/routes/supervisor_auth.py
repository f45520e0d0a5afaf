"""``/supervisor/login`` and ``/supervisor/logout``: supervisor bearer tokens."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Response, status

from server import audit
from server.accounts import authenticate, issue_token
from server.db import utcnow
from server.deps import SessionDep, SettingsDep, SupervisorTokenDep
from server.routes.common import SUPERVISOR_RESPONSES
from server.schemas import ErrorOut, LoginIn, LoginOut

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/supervisor", tags=["supervisor"])


@router.post(
    "/login",
    response_model=LoginOut,
    responses={401: {"model": ErrorOut, "description": "invalid_credentials"}},
)
def login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> LoginOut:
    """Exchange a username and password for a bearer token and the offline PIN hash.

    Wrong password, unknown or disabled user: the same 401 ``invalid_credentials``,
    after the same scrypt work.
    """
    supervisor = authenticate(session, username=body.username, password=body.password)
    if supervisor is None:
        logger.warning("failed supervisor login")
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail={"code": "invalid_credentials", "message": "wrong username or password"},
        )
    now = utcnow()
    granted = issue_token(
        session, supervisor=supervisor, lifetime_s=settings.supervisor_token_lifetime_s, now=now
    )
    audit.record(
        session,
        supervisor=supervisor,
        action="login",
        target=str(granted.row.id),
        after={"token_id": granted.row.id, "expires_at": granted.row.expires_at.isoformat()},
        now=now,
    )
    session.commit()
    logger.info("supervisor %s logged in", supervisor.username)
    return LoginOut(
        token=granted.token,
        username=supervisor.username,
        role="supervisor",
        expires_at=granted.row.expires_at,
        offline_pin_hash=supervisor.pin_hash,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses={**SUPERVISOR_RESPONSES})
def logout(token: SupervisorTokenDep, session: SessionDep) -> Response:
    """Revoke the token the request was made with."""
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
    return Response(status_code=status.HTTP_204_NO_CONTENT)
