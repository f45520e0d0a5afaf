"""``POST /reads``: a booth reports a plate read (idempotent by ``read_id``)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import Response
from sqlalchemy.orm import Session

from server.booths import BoothIdentity
from server.deps import BoothCaller, SettingsDep
from server.reads import record_read
from server.routes.common import api_router
from server.schemas import ErrorOut, ReadIn, ReadOut

logger = logging.getLogger(__name__)

router = api_router(tags=["reads"])


@router.post(
    "/reads",
    response_model=ReadOut,
    responses={
        422: {
            "model": ErrorOut,
            "description": "idempotency_key_reused: this read_id was sent by another booth "
            "or with another plate (or a validation error)",
        }
    },
)
async def post_read(body: ReadIn, caller: BoothCaller, settings: SettingsDep) -> Response:
    """Look the plate up; an owing plate is put on (or refreshed in) the blacklist.

    ``owes`` is true only when a notice should be raised (entry status ``active``). A
    replay of a ``read_id`` by the same booth returns the first answer and changes
    nothing.
    """

    def work(session: Session, booth: BoothIdentity) -> dict[str, Any]:
        return record_read(
            session,
            body=body,
            booth=booth,
            currency=settings.currency,
            keep=settings.change_log_keep,
        )

    return Response(orjson.dumps(await caller.write(work)), media_type="application/json")
