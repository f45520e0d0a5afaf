"""Flag review: listing with filters and paging, dismissing, resolving disputes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.helpers import API, all_changes, history, outcome_body, unpaid_ids
from tests.server.test_supervisor_common import SUP, audit_rows, sighted, sup_headers


def _flags(client: TestClient, headers: dict, **params) -> dict:
    response = client.get(f"{SUP}/flags", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _plates(page: dict) -> set[str]:
    return {item["plate"] for item in page["items"]}


def _dispute(client: TestClient, auth: dict, plate: str) -> list[int]:
    ids = unpaid_ids(client, auth, plate)
    body = outcome_body(plate, ids, 0, kind="disputed", reason="driver says paid")
    assert client.post(f"{API}/outcomes", json=body, headers=auth).status_code == 200
    return ids


def test_flags_filters_and_paging(client: TestClient, auth_a: dict) -> None:
    sighted(client, auth_a, "ABC123", lane="Exit 2", seen_at="2026-11-21T09:30:00+00:00")
    sighted(client, auth_a, "7XYZ042")
    sup = sup_headers(client)
    everything = _flags(client, sup)
    assert everything["total"] == 4
    assert _plates(everything) == {"PQR789", "B0LT123", "ABC123", "7XYZ042"}
    abc = next(item for item in everything["items"] if item["plate"] == "ABC123")
    assert abc["status"] == "active"
    assert (abc["unpaid_cents"], abc["currency"], abc["sessions"]) == (1850, "USD", 2)
    assert abc["lots"] == ["north", "south"]
    assert abc["last_seen_lane"] == "Exit 2"
    assert abc["last_seen_at"].startswith("2026-11-21T09:30:00")
    assert abc["first_unpaid_at"] < abc["updated_at"]
    pqr = next(item for item in everything["items"] if item["plate"] == "PQR789")
    assert (pqr["last_seen_at"], pqr["last_seen_lane"]) == (None, None)

    assert _plates(_flags(client, sup, lot="south")) == {"PQR789", "ABC123"}
    assert _plates(_flags(client, sup, min_cents=1800)) == {"ABC123", "7XYZ042"}
    assert _plates(_flags(client, sup, plate="xyz 0")) == {"7XYZ042"}
    assert _flags(client, sup, since="2999-01-01T00:00:00Z")["total"] == 0
    assert _flags(client, sup, status="disputed")["total"] == 0

    first = _flags(client, sup, limit=3, offset=0)
    second = _flags(client, sup, limit=3, offset=3)
    assert (first["total"], second["total"]) == (4, 4)
    assert (len(first["items"]), len(second["items"])) == (3, 1)
    assert _plates(first) | _plates(second) == _plates(everything)
    stamps = [item["updated_at"] for item in everything["items"]]
    assert stamps == sorted(stamps, reverse=True)

    for bad in ({"status": "gone"}, {"since": "2026-11-21T09:30:00"}, {"limit": 0}):
        assert client.get(f"{SUP}/flags", params=bad, headers=sup).status_code == 422


def test_dismiss_drops_the_flag_from_every_booth_cache(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    sighted(client, auth_a, "ABC123")
    cursor = all_changes(client, auth_b)[-1]["seq"]
    sessions_before = history(client, auth_b, "ABC123")["sessions"]
    sup = sup_headers(client)
    response = client.post(
        f"{SUP}/flags/abc-123/dismiss", json={"reason": "misread: it was ABC128"}, headers=sup
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["plate"], answer["status"], answer["unpaid_cents"]) == (
        "ABC123",
        "cleared",
        1850,
    )
    # Booth B's next sync removes it from its cache.
    changes = all_changes(client, auth_b, since=cursor)
    assert [(c["plate"], c["action"]) for c in changes] == [("ABC123", "remove")]
    # The sessions themselves are untouched.
    assert history(client, auth_b, "ABC123")["sessions"] == sessions_before
    # It is not listed again at the next sighting.
    again = sighted(client, auth_a, "ABC123")
    assert (again["owes"], again["entry"]) == (False, None)
    assert all_changes(client, auth_b, since=cursor) == changes

    (row,) = audit_rows(client, sup, action="dismiss_flag")
    assert (row["supervisor"], row["plate"], row["reason"]) == (
        "super",
        "ABC123",
        "misread: it was ABC128",
    )
    assert row["id"] == answer["audit_id"]
    assert row["before"]["flag"]["status"] == "active"
    assert row["before"]["flag"]["unpaid_cents"] == 1850
    assert row["after"]["flag"] is None
    assert row["after"]["status"] == "cleared"
    assert sorted(row["after"]["cleared_session_ids"]) == sorted(answer["session_ids"])

    cleared = _flags(client, sup, status="cleared")
    assert [(i["plate"], i["reason"], i["decided_by"]) for i in cleared["items"]] == [
        ("ABC123", "misread: it was ABC128", "super")
    ]
    assert _flags(client, sup)["total"] == 2  # PQR789 and B0LT123 are still listed

    twice = client.post(f"{SUP}/flags/ABC123/dismiss", json={"reason": "again"}, headers=sup)
    assert (twice.status_code, twice.json()["detail"]["code"]) == (409, "already_cleared")


def test_dismiss_needs_a_flag_and_a_reason(client: TestClient) -> None:
    sup = sup_headers(client)
    for plate in ("KLM4455", "NEVERSEEN", "ABC123"):  # ABC123 owes but was never sighted
        response = client.post(f"{SUP}/flags/{plate}/dismiss", json={"reason": "x"}, headers=sup)
        assert (response.status_code, response.json()["detail"]["code"]) == (404, "no_flag")
    for body in ({}, {"reason": "   "}, {"reason": "ok", "extra": 1}):
        response = client.post(f"{SUP}/flags/PQR789/dismiss", json=body, headers=sup)
        assert response.status_code == 422
    assert audit_rows(client, sup, action="dismiss_flag") == []


def test_new_debt_after_a_dismissal_flags_the_plate_again(
    client: TestClient, auth_a: dict, app
) -> None:
    from datetime import timedelta

    from server.db import utcnow
    from server.models import ParkingSession

    sup = sup_headers(client)
    client.post(f"{SUP}/flags/PQR789/dismiss", json={"reason": "misread"}, headers=sup)
    with app.state.session_factory() as session:
        now = utcnow()
        session.add(
            ParkingSession(
                plate="PQR789",
                lot_id="north",
                entered_at=now - timedelta(hours=3),
                exited_at=now - timedelta(hours=1),
                fee_cents=400,
                paid_cents=0,
                status="unpaid",
            )
        )
        session.commit()
    answer = sighted(client, auth_a, "PQR789")
    assert answer["owes"] is True
    assert answer["entry"]["unpaid_cents"] == 400  # only the new session


def test_dispute_upheld_waives_the_sessions(client: TestClient, auth_a: dict, auth_b: dict) -> None:
    sighted(client, auth_a, "ABC123")
    ids = _dispute(client, auth_a, "ABC123")
    assert sighted(client, auth_b, "ABC123")["owes"] is False  # silenced while disputed
    sup = sup_headers(client)
    assert _plates(_flags(client, sup, status="disputed")) == {"ABC123"}
    cursor = all_changes(client, auth_b)[-1]["seq"]
    response = client.post(
        f"{SUP}/disputes/ABC123/resolve",
        json={"decision": "upheld", "reason": "receipt shown"},
        headers=sup,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["decision"], sorted(answer["session_ids"]), answer["entry"]) == (
        "upheld",
        sorted(ids),
        None,
    )
    assert [c["action"] for c in all_changes(client, auth_b, since=cursor)] == ["remove"]
    statuses = {s["id"]: s["status"] for s in history(client, auth_b, "ABC123")["sessions"]}
    assert {statuses[i] for i in ids} == {"waived"}
    waived = _flags(client, sup, status="waived")["items"]
    assert [(i["plate"], i["unpaid_cents"], i["reason"]) for i in waived] == [
        ("ABC123", 1850, "receipt shown")
    ]
    (row,) = audit_rows(client, sup, action="resolve_dispute")
    assert row["before"]["entry"]["status"] == "disputed"
    assert {s["status"] for s in row["before"]["sessions"]} == {"disputed"}
    assert row["after"]["entry"] is None
    assert {s["status"] for s in row["after"]["sessions"]} == {"waived"}


def test_dispute_rejected_raises_notices_again(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    sighted(client, auth_a, "ABC123")
    ids = _dispute(client, auth_a, "ABC123")
    cursor = all_changes(client, auth_b)[-1]["seq"]
    sup = sup_headers(client)
    response = client.post(
        f"{SUP}/disputes/ABC123/resolve",
        json={"decision": "rejected", "reason": "no receipt"},
        headers=sup,
    )
    assert response.status_code == 200, response.text
    entry = response.json()["entry"]
    assert (entry["status"], entry["unpaid_cents"]) == ("active", 1850)
    (change,) = all_changes(client, auth_b, since=cursor)
    assert (change["action"], change["entry"]["status"]) == ("upsert", "active")
    assert {s["status"] for s in entry["sessions"]} == {"unpaid"}
    assert sorted(s["id"] for s in entry["sessions"]) == sorted(ids)
    answer = sighted(client, auth_b, "ABC123")
    assert answer["owes"] is True
    (row,) = audit_rows(client, sup, action="resolve_dispute")
    assert (row["target"], row["after"]["entry"]["status"]) == ("rejected", "active")
    again = client.post(
        f"{SUP}/disputes/ABC123/resolve",
        json={"decision": "rejected", "reason": "again"},
        headers=sup,
    )
    assert (again.status_code, again.json()["detail"]["code"]) == (409, "no_dispute")
