"""Pieces shared by the supervisor routes: paging parameters and documented errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from server.schemas import ErrorOut

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, description="rows to skip")]

SUPERVISOR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "unauthorized or token_expired: log in again"},
    403: {"model": ErrorOut, "description": "supervisor_only: a booth token was sent"},
}
BOOTH_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "booth_only: a supervisor token was sent"},
}
