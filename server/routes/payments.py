"""``/payment-intents``: a booth asks for a QR payment and polls its status.

Only the booth that created an intent sees it. Its ``pay_url`` (the link in the
driver's QR code) is built from the configured ``public_url`` only, never from the
request, so a forged ``Host`` header cannot send a driver elsewhere; without it QR
payments are refused (503 ``qr_unavailable``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from server.booths import BoothIdentity
from server.config import ServerSettings
from server.deps import BoothCaller, SettingsDep
from server.payment_intents import create_intent, find_intent, intent_answer
from server.routes.common import BOOTH_ONLY, api_router
from server.schemas import ErrorOut, PaymentIntentIn, PaymentIntentOut
from server.settlement import api_error

logger = logging.getLogger(__name__)

router = api_router(tags=["payments"], responses=BOOTH_ONLY)

UNKNOWN = {404: {"model": ErrorOut, "description": "unknown_payment_intent"}}


def _public_url(settings: ServerSettings) -> str:
    if not settings.sandbox_payments:
        raise api_error(
            "qr_unavailable",
            "this server has no payment page for QR payments",
            http_status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if settings.public_url is None:
        raise api_error(
            "qr_unavailable",
            "QR payments are off: the server's public_url (the address a driver's phone "
            "opens) is not configured",
            http_status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return settings.public_url


@router.post(
    "/payment-intents",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentIntentOut,
    responses={
        200: {"model": PaymentIntentOut, "description": "replay: the intent already exists"},
        409: {"model": ErrorOut, "description": "already_paid: a session is already settled"},
        422: {
            "model": ErrorOut,
            "description": "unknown_sessions, amount_mismatch, idempotency_key_reused "
            "(or a validation error)",
        },
        503: {
            "model": ErrorOut,
            "description": "qr_unavailable: no payment page or no public_url; "
            "overloaded: try again after Retry-After",
        },
    },
)
async def post_payment_intent(
    body: PaymentIntentIn, caller: BoothCaller, settings: SettingsDep
) -> JSONResponse:
    """Create a pending QR payment intent, checked like a ``paid`` outcome.

    Idempotent by ``intent_id``: a replay answers 200 with the same intent (and its
    current status); the same id with a different body, or another booth's id, is 422
    ``idempotency_key_reused``.
    """
    base_url = _public_url(settings)

    def work(session: Session, booth: BoothIdentity) -> tuple[int, dict[str, Any]]:
        return create_intent(session, body=body, booth=booth, settings=settings, base_url=base_url)

    http_status, answer = await caller.write(work)
    return JSONResponse(status_code=http_status, content=answer)


@router.get(
    "/payment-intents/{intent_id}",
    response_model=PaymentIntentOut,
    responses={**UNKNOWN, 503: {"model": ErrorOut, "description": "qr_unavailable"}},
)
async def get_payment_intent(
    intent_id: uuid.UUID, caller: BoothCaller, settings: SettingsDep
) -> JSONResponse:
    """The intent with its current status (``expired`` once past ``expires_at`` unpaid).

    Another booth's intent is unknown here (404), as if it did not exist.
    """
    base_url = _public_url(settings)

    def work(session: Session, booth: BoothIdentity) -> dict[str, Any]:
        intent = find_intent(session, intent_id)
        if intent is None or intent.booth_id != booth.id:
            raise api_error(
                "unknown_payment_intent",
                f"no payment intent {intent_id}",
                http_status=status.HTTP_404_NOT_FOUND,
            )
        return intent_answer(intent, base_url=base_url)

    return JSONResponse(content=await caller.read(work))
