"""Outcomes: payments exactly once, conflicts, mismatches, disputes, waivers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import Outcome, Payment
from tests.server.helpers import API, all_changes, history, outcome_body, read_body, unpaid_ids


def _payments(app: FastAPI) -> list[tuple[int, int]]:
    with app.state.session_factory() as session:
        rows = session.execute(select(Payment.session_id, Payment.amount_cents)).all()
    return sorted((row[0], row[1]) for row in rows)


def _listed(client: TestClient, headers: dict, plate: str) -> None:
    assert client.post(f"{API}/reads", json=read_body(plate), headers=headers).json()["owes"]


def test_paid_outcome_clears_entry_with_remove_change(
    app: FastAPI, client: TestClient, auth_a: dict
) -> None:
    _listed(client, auth_a, "ABC123")
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = outcome_body("ABC123", ids, 1850)
    response = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "recorded"
    assert answer["collected_cents"] == 1850
    assert sorted(answer["settled_session_ids"]) == sorted(ids)
    assert answer["already_paid_session_ids"] == []
    last = all_changes(client, auth_a)[-1]
    assert (last["plate"], last["action"], last["entry"]) == ("ABC123", "remove", None)
    data = history(client, auth_a, "ABC123")
    assert (data["status"], data["unpaid_cents"], data["blacklisted"]) == ("clear", 0, False)
    assert sorted(_payments(app)) == sorted(zip(sorted(ids), [1200, 650], strict=True))
    # A later read of the plate owes nothing.
    again = client.post(f"{API}/reads", json=read_body("ABC123"), headers=auth_a).json()
    assert (again["owes"], again["entry"]) == (False, None)


def test_partial_payment_keeps_entry_with_rest(client: TestClient, auth_a: dict) -> None:
    _listed(client, auth_a, "ABC123")
    sessions = history(client, auth_a, "ABC123")["sessions"]
    first = next(s for s in sessions if s["unpaid_cents"] == 1200)
    body = outcome_body("ABC123", [first["id"]], 1200)
    assert client.post(f"{API}/outcomes", json=body, headers=auth_a).status_code == 200
    last = all_changes(client, auth_a)[-1]
    assert last["action"] == "upsert"
    assert last["entry"]["unpaid_cents"] == 650
    assert len(last["entry"]["sessions"]) == 1


def test_outcome_replay_returns_first_answer_and_pays_once(
    app: FastAPI, client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "7XYZ042")
    body = outcome_body("7XYZ042", ids, 3400, method="card")
    first = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    changes = len(all_changes(client, auth_a))
    for _ in range(3):
        again = client.post(f"{API}/outcomes", json=body, headers=auth_a)
        assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert _payments(app) == [(ids[0], 3400)]
    assert len(all_changes(client, auth_a)) == changes
    with app.state.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Outcome)) == 1


def test_second_booth_gets_409_already_paid(
    app: FastAPI, client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    assert (
        client.post(
            f"{API}/outcomes", json=outcome_body("ABC123", ids, 1850), headers=auth_a
        ).status_code
        == 200
    )
    body = outcome_body("ABC123", ids, 1850, method="qr")
    second = client.post(f"{API}/outcomes", json=body, headers=auth_b)
    assert second.status_code == 409
    answer = second.json()
    assert answer["status"] == "already_paid"
    assert answer["collected_cents"] == 0
    assert answer["settled_session_ids"] == []
    assert sorted(answer["already_paid_session_ids"]) == sorted(ids)
    assert len(_payments(app)) == 2
    # Its replay keeps the 409.
    replay = client.post(f"{API}/outcomes", json=body, headers=auth_b)
    assert (replay.status_code, replay.json()) == (409, answer)


def test_amount_mismatch_is_422(app: FastAPI, client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    response = client.post(
        f"{API}/outcomes", json=outcome_body("ABC123", ids, 1800), headers=auth_a
    )
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "amount_mismatch"
    assert _payments(app) == []
    assert history(client, auth_a, "ABC123")["unpaid_cents"] == 1850


def test_reused_key_with_different_body_is_422(client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = outcome_body("ABC123", ids, 1850)
    assert client.post(f"{API}/outcomes", json=body, headers=auth_a).status_code == 200
    changed = {**body, "method": "card"}
    response = client.post(f"{API}/outcomes", json=changed, headers=auth_a)
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "idempotency_key_reused"


def test_foreign_or_unknown_sessions_are_422(client: TestClient, auth_a: dict) -> None:
    other = unpaid_ids(client, auth_a, "7XYZ042")
    for ids in (other, [999_999]):
        response = client.post(
            f"{API}/outcomes", json=outcome_body("ABC123", ids, 3400), headers=auth_a
        )
        assert response.status_code == 422
        assert response.json()["detail"]["code"] == "unknown_sessions"


def test_paid_needs_method_and_sessions(client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    for body in (
        outcome_body("ABC123", ids, 1850, method=None),
        outcome_body("ABC123", [], 0),
        outcome_body("ABC123", ids, 1850, kind="refunded"),
    ):
        assert client.post(f"{API}/outcomes", json=body, headers=auth_a).status_code == 422


def test_dispute_sets_entry_disputed(client: TestClient, auth_a: dict) -> None:
    _listed(client, auth_a, "ABC123")
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = outcome_body("ABC123", ids[:1], 0, kind="disputed", reason="was not here")
    response = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    assert response.status_code == 200, response.text
    assert response.json()["settled_session_ids"] == ids[:1]
    last = all_changes(client, auth_a)[-1]
    assert (last["action"], last["entry"]["status"]) == ("upsert", "disputed")
    assert last["entry"]["unpaid_cents"] == 1850
    read = client.post(f"{API}/reads", json=read_body("ABC123"), headers=auth_a).json()
    assert read["owes"] is False
    assert read["entry"]["status"] == "disputed"
    assert history(client, auth_a, "ABC123")["status"] == "disputed"


def test_dispute_of_unlisted_plate_lists_it_disputed(client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "7XYZ042")
    body = outcome_body("7XYZ042", ids, 0, kind="disputed")
    assert client.post(f"{API}/outcomes", json=body, headers=auth_a).status_code == 200
    last = all_changes(client, auth_a)[-1]
    assert (last["plate"], last["entry"]["status"]) == ("7XYZ042", "disputed")


def test_waiver_clears_entry(app: FastAPI, client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "PQR789")
    body = outcome_body("PQR789", ids, 0, kind="waived", reason="hearse", approved_by="super")
    assert client.post(f"{API}/outcomes", json=body, headers=auth_a).status_code == 200
    last = all_changes(client, auth_a)[-1]
    assert (last["plate"], last["action"]) == ("PQR789", "remove")
    data = history(client, auth_a, "PQR789")
    assert data["status"] == "clear"
    assert [s["status"] for s in data["sessions"]][-1] == "waived"
    assert _payments(app) == []


def test_left_unpaid_only_records(client: TestClient, auth_a: dict) -> None:
    _listed(client, auth_a, "B0LT123")
    count = len(all_changes(client, auth_a))
    ids = unpaid_ids(client, auth_a, "B0LT123")
    body = outcome_body("B0LT123", ids, 0, kind="left_unpaid")
    response = client.post(f"{API}/outcomes", json=body, headers=auth_a)
    assert response.status_code == 200
    assert response.json()["collected_cents"] == 0
    assert len(all_changes(client, auth_a)) == count
    assert history(client, auth_a, "B0LT123")["unpaid_cents"] == 1500
