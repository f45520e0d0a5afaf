"""QR payment intents: create, replay, status, expiry, the sandbox page, paying exactly once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Uuid, bindparam, func, select, text

from server.app import create_app
from server.cli import ServerThread
from server.config import ServerSettings
from server.db import make_engine
from server.models import Outcome, Payment
from server.seed import seed_demo
from tests.server.conftest import TOKEN_A
from tests.server.helpers import API, all_changes, history, outcome_body, read_body, unpaid_ids
from tests.server.migration_support import migrate

BANNER = "SANDBOX - no real money moves"


def intent_body(plate: str, session_ids: list[int], amount_cents: int, **overrides: Any) -> dict:
    """A payment intent body with a fresh intent_id."""
    body = {
        "intent_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": plate,
        "session_ids": session_ids,
        "amount_cents": amount_cents,
    }
    body.update(overrides)
    return body


def _create(client: TestClient, headers: dict, body: dict) -> dict:
    response = client.post(f"{API}/payment-intents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _abc_intent(client: TestClient, headers: dict) -> dict:
    """A pending intent for all of ABC123's debt (1850 cents over two sessions)."""
    return _create(
        client, headers, intent_body("ABC123", unpaid_ids(client, headers, "ABC123"), 1850)
    )


def _payments(app: FastAPI) -> list[tuple[int, str, uuid.UUID | None, uuid.UUID | None]]:
    with app.state.session_factory() as session:
        rows = session.execute(
            select(Payment.session_id, Payment.method, Payment.outcome_id, Payment.intent_id)
        ).all()
    return sorted(tuple(row) for row in rows)  # type: ignore[misc]


def _pay(client: TestClient, intent_id: str):
    return client.post(f"/sandbox/pay/{intent_id}")


@contextmanager
def _served(settings: ServerSettings, **changes: Any) -> Iterator[tuple[FastAPI, TestClient]]:
    """The seeded app with some settings changed, and its client."""
    app = create_app(settings.model_copy(update=changes))
    with app.state.session_factory() as session:
        seed_demo(session, currency=settings.currency)
    try:
        with TestClient(app) as client:
            yield app, client
    finally:
        app.state.engine.dispose()


# -- the API -----------------------------------------------------------------------


def test_create_answers_201_with_a_pending_intent(client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = intent_body("abc-123", ids, 1850)
    before = datetime.fromisoformat(client.get(f"{API}/ping", headers=auth_a).json()["server_time"])
    answer = _create(client, auth_a, body)
    assert answer["intent_id"] == body["intent_id"]
    assert (answer["status"], answer["plate"], answer["amount_cents"]) == (
        "pending",
        "ABC123",
        1850,
    )
    assert answer["currency"] == "USD"
    assert answer["pay_url"] == f"http://testserver/sandbox/pay/{body['intent_id']}"
    assert answer["paid_at"] is None
    lifetime = datetime.fromisoformat(answer["expires_at"]) - before
    assert timedelta(minutes=10) <= lifetime < timedelta(minutes=11)


def test_replay_returns_the_first_answer_and_a_changed_body_is_refused(
    client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = intent_body("ABC123", ids, 1850)
    first = _create(client, auth_a, body)
    again = client.post(f"{API}/payment-intents", json=body, headers=auth_a)
    assert (again.status_code, again.json()) == (200, first)
    changed = {**body, "session_ids": ids[:1], "amount_cents": 1200}
    refused = client.post(f"{API}/payment-intents", json=changed, headers=auth_a)
    assert refused.status_code == 422
    assert refused.json()["detail"]["code"] == "idempotency_key_reused"


def test_validated_like_a_paid_outcome(client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    other = unpaid_ids(client, auth_a, "7XYZ042")
    for bad_ids in (other, [999_999]):
        response = client.post(
            f"{API}/payment-intents", json=intent_body("ABC123", bad_ids, 3400), headers=auth_a
        )
        assert response.status_code == 422
        assert response.json()["detail"]["code"] == "unknown_sessions"
    response = client.post(
        f"{API}/payment-intents", json=intent_body("ABC123", ids, 1800), headers=auth_a
    )
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "amount_mismatch"
    assert response.json()["detail"]["expected_cents"] == 1850
    for body in (
        intent_body("ABC123", [], 0),
        intent_body("ABC123", [ids[0], ids[0]], 2400),
        intent_body("ABC123", ids, 1850, method="qr"),
        intent_body("ABC123", ids, -5),
    ):
        assert client.post(f"{API}/payment-intents", json=body, headers=auth_a).status_code == 422
    # Settled sessions: 409 already_paid, as a second payment would get.
    paid = client.post(f"{API}/outcomes", json=outcome_body("ABC123", ids, 1850), headers=auth_a)
    assert paid.status_code == 200
    response = client.post(
        f"{API}/payment-intents", json=intent_body("ABC123", ids, 1850), headers=auth_a
    )
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "already_paid"
    assert sorted(response.json()["detail"]["session_ids"]) == sorted(ids)


def test_status_of_an_intent_and_of_an_unknown_id(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    created = _abc_intent(client, auth_a)
    response = client.get(f"{API}/payment-intents/{created['intent_id']}", headers=auth_a)
    assert (response.status_code, response.json()) == (200, created)
    # Another booth cannot read it: to booth B it does not exist.
    other = client.get(f"{API}/payment-intents/{created['intent_id']}", headers=auth_b)
    assert other.status_code == 404
    assert other.json()["detail"]["code"] == "unknown_payment_intent"
    assert "ABC123" not in other.text
    unknown = client.get(f"{API}/payment-intents/{uuid.uuid4()}", headers=auth_a)
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == "unknown_payment_intent"


def test_booth_token_needed_on_the_api_but_not_on_the_sandbox_page(
    client: TestClient, auth_a: dict
) -> None:
    created = _abc_intent(client, auth_a)
    ids = unpaid_ids(client, auth_a, "ABC123")
    wrong = {"Authorization": "Bearer not-a-booth"}
    for headers in ({}, wrong):
        post = client.post(
            f"{API}/payment-intents", json=intent_body("ABC123", ids, 1850), headers=headers
        )
        get = client.get(f"{API}/payment-intents/{created['intent_id']}", headers=headers)
        assert (post.status_code, get.status_code) == (401, 401)
        assert post.headers["WWW-Authenticate"] == "Bearer"
    assert client.get(f"/sandbox/pay/{created['intent_id']}").status_code == 200


def test_openapi_lists_the_intent_paths_but_not_the_sandbox(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/payment-intents", "/api/v1/payment-intents/{intent_id}"} <= set(paths)
    assert {"409", "422"} <= set(paths["/api/v1/payment-intents"]["post"]["responses"])
    assert not any(path.startswith("/sandbox") for path in paths)


def test_pay_url_uses_the_public_url_setting(settings: ServerSettings, auth_a: dict) -> None:
    with _served(settings, public_url="https://pay.example.com/recoup") as (_app, client):
        answer = _abc_intent(client, auth_a)
    assert answer["pay_url"] == f"https://pay.example.com/recoup/sandbox/pay/{answer['intent_id']}"


# -- expiry ------------------------------------------------------------------------


def test_an_expired_intent_reads_expired_and_cannot_be_paid(
    settings: ServerSettings, auth_a: dict
) -> None:
    with _served(settings, payment_intent_lifetime_s=0) as (app, client):
        created = _abc_intent(client, auth_a)
        assert created["expires_at"] is not None
        status = client.get(f"{API}/payment-intents/{created['intent_id']}", headers=auth_a)
        assert status.json()["status"] == "expired"
        page = client.get(f"/sandbox/pay/{created['intent_id']}")
        assert BANNER in page.text
        assert "expired" in page.text
        assert "<form" not in page.text
        paid = _pay(client, created["intent_id"])
        assert paid.status_code == 409
        assert "expired" in paid.text
        assert "Nothing was charged" in paid.text
        assert _payments(app) == []
        assert history(client, auth_a, "ABC123")["unpaid_cents"] == 1850


# -- the sandbox page and paying ---------------------------------------------------


def test_sandbox_page_shows_banner_plate_amount_and_pay_button(
    client: TestClient, auth_a: dict
) -> None:
    created = _abc_intent(client, auth_a)
    page = client.get(f"/sandbox/pay/{created['intent_id']}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert '<div class="banner" role="alert">SANDBOX - no real money moves</div>' in text
    assert "ABC123" in text
    assert "18.50 USD" in text
    assert f'<form method="post" action="/sandbox/pay/{created["intent_id"]}">' in text
    assert "Pay 18.50 USD</button>" in text
    assert 'name="viewport"' in text


def test_sandbox_page_of_an_unknown_or_malformed_id_is_404(client: TestClient) -> None:
    for intent_id in (str(uuid.uuid4()), "not-a-uuid"):
        for response in (client.get(f"/sandbox/pay/{intent_id}"), _pay(client, intent_id)):
            assert response.status_code == 404
            assert BANNER in response.text
            assert "does not exist" in response.text


def test_paying_settles_the_sessions_and_removes_the_entry(
    app: FastAPI, client: TestClient, auth_a: dict
) -> None:
    assert client.post(f"{API}/reads", json=read_body("ABC123"), headers=auth_a).json()["owes"]
    ids = unpaid_ids(client, auth_a, "ABC123")
    created = _abc_intent(client, auth_a)
    intent_id = uuid.UUID(created["intent_id"])
    since = all_changes(client, auth_a)[-1]["seq"]
    paid = _pay(client, created["intent_id"])
    assert paid.status_code == 200
    assert "<h1>Paid</h1>" in paid.text
    assert BANNER in paid.text
    status = client.get(f"{API}/payment-intents/{intent_id}", headers=auth_a).json()
    assert status["status"] == "paid"
    assert status["paid_at"] is not None
    assert _payments(app) == sorted((i, "qr", None, intent_id) for i in ids)
    data = history(client, auth_a, "ABC123")
    assert (data["status"], data["unpaid_cents"], data["blacklisted"]) == ("clear", 0, False)
    changes = all_changes(client, auth_a, since=since)
    assert [(c["plate"], c["action"], c["entry"]) for c in changes] == [("ABC123", "remove", None)]
    # The page now shows it paid, without a button.
    page = client.get(f"/sandbox/pay/{intent_id}")
    assert "<h1>Paid</h1>" in page.text
    assert "<form" not in page.text


def test_partial_intent_upserts_the_rest(client: TestClient, auth_a: dict) -> None:
    sessions = history(client, auth_a, "ABC123")["sessions"]
    first = next(s for s in sessions if s["unpaid_cents"] == 1200)
    created = _create(client, auth_a, intent_body("ABC123", [first["id"]], 1200))
    assert _pay(client, created["intent_id"]).status_code == 200
    last = all_changes(client, auth_a)[-1]
    assert (last["plate"], last["action"]) == ("ABC123", "upsert")
    assert last["entry"]["unpaid_cents"] == 650


def test_paying_twice_settles_once(app: FastAPI, client: TestClient, auth_a: dict) -> None:
    created = _abc_intent(client, auth_a)
    assert _pay(client, created["intent_id"]).status_code == 200
    payments = _payments(app)
    changes = len(all_changes(client, auth_a))
    again = _pay(client, created["intent_id"])
    assert again.status_code == 200
    assert "<h1>Paid</h1>" in again.text
    assert _payments(app) == payments
    assert len(payments) == 2
    assert len(all_changes(client, auth_a)) == changes


def test_two_intents_for_the_same_debt_collect_once(
    app: FastAPI, client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    first = _abc_intent(client, auth_a)
    second = _abc_intent(client, auth_b)
    assert _pay(client, first["intent_id"]).status_code == 200
    refused = _pay(client, second["intent_id"])
    assert refused.status_code == 409
    assert "settled another way" in refused.text
    status = client.get(f"{API}/payment-intents/{second['intent_id']}", headers=auth_b).json()
    assert status["status"] == "cancelled"
    assert {row[3] for row in _payments(app)} == {uuid.UUID(first["intent_id"])}


def test_cash_first_then_sandbox_pay_settles_nothing(
    app: FastAPI, client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    created = _abc_intent(client, auth_a)
    cash = outcome_body("ABC123", ids, 1850)
    assert client.post(f"{API}/outcomes", json=cash, headers=auth_a).status_code == 200
    payments = _payments(app)
    changes = len(all_changes(client, auth_a))
    refused = _pay(client, created["intent_id"])
    assert refused.status_code == 409
    assert "settled another way" in refused.text
    assert "nothing was charged" in refused.text
    assert _payments(app) == payments
    assert {row[1:] for row in payments} == {("cash", uuid.UUID(cash["outcome_id"]), None)}
    assert len(all_changes(client, auth_a)) == changes
    status = client.get(f"{API}/payment-intents/{created['intent_id']}", headers=auth_a).json()
    assert status["status"] == "cancelled"
    assert status["paid_at"] is None


# -- the booth's outcome after a QR payment ----------------------------------------


def _outcome_count(app: FastAPI) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Outcome)) or 0)


def test_booth_qr_outcome_after_payment_is_recorded_without_a_second_payment(
    app: FastAPI, client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    created = _abc_intent(client, auth_a)
    assert _pay(client, created["intent_id"]).status_code == 200
    payments = _payments(app)
    changes = len(all_changes(client, auth_a))
    body = outcome_body("ABC123", ids, 1850, method="qr", reference=created["intent_id"])
    response = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["status"], answer["collected_cents"]) == ("recorded", 1850)
    assert sorted(answer["settled_session_ids"]) == sorted(ids)
    assert answer["already_paid_session_ids"] == []
    assert _payments(app) == payments
    assert len(all_changes(client, auth_a)) == changes
    assert _outcome_count(app) == 1
    replay = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    assert (replay.status_code, replay.json()) == (200, answer)
    # The payment is claimed once: another outcome naming the same intent collects nothing.
    other = {**body, "outcome_id": str(uuid.uuid4())}
    second = client.post(f"{API}/outcomes", json=other, headers=auth_a)
    assert second.status_code == 409
    assert second.json()["status"] == "already_paid"
    assert _payments(app) == payments


def test_qr_outcome_not_backed_by_a_paid_intent_keeps_todays_rules(
    app: FastAPI, client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    created = _abc_intent(client, auth_a)
    # Naming a pending intent: a normal payment by the outcome itself.
    body = outcome_body("ABC123", ids, 1850, method="qr", reference=created["intent_id"])
    assert client.post(f"{API}/outcomes", json=body, headers=auth_a).status_code == 200
    assert {row[2] for row in _payments(app)} == {uuid.UUID(body["outcome_id"])}
    # Naming an intent that does not exist, after that: already paid.
    stray = outcome_body("ABC123", ids, 1850, method="qr", reference=str(uuid.uuid4()))
    response = client.post(f"{API}/outcomes", json=stray, headers=auth_a)
    assert response.status_code == 409
    assert response.json()["status"] == "already_paid"
    # And the pending intent can no longer be paid.
    assert _pay(client, created["intent_id"]).status_code == 409
    assert len(_payments(app)) == len(ids)


def test_qr_outcome_for_other_sessions_than_the_paid_intent_is_already_paid(
    client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    created = _abc_intent(client, auth_a)
    assert _pay(client, created["intent_id"]).status_code == 200
    body = outcome_body("ABC123", ids[:1], 1200, method="qr", reference=created["intent_id"])
    response = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    assert response.status_code == 409
    assert response.json()["collected_cents"] == 0


# -- the sandbox switched off ------------------------------------------------------


def test_sandbox_off_is_404_and_new_intents_are_unavailable(
    settings: ServerSettings, auth_a: dict
) -> None:
    with _served(settings, sandbox_payments=False) as (_app, client):
        ids = unpaid_ids(client, auth_a, "ABC123")
        body = intent_body("ABC123", ids, 1850)
        response = client.post(f"{API}/payment-intents", json=body, headers=auth_a)
        assert response.status_code == 503
        assert response.json()["detail"]["code"] == "qr_unavailable"
        intent_id = body["intent_id"]
        assert client.get(f"/sandbox/pay/{intent_id}").status_code == 404
        assert client.post(f"/sandbox/pay/{intent_id}").status_code == 404
        assert history(client, auth_a, "ABC123")["unpaid_cents"] == 1850


def test_sandbox_is_on_by_default() -> None:
    assert ServerSettings().sandbox_payments is True
    assert ServerSettings().payment_intent_lifetime_s == 600


# -- schema and races --------------------------------------------------------------


def test_migration_0002_keeps_existing_payments(settings: ServerSettings) -> None:
    engine = make_engine(settings.database_url)
    outcome_id = uuid.uuid4()
    now = datetime(2026, 11, 20, 10, 0)
    rows = [
        "INSERT INTO lots (id, name) VALUES ('north', 'North')",
        "INSERT INTO booths (id, name, lot_id, token_hash, created_at) "
        "VALUES ('b', 'B', 'north', 'h', :now)",
        "INSERT INTO parking_sessions (id, plate, lot_id, entered_at, fee_cents, paid_cents, "
        "status) VALUES (1, 'ABC123', 'north', :now, 500, 500, 'paid')",
        "INSERT INTO outcomes (outcome_id, booth_id, plate, kind, method, amount_cents, "
        "request, http_status, answer, received_at) "
        "VALUES (:oid, 'b', 'ABC123', 'paid', 'cash', 500, '{}', 200, '{}', :now)",
        "INSERT INTO payments (session_id, outcome_id, amount_cents, method, created_at) "
        "VALUES (1, :oid, 500, 'cash', :now)",
    ]
    try:
        migrate(engine, "0001")
        with engine.begin() as connection:
            for sql in rows:
                statement = text(sql)
                if ":oid" in sql:
                    statement = statement.bindparams(bindparam("oid", type_=Uuid))
                connection.execute(statement, {"oid": outcome_id, "now": now})
    finally:
        engine.dispose()
    app = create_app(settings)  # migrates to head
    try:
        with app.state.session_factory() as session:
            payments = session.execute(
                select(Payment.session_id, Payment.outcome_id, Payment.intent_id)
            ).all()
    finally:
        app.state.engine.dispose()
    assert [tuple(row) for row in payments] == [(1, outcome_id, None)]


@pytest.mark.slow
def test_racing_sandbox_payments_and_a_cash_outcome_collect_once(
    settings: ServerSettings,
) -> None:
    with ServerThread(settings, seed_demo=True) as server:
        headers = {"Authorization": f"Bearer {TOKEN_A}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            data = api.get(f"{API}/vehicles/ABC123/history").json()
            ids = [s["id"] for s in data["sessions"] if s["status"] == "unpaid"]
            created = api.post(f"{API}/payment-intents", json=intent_body("ABC123", ids, 1850))
            pay_path = f"/sandbox/pay/{created.json()['intent_id']}"
            barrier = threading.Barrier(3)
            statuses: list[int] = []
            lock = threading.Lock()

            def send(method: str, path: str, body: dict | None) -> None:
                with httpx.Client(base_url=server.url, headers=headers, timeout=30) as own:
                    barrier.wait()
                    response = own.request(method, path, json=body)
                with lock:
                    statuses.append(response.status_code)

            jobs = [
                ("POST", pay_path, None),
                ("POST", pay_path, None),
                ("POST", f"{API}/outcomes", outcome_body("ABC123", ids, 1850)),
            ]
            threads = [threading.Thread(target=send, args=job) for job in jobs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert all(code in (200, 409) for code in statuses), statuses
            assert api.get(f"{API}/vehicles/ABC123/history").json()["unpaid_cents"] == 0
    with server.app.state.session_factory() as session:
        payments = session.execute(select(Payment.outcome_id, Payment.intent_id)).all()
    server.app.state.engine.dispose()
    assert len(payments) == len(ids)
    assert len(set(payments)) == 1  # every session paid by the same winner
