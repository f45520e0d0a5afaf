"""Pieces shared by the supervisor routes: paging parameters and documented errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from server.errors import COMMON_RESPONSES
from server.schemas import INT32_MAX, ErrorOut

API_PREFIX = "/api/v1"

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX, description="rows to skip")]
#: A plate in a path or a query: bounded before it is normalized.
PlateParam = Annotated[str, Path(min_length=1, max_length=64, description="a plate")]

SUPERVISOR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "unauthorized or token_expired: log in again"},
    403: {"model": ErrorOut, "description": "supervisor_only: a booth token was sent"},
}
BOOTH_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "booth_only: a supervisor token was sent"},
}


def api_router(
    prefix: str = "", *, responses: dict[int | str, dict[str, Any]] | None = None, **options: Any
) -> APIRouter:
    """A router of ``/api/v1`` routes documenting the errors every route can answer.

    Its routes carry their full path, so the app adds them as they are
    (``app.router.routes``): each level of included routers is walked again on every
    request, which a hub answering hundreds of booths a second does not pay.
    """
    return APIRouter(
        prefix=API_PREFIX + prefix, responses={**COMMON_RESPONSES, **(responses or {})}, **options
    )
