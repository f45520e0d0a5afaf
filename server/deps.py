"""FastAPI dependencies: database session, settings, the authenticated booth or supervisor.

Booth tokens and supervisor tokens are told apart: each kind gets 403 on the other's
endpoints (``booth_only`` / ``supervisor_only``), an unknown token 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.accounts import find_token, token_usable
from server.config import ServerSettings
from server.db import utcnow
from server.models import Booth, Supervisor, SupervisorToken
from server.security import hash_token

_bearer = HTTPBearer(auto_error=False, description="Booth token or supervisor token")


def get_settings(request: Request) -> ServerSettings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request; rolled back if the handler did not commit."""
    with request.app.state.session_factory() as session:
        yield session


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorized(message: str, code: str = "unauthorized") -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail={"code": code, "message": message},
        headers={"WWW-Authenticate": "Bearer"},
    )


def _forbidden(code: str, message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_403_FORBIDDEN, detail={"code": code, "message": message}
    )


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    return credentials.credentials


def current_booth(session: SessionDep, credentials: CredentialsDep) -> Booth:
    """The booth owning the bearer token; 401 when missing or unknown, 403 for a supervisor."""
    token_hash = hash_token(_bearer_token(credentials))
    booth = session.scalar(select(Booth).where(Booth.token_hash == token_hash))
    if booth is not None:
        return booth
    if session.scalar(select(exists().where(SupervisorToken.token_hash == token_hash))):
        raise _forbidden("booth_only", "this endpoint is for booths; supervisor tokens are refused")
    raise _unauthorized("unknown token")


BoothDep = Annotated[Booth, Depends(current_booth)]


def current_supervisor_token(session: SessionDep, credentials: CredentialsDep) -> SupervisorToken:
    """The supervisor login behind the bearer token.

    401 ``unauthorized`` (missing, unknown, or the account is disabled), 401
    ``token_expired`` (expired or logged out), 403 ``supervisor_only`` for a booth token.
    """
    token = _bearer_token(credentials)
    row = find_token(session, token)
    if row is None:
        if session.scalar(select(exists().where(Booth.token_hash == hash_token(token)))):
            raise _forbidden("supervisor_only", "this endpoint is for supervisors only")
        raise _unauthorized("unknown token")
    if not token_usable(row, utcnow()):
        raise _unauthorized("token expired or logged out; log in again", "token_expired")
    if not row.supervisor.active:
        raise _unauthorized("account disabled")
    return row


SupervisorTokenDep = Annotated[SupervisorToken, Depends(current_supervisor_token)]


def current_supervisor(token: SupervisorTokenDep) -> Supervisor:
    """The supervisor behind the bearer token (see ``current_supervisor_token``)."""
    return token.supervisor


SupervisorDep = Annotated[Supervisor, Depends(current_supervisor)]
