"""Pieces shared by the supervisor routes: paging parameters and documented errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from server.schemas import INT32_MAX, ErrorOut

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
