"""Waivers requested at a booth and decided by a supervisor."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.server.helpers import API, all_changes, history, outcome_body, unpaid_ids
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


def _cancel(client: TestClient, auth: dict, request_id: str, reason: str = "paid by cash"):
    return client.post(
        f"{API}/waiver-requests/{request_id}/cancel", json={"reason": reason}, headers=auth
    )


def test_a_cancelled_request_leaves_the_queue_and_cannot_be_decided(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    sighted(client, auth_a, "ABC123")
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = _request(client, auth_a, "ABC123", ids)
    _post(client, auth_a, body)
    rid = body["request_id"]
    assert _cancel(client, auth_b, rid).status_code == 404  # only the booth that asked
    cancelled = _cancel(client, auth_a, rid)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["decision_reason"]) == (
        "cancelled",
        "paid by cash",
    )
    assert _cancel(client, auth_a, rid, "again").json() == cancelled.json()  # idempotent
    sup = sup_headers(client)
    queue = client.get(f"{SUP}/waiver-requests", params={"status": "pending"}, headers=sup)
    assert queue.json()["items"] == []
    late = _decide(client, sup, rid, True)
    assert (late.status_code, late.json()["detail"]["code"]) == (409, "already_decided")
    assert history(client, auth_a, "ABC123")["unpaid_cents"] > 0
    rows = audit_rows(client, sup, action="cancel_waiver")
    assert len(rows) == 1
    row = rows[0]
    assert (row["supervisor"], row["booth_id"], row["target"], row["reason"]) == (
        None,
        "booth-a",
        rid,
        "paid by cash",
    )
    assert row["before"]["request"]["status"] == "pending"
    assert row["after"]["request"]["status"] == "cancelled"
    unknown = _cancel(client, auth_a, str(uuid.uuid4()))
    assert (unknown.status_code, unknown.json()["detail"]["code"]) == (
        404,
        "unknown_waiver_request",
    )


def test_cancelling_after_an_approval_answers_the_approval(
    client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = _request(client, auth_a, "ABC123", ids)
    _post(client, auth_a, body)
    assert _decide(client, sup_headers(client), body["request_id"], True).status_code == 200
    answer = _cancel(client, auth_a, body["request_id"])
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["decided_by"]) == ("approved", "super")


def test_a_waived_outcome_needs_a_supervisor(client: TestClient, auth_a: dict) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    nobody = outcome_body("ABC123", ids, 0, kind="waived", reason="regular customer")
    assert client.post(f"{API}/outcomes", json=nobody, headers=auth_a).status_code == 422
    stranger = outcome_body("ABC123", ids, 0, kind="waived", reason="x", approved_by="mallory")
    refused = client.post(f"{API}/outcomes", json=stranger, headers=auth_a)
    assert (refused.status_code, refused.json()["detail"]["code"]) == (422, "unknown_supervisor")
    body = _request(client, auth_a, "ABC123", ids)
    _post(client, auth_a, body)
    unapproved = outcome_body(
        "ABC123",
        ids,
        0,
        kind="waived",
        reason="x",
        approved_by="super",
        waiver_request_id=body["request_id"],
    )
    refused = client.post(f"{API}/outcomes", json=unapproved, headers=auth_a)
    assert (refused.status_code, refused.json()["detail"]["code"]) == (422, "waiver_not_approved")
    assert history(client, auth_a, "ABC123")["unpaid_cents"] > 0


def test_an_approved_request_then_its_outcome_waive_once(client: TestClient, auth_a: dict) -> None:
    sighted(client, auth_a, "ABC123")
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = _request(client, auth_a, "ABC123", ids)
    _post(client, auth_a, body)
    sup = sup_headers(client)
    assert _decide(client, sup, body["request_id"], True, "hearse").status_code == 200
    outcome = outcome_body(
        "ABC123",
        ids,
        0,
        kind="waived",
        reason="hospital emergency",
        approved_by="SUPER",
        waiver_request_id=body["request_id"],
    )
    recorded = client.post(f"{API}/outcomes", json=outcome, headers=auth_a)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["settled_session_ids"] == []  # the approval already waived them
    flags = client.get(f"{SUP}/flags", params={"plate": "ABC123", "status": "waived"}, headers=sup)
    assert len(flags.json()["items"]) == 1


def test_an_offline_approval_is_audited_with_the_supervisor_and_the_booth(
    client: TestClient, auth_a: dict, auth_b: dict
) -> None:
    sighted(client, auth_a, "ABC123")
    ids = unpaid_ids(client, auth_a, "ABC123")
    outcome = outcome_body("ABC123", ids, 0, kind="waived", reason="ambulance", approved_by="super")
    recorded = client.post(f"{API}/outcomes", json=outcome, headers=auth_a)
    assert recorded.status_code == 200, recorded.text
    assert sorted(recorded.json()["settled_session_ids"]) == sorted(ids)
    assert history(client, auth_a, "ABC123")["status"] == "clear"
    assert sighted(client, auth_b, "ABC123")["owes"] is False
    rows = audit_rows(client, sup_headers(client), action="approve_waiver_offline")
    assert len(rows) == 1
    row = rows[0]
    assert (row["supervisor"], row["booth_id"], row["plate"], row["reason"]) == (
        "super",
        "booth-a",
        "ABC123",
        "ambulance",
    )
    assert row["target"] == outcome["outcome_id"]
    assert {s["status"] for s in row["before"]["sessions"]} == {"unpaid"}
    assert {s["status"] for s in row["after"]["sessions"]} == {"waived"}
    # A replay is answered from the first time: no second audit row.
    assert client.post(f"{API}/outcomes", json=outcome, headers=auth_a).status_code == 200
    assert len(audit_rows(client, sup_headers(client), action="approve_waiver_offline")) == 1


def test_cash_taken_while_a_supervisor_approved_the_waiver_is_still_collected(
    client: TestClient, auth_a: dict
) -> None:
    ids = unpaid_ids(client, auth_a, "ABC123")
    body = _request(client, auth_a, "ABC123", ids)
    _post(client, auth_a, body)
    sup = sup_headers(client)
    # The supervisor approves while the driver hands the attendant cash; the booth's
    # withdrawal then meets the approval, and its cash outcome follows.
    assert _decide(client, sup, body["request_id"], True, "hearse").status_code == 200
    assert _cancel(client, auth_a, body["request_id"]).json()["status"] == "approved"
    paid = outcome_body("ABC123", ids, 1850, kind="paid")

    recorded = client.post(f"{API}/outcomes", json=paid, headers=auth_a)

    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["collected_cents"] == 1850
    sessions = history(client, auth_a, "ABC123")["sessions"]
    assert {s["status"] for s in sessions if s["id"] in ids} == {"paid"}
    again = client.post(f"{API}/outcomes", json=paid, headers=auth_a)
    assert again.status_code == 200 and again.json() == recorded.json()  # a replay
    other = outcome_body("ABC123", ids, 1850, kind="paid")
    twice = client.post(f"{API}/outcomes", json=other, headers=auth_a)
    assert twice.status_code == 409  # collected once, never twice
    (row,) = audit_rows(client, sup, action="payment_over_waiver")
    assert (row["booth_id"], row["supervisor"]) == ("booth-a", None)
    assert {s["status"] for s in row["before"]["sessions"]} == {"waived"}
    assert {s["status"] for s in row["after"]["sessions"]} == {"paid"}
