"""One error shape for every answer that is not a success, and the codes every route shares.

Every error is ``{"detail": {"code": ..., "message": ..., ...}}`` (``ErrorOut``): the
request validation errors FastAPI raises (422 ``invalid_request``, with each error's
location, message and type but never the input, which may not even be JSON: a number
like 1e309 parses to infinity), the HTTP errors of routes and of Starlette (400, 404,
405, 413, ...), and the server's own conditions: 503 ``overloaded`` (too much work
queued, see :mod:`server.db_workers`) and 503 ``database_busy`` (a lock or the
database did not answer in time), both with ``Retry-After``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from server.db_workers import Overloaded
from server.schemas import ErrorOut

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_S = 2
_ERROR_LIMIT = 20

#: Answers any API route can give; routes add their own codes.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "bad_request: the body could not be read"},
    401: {"model": ErrorOut, "description": "unauthorized or token_expired: missing or bad token"},
    403: {
        "model": ErrorOut,
        "description": "booth_only / supervisor_only: the other kind of account's token",
    },
    413: {"model": ErrorOut, "description": "payload_too_large: the body is over the limit"},
    422: {"model": ErrorOut, "description": "invalid_request: the request breaks the schema"},
    503: {
        "model": ErrorOut,
        "description": "overloaded or database_busy: try again after Retry-After seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON of an error answer."""
    return {"detail": {"code": code, "message": message, **extra}}


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with an error straight through ASGI (middleware in front of FastAPI)."""
    payload = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _location(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Each error's location, message and type; inputs are left out on purpose."""
    return [
        {
            "loc": _location(error.get("loc", ())),
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()[:_ERROR_LIMIT]
    ]


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['msg']}" if where else first["msg"]
    return JSONResponse(
        status_code=422, content=error_body("invalid_request", message, errors=errors)
    )


def _code_of(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        content: dict[str, Any] = {"detail": exc.detail}
    else:
        content = error_body(_code_of(exc.status_code), str(exc.detail))
    return JSONResponse(status_code=exc.status_code, content=content, headers=exc.headers)


async def _overloaded(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Overloaded)
    logger.warning("answered 503: %s", exc)
    return JSONResponse(
        status_code=503,
        content=error_body("overloaded", f"the server is busy ({exc}); try again later"),
        headers={"Retry-After": str(exc.retry_after_s)},
    )


async def _database_busy(_request: Request, exc: Exception) -> JSONResponse:
    # Environmental (a lock held too long, the database restarting or unreachable): the
    # request may be sent again; the details go to the log, not to the caller.
    logger.warning("answered 503, database: %s", str(exc).splitlines()[0][:300])
    return JSONResponse(
        status_code=503,
        content=error_body("database_busy", "the database did not answer in time; try again"),
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


async def _invalid_value(_request: Request, exc: Exception) -> JSONResponse:
    # The schema should have refused this value: a bug in a bound, logged as one, but
    # still the caller's bad input, not a server failure.
    logger.error("a value passed validation but the database refused it", exc_info=exc)
    return JSONResponse(
        status_code=422, content=error_body("invalid_value", "a value is out of range")
    )


def install_error_handlers(app: FastAPI) -> None:
    """Give every error the one shape described in the module docstring."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Overloaded, _overloaded)
    app.add_exception_handler(OperationalError, _database_busy)
    app.add_exception_handler(PoolTimeout, _database_busy)
    app.add_exception_handler(DataError, _invalid_value)
