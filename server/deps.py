"""FastAPI dependencies: database session, settings, the authenticated booth."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import ServerSettings
from server.models import Booth
from server.security import hash_token

_bearer = HTTPBearer(auto_error=False, description="Booth token")


def get_settings(request: Request) -> ServerSettings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One database session per request; rolled back if the handler did not commit."""
    with request.app.state.session_factory() as session:
        yield session


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail={"code": "unauthorized", "message": message},
        headers={"WWW-Authenticate": "Bearer"},
    )


def current_booth(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Booth:
    """The booth owning the bearer token; 401 when it is missing or unknown."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    booth = session.scalar(
        select(Booth).where(Booth.token_hash == hash_token(credentials.credentials))
    )
    if booth is None:
        raise _unauthorized("unknown token")
    return booth


BoothDep = Annotated[Booth, Depends(current_booth)]
