"""``/payment-intents``: a booth asks for a QR payment and polls its status."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from server.config import ServerSettings
from server.db import utcnow
from server.deps import BoothDep, SessionDep, SettingsDep
from server.payment_intents import create_intent, find_intent, intent_answer
from server.schemas import ErrorOut, PaymentIntentIn, PaymentIntentOut
from server.settlement import api_error

logger = logging.getLogger(__name__)

router = APIRouter(tags=["payments"])

MAX_ATTEMPTS = 3


def _base_url(request: Request, settings: ServerSettings) -> str:
    return settings.public_url or str(request.base_url)


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
        503: {"model": ErrorOut, "description": "qr_unavailable: no payment page is served"},
    },
)
def post_payment_intent(
    body: PaymentIntentIn,
    request: Request,
    booth: BoothDep,
    session: SessionDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Create a pending QR payment intent, checked like a ``paid`` outcome.

    Idempotent by ``intent_id``: a replay answers 200 with the same intent (and its
    current status); the same id with a different body is 422 ``idempotency_key_reused``.
    """
    request_json = body.model_dump(mode="json")
    base_url = _base_url(request, settings)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        existing = find_intent(session, body.intent_id)
        if existing is not None:
            if existing.request != request_json:
                raise api_error(
                    "idempotency_key_reused",
                    "this intent_id was already used for a different payment intent",
                )
            answer = intent_answer(existing, now=utcnow(), base_url=base_url)
            return JSONResponse(status_code=status.HTTP_200_OK, content=answer)
        if not settings.sandbox_payments:
            raise api_error(
                "qr_unavailable",
                "this server has no payment page for QR payments",
                http_status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        now = utcnow()
        intent = create_intent(
            session,
            body=body,
            booth=booth,
            request_json=request_json,
            settings=settings,
            now=now,
        )
        try:
            session.commit()
        except IntegrityError:
            # The same intent_id committed concurrently: look again and replay it.
            session.rollback()
            logger.info("payment intent conflict on attempt %d; retrying", attempt)
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        logger.info(
            "payment intent %s from %s: %s %d cents",
            body.intent_id,
            booth.id,
            body.plate,
            body.amount_cents,
        )
        answer = intent_answer(intent, now=now, base_url=base_url)
        return JSONResponse(status_code=status.HTTP_201_CREATED, content=answer)
    raise AssertionError("unreachable")


@router.get(
    "/payment-intents/{intent_id}",
    response_model=PaymentIntentOut,
    responses={404: {"model": ErrorOut, "description": "unknown_payment_intent"}},
)
def get_payment_intent(
    intent_id: uuid.UUID,
    request: Request,
    _booth: BoothDep,
    session: SessionDep,
    settings: SettingsDep,
) -> JSONResponse:
    """The intent with its current status (``expired`` once past ``expires_at`` unpaid)."""
    intent = find_intent(session, intent_id)
    if intent is None:
        raise api_error(
            "unknown_payment_intent",
            f"no payment intent {intent_id}",
            http_status=status.HTTP_404_NOT_FOUND,
        )
    answer = intent_answer(intent, now=utcnow(), base_url=_base_url(request, settings))
    return JSONResponse(content=answer)
