"""The SANDBOX payment page a driver's phone opens from the QR code (no real money moves).

No authentication: the intent id in the URL is the capability, as with a payment
provider's checkout link. Mounted only when ``sandbox_payments`` is on (else 404).
"""

from __future__ import annotations

import html
import logging
import uuid
from datetime import datetime

from fastapi import APIRouter, status
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db import utcnow
from server.deps import DatabaseDep, SettingsDep
from server.models import PaymentIntent
from server.payment_intents import (
    SANDBOX_PAY_PATH,
    PayResult,
    current_status,
    find_intent,
    pay_intent,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["sandbox"], include_in_schema=False)

BANNER = "SANDBOX - no real money moves"
MAX_ATTEMPTS = 3

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f4; color: #111; }
.banner { background: #b00020; color: #fff; font-weight: 700; font-size: 1.2rem;
          text-align: center; padding: 0.9rem; letter-spacing: 0.03em; }
main { max-width: 28rem; margin: 1.5rem auto; padding: 1.2rem; background: #fff;
       border-radius: 0.5rem; }
.amount { font-size: 2.2rem; font-weight: 700; margin: 0.4rem 0; }
.plate { font-family: monospace; font-size: 1.4rem; }
button { width: 100%; padding: 1rem; font-size: 1.3rem; border: 0; border-radius: 0.4rem;
         background: #1565c0; color: #fff; }
.state { font-size: 1.5rem; font-weight: 700; }
"""


def _money(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency}"


def _page(title: str, body: str, *, http_status: int = status.HTTP_200_OK) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)} ({BANNER})</title><style>{_STYLE}</style></head>
<body><div class="banner" role="alert">{BANNER}</div>
<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return HTMLResponse(document, status_code=http_status, headers={"Cache-Control": "no-store"})


def _details(intent: PaymentIntent) -> str:
    return (
        f'<p>Parking fees for plate <span class="plate">{html.escape(intent.plate)}</span></p>'
        f'<p class="amount">{html.escape(_money(intent.amount_cents, intent.currency))}</p>'
    )


def _expiry(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _unknown() -> HTMLResponse:
    return _page(
        "Unknown payment",
        "<p>This payment request does not exist. Ask the attendant for a new QR code.</p>",
        http_status=status.HTTP_404_NOT_FOUND,
    )


def _parse(intent_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(intent_id)
    except ValueError:
        return None


def _status_page(intent: PaymentIntent, state: str) -> HTMLResponse:
    if state == "paid":
        return _page("Paid", _details(intent) + '<p class="state">Paid. Thank you.</p>')
    if state == "expired":
        return _page(
            "Payment request expired",
            _details(intent) + '<p class="state">This payment request has expired.</p>'
            "<p>Nothing was charged. Ask the attendant for a new QR code.</p>",
            http_status=status.HTTP_409_CONFLICT,
        )
    return _page(
        "Payment request cancelled",
        _details(intent) + '<p class="state">This payment request is no longer valid.</p>'
        "<p>These fees were settled another way; nothing was charged.</p>",
        http_status=status.HTTP_409_CONFLICT,
    )


@router.get(SANDBOX_PAY_PATH, response_class=HTMLResponse, name="sandbox_pay_page")
async def sandbox_pay_page(intent_id: str, database: DatabaseDep) -> HTMLResponse:
    """The page behind the QR code: plate, amount and a Pay button while pending."""
    parsed = _parse(intent_id)
    if parsed is None:
        return _unknown()
    intent = await database.read(lambda session: find_intent(session, parsed))
    if intent is None:
        return _unknown()
    state = current_status(intent, utcnow())
    if state != "pending":
        return _status_page(intent, state)
    action = html.escape(SANDBOX_PAY_PATH.format(intent_id=intent.intent_id))
    form = (
        f'<form method="post" action="{action}">'
        f'<button type="submit">Pay {html.escape(_money(intent.amount_cents, intent.currency))}'
        "</button></form>"
        f"<p>This request expires at {_expiry(intent.expires_at)}.</p>"
    )
    return _page("Pay parking fees", _details(intent) + form)


@router.post(SANDBOX_PAY_PATH, response_class=HTMLResponse)
async def sandbox_pay(intent_id: str, database: DatabaseDep, settings: SettingsDep) -> HTMLResponse:
    """Pay the intent: settle its sessions exactly once, then show the result."""
    parsed = _parse(intent_id)
    if parsed is None:
        return _unknown()

    def work(session: Session) -> tuple[PayResult, PaymentIntent | None]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            result, intent = pay_intent(session, intent_id=parsed, settings=settings, now=utcnow())
            try:
                session.commit()
            except IntegrityError:
                # A concurrent payment of one of the sessions won (UNIQUE(session_id)).
                session.rollback()
                logger.info("sandbox payment conflict on attempt %d; retrying", attempt)
                if attempt == MAX_ATTEMPTS:
                    raise
                continue
            return result, intent
        raise AssertionError("unreachable")

    result, intent = await database.write(work)
    if intent is None or result is PayResult.UNKNOWN:
        return _unknown()
    if result in (PayResult.PAID, PayResult.ALREADY_PAID):
        return _status_page(intent, "paid")
    if result is PayResult.EXPIRED:
        return _status_page(intent, "expired")
    return _status_page(intent, "cancelled")
