"""Each booth sees only its own data, and QR links never come from the request."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from server.config import ServerSettings
from tests.server.helpers import API, outcome_body, read_body, unpaid_ids
from tests.server.test_payment_intents import _served, intent_body
from tests.server.test_supervisor_common import jpeg_bytes


def _refused_without_a_word_of_it(response, *secrets: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == "idempotency_key_reused"
    for secret in secrets:
        assert secret not in response.text


def test_a_read_id_of_another_booth_tells_nothing(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    body = read_body("ABC123")
    first = client.post(f"{API}/reads", json=body, headers=auth_a)
    assert first.json()["owes"] is True
    # Booth A's replay gets its answer again; booth B, with the same id, nothing.
    assert client.post(f"{API}/reads", json=body, headers=auth_a).json() == first.json()
    _refused_without_a_word_of_it(
        client.post(f"{API}/reads", json={**body, "plate": "ZZZ999"}, headers=auth_b), "ABC123"
    )
    _refused_without_a_word_of_it(client.post(f"{API}/reads", json=body, headers=auth_b), "1850")


def test_an_outcome_id_of_another_booth_tells_nothing(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    body = outcome_body("ABC123", unpaid_ids(client, auth_a, "ABC123"), 1850)
    first = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    assert first.status_code == 200
    assert client.post(f"{API}/outcomes", json=body, headers=auth_a).json() == first.json()
    _refused_without_a_word_of_it(
        client.post(f"{API}/outcomes", json=body, headers=auth_b), "collected"
    )


def test_a_payment_intent_of_another_booth_tells_nothing(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    body = intent_body("ABC123", unpaid_ids(client, auth_a, "ABC123"), 1850)
    created = client.post(f"{API}/payment-intents", json=body, headers=auth_a).json()
    _refused_without_a_word_of_it(
        client.post(f"{API}/payment-intents", json=body, headers=auth_b), created["pay_url"]
    )
    read = client.get(f"{API}/payment-intents/{created['intent_id']}", headers=auth_b)
    assert read.status_code == 404
    assert created["pay_url"] not in read.text


def test_a_waiver_request_of_another_booth_tells_nothing(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    body = {
        "request_id": str(uuid.uuid4()),
        "plate": "ABC123",
        "session_ids": unpaid_ids(client, auth_a, "ABC123"),
        "reason": "regular customer, card declined",
        "lane": "Exit 1",
    }
    assert client.post(f"{API}/waiver-requests", json=body, headers=auth_a).status_code == 200
    _refused_without_a_word_of_it(
        client.post(f"{API}/waiver-requests", json=body, headers=auth_b), "card declined"
    )
    other = client.get(f"{API}/waiver-requests/{body['request_id']}", headers=auth_b)
    assert other.status_code == 404


def test_an_evidence_id_of_another_booth_tells_nothing(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    params = {"evidence_id": str(uuid.uuid4()), "kind": "crop", "plate": "ABC123",
              "read_id": str(uuid.uuid4())}  # fmt: skip
    image = jpeg_bytes()
    headers = {"Content-Type": "image/jpeg"}
    stored = client.post(
        f"{API}/evidence", params=params, content=image, headers={**auth_a, **headers}
    )
    assert stored.status_code == 201
    _refused_without_a_word_of_it(
        client.post(f"{API}/evidence", params=params, content=image, headers={**auth_b, **headers}),
        stored.json()["sha256"],
    )


def test_a_forged_host_header_does_not_change_the_link_in_the_qr_code(
    client: TestClient, auth_a: dict
) -> None:
    body = intent_body("ABC123", unpaid_ids(client, auth_a, "ABC123"), 1850)
    answer = client.post(
        f"{API}/payment-intents", json=body, headers={**auth_a, "Host": "pay.evil.example"}
    )
    assert answer.status_code == 201
    assert answer.json()["pay_url"].startswith("http://testserver/sandbox/pay/")


def test_without_a_public_url_qr_payments_are_refused(
    settings: ServerSettings, auth_a: dict
) -> None:
    with _served(settings, public_url=None) as (_app, client):
        body = intent_body("ABC123", unpaid_ids(client, auth_a, "ABC123"), 1850)
        answer = client.post(
            f"{API}/payment-intents", json=body, headers={**auth_a, "Host": "pay.evil.example"}
        )
    assert answer.status_code == 503
    assert answer.json()["detail"]["code"] == "qr_unavailable"
    assert "public_url" in answer.json()["detail"]["message"]
    assert "evil" not in answer.text
