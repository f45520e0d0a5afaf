"""QR payment from the booth core: the real reference server on 127.0.0.1, real HTTP.

The driver's phone is played by ``requests`` posting the sandbox page's form. A hostile
server checks that the booth refuses intent answers that break the contract.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from desktop.booth import BoothService
from desktop.client import MalformedResponse, ServerClient, ServerRejected
from desktop.domain import OutcomeKind, PaymentIntentStatus, PaymentMethod, RecoveryNotice
from server.cli import ServerThread
from server.models import Payment
from tests.desktop.booth_support import TOKEN, make_client, rows
from tests.desktop.hostile_server import HostileServer, echo_json, json_answer

LANE = "Exit 1"
BANNER = "SANDBOX - no real money moves"
INTENTS_PATH = "/api/v1/payment-intents"


def _notice(booth: BoothService) -> RecoveryNotice:
    notice = booth.check_plate("ABC123", LANE, source="camera")
    assert notice is not None
    assert (notice.listed_plate, notice.unpaid_cents, len(notice.sessions)) == ("ABC123", 1850, 2)
    return notice


def _driver_pays(pay_url: str) -> requests.Response:
    """What the driver's phone does: open the page, press Pay (the form's POST)."""
    with requests.Session() as phone:
        page = phone.get(pay_url, timeout=5)
        assert page.status_code == 200
        assert BANNER in page.text
        assert "ABC123" in page.text
        assert "18.50 USD" in page.text
        return phone.post(pay_url, timeout=5)


def test_qr_payment_completes_the_notice_and_clears_the_plate(
    booth: BoothService, reference_server: ServerThread
) -> None:
    notice = _notice(booth)
    booth.sync_now()
    assert booth.store.blacklist.get("ABC123") is not None

    intent = booth.start_qr_payment(notice)
    assert intent.status is PaymentIntentStatus.PENDING
    assert (intent.plate, intent.amount_cents, intent.currency) == ("ABC123", 1850, "USD")
    assert intent.pay_url.startswith(booth.client.base_url.removesuffix("/api/v1"))
    assert booth.qr_payment_status(intent.intent_id).status is PaymentIntentStatus.PENDING

    paid_page = _driver_pays(intent.pay_url)
    assert paid_page.status_code == 200
    assert "Paid" in paid_page.text

    status = booth.qr_payment_status(intent.intent_id)
    assert status.status is PaymentIntentStatus.PAID
    assert status.settled and status.final
    assert status.paid_at is not None

    outcome = booth.record_outcome(
        notice, OutcomeKind.PAID, method=PaymentMethod.QR, reference=str(intent.intent_id)
    )
    assert (outcome.amount_cents, outcome.reference) == (1850, str(intent.intent_id))
    sync = booth.sync_now()

    assert sync.online is True
    assert (sync.outbox_pending, sync.outbox_dead) == (0, 0)
    delivered = rows(booth.store, "SELECT response, dead_at FROM outbox WHERE kind = 'outcome'")
    assert len(delivered) == 1
    assert delivered[0]["dead_at"] is None
    receipt = json.loads(str(delivered[0]["response"]))
    assert (receipt["http_status"], receipt["status"]) == (200, "recorded")
    assert receipt["collected_cents"] == 1850
    assert sorted(receipt["settled_session_ids"]) == sorted(notice.session_ids)
    assert booth.store.blacklist.get("ABC123") is None
    assert booth.store.blacklist.lookup("ABC123") == []
    assert booth.client.history("ABC123").status == "clear"
    with reference_server.app.state.session_factory() as session:
        payments = session.execute(select(Payment.method, Payment.intent_id)).all()
    assert sorted(payments) == [("qr", intent.intent_id)] * 2


def test_qr_payment_of_a_debt_settled_meanwhile_is_refused(booth: BoothService) -> None:
    notice = _notice(booth)
    booth.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)
    booth.sync_now()
    with pytest.raises(ServerRejected) as refused:
        booth.start_qr_payment(notice)
    assert (refused.value.status, refused.value.code) == (409, "already_paid")


def test_unknown_intent_is_rejected_with_its_code(booth: BoothService) -> None:
    with pytest.raises(ServerRejected) as refused:
        booth.qr_payment_status(uuid.uuid4())
    assert (refused.value.status, refused.value.code) == (404, "unknown_payment_intent")


# -- a hostile server ----------------------------------------------------------------


def _intent_json(intent_id: object, **changes: object) -> dict[str, object]:
    answer: dict[str, object] = {
        "intent_id": str(intent_id),
        "status": "pending",
        "plate": "ABC123",
        "amount_cents": 1850,
        "currency": "USD",
        "pay_url": f"https://pay.example.com/sandbox/pay/{intent_id}",
        "expires_at": "2025-03-01T08:10:00+00:00",
        "paid_at": None,
    }
    answer.update(changes)
    return answer


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def client(hostile: HostileServer) -> Iterator[ServerClient]:
    with make_client(hostile.url) as created:
        yield created


def _create(client: ServerClient, intent_id: uuid.UUID):
    return client.create_payment_intent(
        intent_id=intent_id,
        notice_id=uuid.uuid4(),
        plate="abc 123",
        session_ids=[7, 9],
        amount_cents=1850,
    )


def test_create_posts_the_keyed_body_and_parses_the_intent(
    hostile: HostileServer, client: ServerClient
) -> None:
    hostile.on("POST", INTENTS_PATH, echo_json(lambda req: _intent_json(req["intent_id"]), 201))
    intent_id = uuid.uuid4()
    intent = _create(client, intent_id)
    assert (intent.intent_id, intent.status) == (intent_id, PaymentIntentStatus.PENDING)
    (seen,) = hostile.seen("POST", INTENTS_PATH)
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    body = json.loads(seen.body)
    assert body["intent_id"] == str(intent_id)
    assert (body["plate"], body["session_ids"], body["amount_cents"]) == ("abc 123", [7, 9], 1850)


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "refunded"},
        {"pay_url": "javascript:alert(1)"},
        {"pay_url": "/sandbox/pay/relative"},
        {"amount_cents": -1},
        {"expires_at": "2025-03-01T08:10:00"},
        {"status": "paid", "paid_at": None},
        {"currency": "dollars"},
    ],
)
def test_a_malformed_intent_answer_is_rejected(
    hostile: HostileServer, client: ServerClient, changes: dict
) -> None:
    intent_id = uuid.uuid4()
    hostile.on(
        "GET", f"{INTENTS_PATH}/{intent_id}", json_answer(_intent_json(intent_id, **changes))
    )
    with pytest.raises(MalformedResponse):
        client.payment_intent(intent_id)
    assert hostile.count("GET", f"{INTENTS_PATH}/{intent_id}") == 1


def test_an_intent_answer_for_another_id_plate_or_amount_is_rejected(
    hostile: HostileServer, client: ServerClient
) -> None:
    hostile.on(
        "POST",
        INTENTS_PATH,
        json_answer(_intent_json(uuid.uuid4()), 201),
        echo_json(lambda req: _intent_json(req["intent_id"], plate="XYZ789"), 201),
        echo_json(lambda req: _intent_json(req["intent_id"], amount_cents=1), 201),
    )
    for _ in range(3):
        with pytest.raises(MalformedResponse):
            _create(client, uuid.uuid4())
    intent_id = uuid.uuid4()
    hostile.on("GET", f"{INTENTS_PATH}/{intent_id}", json_answer(_intent_json(uuid.uuid4())))
    with pytest.raises(MalformedResponse, match="another intent_id"):
        client.payment_intent(intent_id)


def test_create_is_retried_because_it_is_keyed(hostile: HostileServer) -> None:
    hostile.on(
        "POST",
        INTENTS_PATH,
        json_answer({"detail": "busy"}, status=503),
        echo_json(lambda req: _intent_json(req["intent_id"]), 200),
    )
    with ServerClient(hostile.url, TOKEN, retries=1, backoff_s=0.001) as client:
        intent_id = uuid.uuid4()
        assert _create(client, intent_id).intent_id == intent_id
    first, second = hostile.seen("POST", INTENTS_PATH)
    assert first.body == second.body
