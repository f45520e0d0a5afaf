"""Waivers requested at a booth and decided by a supervisor."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.server.helpers import API, all_changes, history, unpaid_ids
from tests.server.test_supervisor_common import SUP, audit_rows, sighted, sup_headers


def _request(client: TestClient, auth: dict, plate: str, ids: list[int], **overrides) -> dict:
    body = {
        "request_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": plate,
        "session_ids": ids,
        "reason": "hospital emergency",
        "lane": "Exit 1",
        "attendant": "alice",
    }
    body.update(overrides)
    return body


def _post(client: TestClient, auth: dict, body: dict) -> dict:
    response = client.post(f"{API}/waiver-requests", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def _decide(client: TestClient, sup: dict, request_id: str, approve: bool, reason: str = "ok"):
    return client.post(
        f"{SUP}/waiver-requests/{request_id}/decide",
        json={"approve": approve, "reason": reason},
        headers=sup,
    )


def test_approved_waiver_waives_the_sessions(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    sighted(client, auth_a, "ABC123")
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = _request(client, auth_a, "ABC123", ids)
    pending = _post(client, auth_a, body)
    assert (pending["status"], pending["plate"], pending["decided_at"]) == (
        "pending",
        "ABC123",
        None,
    )
    assert _post(client, auth_a, body) == pending  # a replay changes nothing

    sup = sup_headers(client)
    queue = client.get(f"{SUP}/waiver-requests", params={"status": "pending"}, headers=sup)
    assert [item["request_id"] for item in queue.json()["items"]] == [body["request_id"]]
    assert queue.json()["total"] == 1

    cursor = all_changes(client, auth_b)[-1]["seq"]
    decided = _decide(client, sup, body["request_id"], True, "approved by phone")
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert sorted(decided.json()["waived_session_ids"]) == sorted(ids)
    assert [c["action"] for c in all_changes(client, auth_b, since=cursor)] == ["remove"]
    statuses = {s["id"]: s["status"] for s in history(client, auth_b, "ABC123")["sessions"]}
    assert {statuses[i] for i in ids} == {"waived"}
    assert sighted(client, auth_b, "ABC123")["owes"] is False

    # The booth polls and sees the decision.
    seen = client.get(f"{API}/waiver-requests/{body['request_id']}", headers=auth_a).json()
    assert (seen["status"], seen["decision_reason"], seen["decided_by"]) == (
        "approved",
        "approved by phone",
        "super",
    )
    twice = _decide(client, sup, body["request_id"], False)
    assert (twice.status_code, twice.json()["detail"]["code"]) == (409, "already_decided")
    (row,) = audit_rows(client, sup, action="decide_waiver")
    assert row["target"] == body["request_id"]
    assert row["before"]["request"]["status"] == "pending"
    assert row["after"]["request"]["status"] == "approved"
    assert row["before"]["entry"]["unpaid_cents"] == 1850
    assert row["after"]["entry"] is None
    assert (
        client.get(f"{SUP}/waiver-requests", params={"status": "pending"}, headers=sup).json()[
            "total"
        ]
        == 0
    )


def test_refused_waiver_changes_nothing(client: TestClient, auth_a: dict, auth_b: dict) -> None:
    sighted(client, auth_a, "7XYZ042")
    ids = unpaid_ids(client, auth_a, "7XYZ042")
    body = _request(client, auth_a, "7XYZ042", ids)
    _post(client, auth_a, body)
    before = history(client, auth_a, "7XYZ042")
    cursor = all_changes(client, auth_b)[-1]["seq"]
    sup = sup_headers(client)
    decided = _decide(client, sup, body["request_id"], False, "no grounds")
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["waived_session_ids"]) == ("refused", [])
    assert history(client, auth_a, "7XYZ042") == before
    assert all_changes(client, auth_b, since=cursor) == []
    assert sighted(client, auth_b, "7XYZ042")["owes"] is True
    seen = client.get(f"{API}/waiver-requests/{body['request_id']}", headers=auth_a).json()
    assert (seen["status"], seen["decision_reason"]) == ("refused", "no grounds")
    assert _decide(client, sup, body["request_id"], True).status_code == 409


def test_waiver_request_checks(client: TestClient, auth_a: dict, auth_b: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = _request(client, auth_a, "ABC123", ids)
    _post(client, auth_a, body)
    reused = client.post(f"{API}/waiver-requests", json={**body, "reason": "other"}, headers=auth_a)
    assert (reused.status_code, reused.json()["detail"]["code"]) == (422, "idempotency_key_reused")
    foreign = unpaid_ids(client, auth_a, "7XYZ042")
    unknown = client.post(
        f"{API}/waiver-requests", json=_request(client, auth_a, "ABC123", foreign), headers=auth_a
    )
    assert (unknown.status_code, unknown.json()["detail"]["code"]) == (422, "unknown_sessions")
    for bad in (
        _request(client, auth_a, "ABC123", []),
        _request(client, auth_a, "ABC123", [ids[0], ids[0]]),
        _request(client, auth_a, "ABC123", ids, reason="  "),
    ):
        assert client.post(f"{API}/waiver-requests", json=bad, headers=auth_a).status_code == 422
    # Only the booth that asked sees the request; unknown ids are 404 for supervisors too.
    other = client.get(f"{API}/waiver-requests/{body['request_id']}", headers=auth_b)
    assert (other.status_code, other.json()["detail"]["code"]) == (404, "unknown_waiver_request")
    missing = _decide(client, sup_headers(client), str(uuid.uuid4()), True)
    assert (missing.status_code, missing.json()["detail"]["code"]) == (
        404,
        "unknown_waiver_request",
    )
