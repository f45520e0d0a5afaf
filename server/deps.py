"""FastAPI dependencies: settings, and the caller's bearer token bound to the database.

Every dependency is ``async`` and cheap (no thread hop, no database): a route hands its
work to ``caller.read(...)`` or ``caller.write(...)``, which authenticates the token and
runs the work in one unit on a database thread (see :mod:`server.db_workers`).

Booth tokens and supervisor tokens are told apart: each kind gets 403 on the other's
endpoints (``booth_only`` / ``supervisor_only``), an unknown token 401.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from server.accounts import find_token, token_usable
from server.booths import BoothIdentity
from server.config import ServerSettings
from server.db import utcnow
from server.db_workers import DatabaseWorkers
from server.models import Booth, SupervisorToken
from server.security import hash_token

_bearer = HTTPBearer(auto_error=False, description="Booth token or supervisor token")

T = TypeVar("T")
IdentityT = TypeVar("IdentityT")


async def get_settings(request: Request) -> ServerSettings:
    """The settings the app was created with."""
    return request.app.state.settings


async def get_database(request: Request) -> DatabaseWorkers:
    """The database threads of this server process."""
    return request.app.state.database


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
DatabaseDep = Annotated[DatabaseWorkers, Depends(get_database)]
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


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The bearer token of the request; 401 when there is none."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    return credentials.credentials


_booths = Booth.__table__
#: Built once: the booth lookup runs on every booth request.
SELECT_BOOTH = select(_booths.c.id, _booths.c.name, _booths.c.lot_id).where(
    _booths.c.token_hash == bindparam("token_hash")
)


def authenticate_booth(session: Session, token: str) -> BoothIdentity:
    """The booth owning ``token``; 401 when unknown, 403 ``booth_only`` for a supervisor's."""
    token_hash = hash_token(token)
    row = session.connection().execute(SELECT_BOOTH, {"token_hash": token_hash}).first()
    if row is not None:
        return BoothIdentity(id=row.id, name=row.name, lot_id=row.lot_id)
    if session.scalar(select(exists().where(SupervisorToken.token_hash == token_hash))):
        raise _forbidden("booth_only", "this endpoint is for booths; supervisor tokens are refused")
    raise _unauthorized("unknown token")


def authenticate_supervisor(session: Session, token: str) -> SupervisorToken:
    """The supervisor login behind ``token`` (its ``supervisor`` loaded).

    401 ``unauthorized`` (unknown, or the account is disabled), 401 ``token_expired``
    (expired or logged out), 403 ``supervisor_only`` for a booth token.
    """
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


@dataclass(frozen=True)
class Caller(Generic[IdentityT]):
    """A request's bearer token and the database: ``read`` / ``write`` run
    ``work(session, identity)`` in one unit, after authenticating the token in it."""

    token: str
    database: DatabaseWorkers
    authenticate: Callable[[Session, str], IdentityT]

    async def read(self, work: Callable[[Session, IdentityT], T]) -> T:
        """Authenticate, then run read-only ``work`` (no commit)."""
        return await self.database.read(lambda session: self._call(session, work))

    async def write(self, work: Callable[[Session, IdentityT], T]) -> T:
        """Authenticate, then run ``work``, which commits what it changes."""
        return await self.database.write(lambda session: self._call(session, work))

    def _call(self, session: Session, work: Callable[[Session, IdentityT], T]) -> T:
        return work(session, self.authenticate(session, self.token))


async def booth_caller(request: Request, credentials: CredentialsDep) -> Caller[BoothIdentity]:
    """The calling booth (authenticated inside the route's unit of work)."""
    return Caller(
        token=bearer_token(credentials),
        database=request.app.state.database,
        authenticate=authenticate_booth,
    )


async def supervisor_caller(
    request: Request, credentials: CredentialsDep
) -> Caller[SupervisorToken]:
    """The calling supervisor's login (authenticated inside the route's unit of work)."""
    return Caller(
        token=bearer_token(credentials),
        database=request.app.state.database,
        authenticate=authenticate_supervisor,
    )


BoothCaller = Annotated[Caller[BoothIdentity], Depends(booth_caller)]
SupervisorCaller = Annotated[Caller[SupervisorToken], Depends(supervisor_caller)]
