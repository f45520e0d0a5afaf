"""``POST /outcomes``: what happened after a notice (idempotent by ``outcome_id``)."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from server.booths import BoothIdentity
from server.deps import BoothCaller, SettingsDep
from server.outcomes import Recorded, record_outcome
from server.routes.common import api_router
from server.schemas import ErrorOut, OutcomeIn, OutcomeOut

router = api_router(tags=["outcomes"])


@router.post(
    "/outcomes",
    response_model=OutcomeOut,
    responses={
        409: {"model": OutcomeOut, "description": "already paid: nothing collected"},
        422: {
            "model": ErrorOut,
            "description": "amount_mismatch, unknown_sessions, idempotency_key_reused, "
            "waiver_not_approved, unknown_supervisor (or a validation error)",
        },
    },
)
async def post_outcome(body: OutcomeIn, caller: BoothCaller, settings: SettingsDep) -> JSONResponse:
    """Record an outcome exactly once; a replay returns the first answer and status."""

    def work(session: Session, booth: BoothIdentity) -> Recorded:
        return record_outcome(session, body=body, booth=booth, settings=settings)

    recorded = await caller.write(work)
    return JSONResponse(status_code=recorded.http_status, content=recorded.answer)
