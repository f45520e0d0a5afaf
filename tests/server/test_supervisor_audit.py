"""The audit log (append-only, every action) and the vehicle file."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from server.models import AuditEntry
from tests.server.helpers import API, outcome_body, unpaid_ids
from tests.server.test_supervisor_common import (
    SUP,
    audit_rows,
    jpeg_bytes,
    login,
    sighted,
    sup_headers,
)


def _every_action(client: TestClient, auth_a: dict) -> dict[str, str]:
    """Do one of each supervisor action; returns the headers used."""
    sup = sup_headers(client)
    sighted(client, auth_a, "ABC123")
    ids = unpaid_ids(client, auth_a, "7XYZ042")
    disputed = outcome_body("7XYZ042", ids, 0, kind="disputed")
    assert client.post(f"{API}/outcomes", json=disputed, headers=auth_a).status_code == 200
    request_id = str(uuid.uuid4())
    waiver = {
        "request_id": request_id,
        "plate": "TUV246",
        "session_ids": unpaid_ids(client, auth_a, "TUV246"),
        "reason": "broken barrier",
        "lane": "Exit 1",
    }
    assert client.post(f"{API}/waiver-requests", json=waiver, headers=auth_a).status_code == 200
    evidence_id = str(uuid.uuid4())
    upload = client.post(
        f"{API}/evidence",
        params={
            "evidence_id": evidence_id,
            "kind": "crop",
            "plate": "ABC123",
            "notice_id": str(uuid.uuid4()),
        },
        content=jpeg_bytes(),
        headers={**auth_a, "Content-Type": "image/jpeg"},
    )
    assert upload.status_code == 201
    calls = [
        ("POST", "/flags/ABC123/dismiss", {"reason": "misread"}),
        ("POST", "/disputes/7XYZ042/resolve", {"decision": "upheld", "reason": "receipt"}),
        ("POST", f"/waiver-requests/{request_id}/decide", {"approve": False, "reason": "no"}),
        ("GET", f"/evidence/{evidence_id}", None),
    ]
    for method, path, body in calls:
        assert client.request(method, SUP + path, json=body, headers=sup).status_code == 200
    return sup


def test_audit_lists_each_action_newest_first(client: TestClient, auth_a: dict) -> None:
    sup = _every_action(client, auth_a)
    assert client.post(f"{SUP}/logout", headers=sup).status_code == 204
    reader = sup_headers(client)
    rows = audit_rows(client, reader, limit=100)
    assert [row["action"] for row in rows] == [
        "login",
        "logout",
        "view_evidence",
        "decide_waiver",
        "resolve_dispute",
        "dismiss_flag",
        "login",
    ]
    assert {row["supervisor"] for row in rows} == {"super"}
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids, reverse=True)
    assert [r["action"] for r in audit_rows(client, reader, plate="abc 123")] == [
        "view_evidence",
        "dismiss_flag",
    ]
    page = client.get(f"{SUP}/audit", params={"limit": 2, "offset": 2}, headers=reader).json()
    assert (page["total"], [r["id"] for r in page["items"]]) == (7, ids[2:4])
    assert audit_rows(client, reader, since="2999-01-01T00:00:00+00:00") == []
    assert client.get(f"{SUP}/audit", params={"action": "hack"}, headers=reader).status_code == 422


def test_audit_is_append_only(client: TestClient, app: FastAPI) -> None:
    login(client)
    sup = sup_headers(client)
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, f"{SUP}/audit", headers=sup).status_code == 405
    with app.state.session_factory() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(update(AuditEntry).values(reason="rewritten"))
        session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(delete(AuditEntry))
        session.rollback()
    assert len(audit_rows(client, sup)) == 2


def test_vehicle_file_holds_everything_about_the_plate(client: TestClient, auth_a: dict) -> None:
    read = sighted(client, auth_a, "ABC123", lane="Exit 2", confidence=0.81)
    ids = unpaid_ids(client, auth_a, "ABC123")
    notice_id = str(uuid.uuid4())
    for kind, subject in (("snapshot", {"read_id": read["read_id"]}), ("crop", {})):
        response = client.post(
            f"{API}/evidence",
            params={
                "evidence_id": str(uuid.uuid4()),
                "kind": kind,
                "plate": "ABC123",
                "notice_id": notice_id,
                **subject,
            },
            content=jpeg_bytes(),
            headers={**auth_a, "Content-Type": "image/jpeg"},
        )
        assert response.status_code == 201
    paid = outcome_body("ABC123", ids[:1], 1200, notice_id=notice_id, method="card")
    assert client.post(f"{API}/outcomes", json=paid, headers=auth_a).status_code == 200
    waiver = {
        "request_id": str(uuid.uuid4()),
        "notice_id": notice_id,
        "plate": "ABC123",
        "session_ids": ids[1:],
        "reason": "regular customer",
        "lane": "Exit 2",
        "attendant": "alice",
    }
    assert client.post(f"{API}/waiver-requests", json=waiver, headers=auth_a).status_code == 200
    sup = sup_headers(client)
    response = client.get(f"{SUP}/vehicles/abc123", headers=sup)
    assert response.status_code == 200, response.text
    file = response.json()
    assert (file["plate"], file["status"], file["unpaid_cents"]) == ("ABC123", "active", 650)
    assert [s["status"] for s in file["sessions"]] == ["paid", "paid", "unpaid"]
    (sighting,) = file["sightings"]
    assert (sighting["lane"], sighting["booth_id"], sighting["confidence"]) == (
        "Exit 2",
        "booth-a",
        0.81,
    )
    assert [e["kind"] for e in sighting["evidence"]] == ["snapshot"]
    (outcome,) = file["outcomes"]
    assert (outcome["kind"], outcome["method"], outcome["amount_cents"]) == ("paid", "card", 1200)
    assert (outcome["attendant"], outcome["booth_id"], outcome["status"]) == (
        "alice",
        "booth-a",
        "recorded",
    )
    assert sorted(e["kind"] for e in outcome["evidence"]) == ["crop", "snapshot"]
    (request,) = file["waiver_requests"]
    assert (request["status"], request["reason"]) == ("pending", "regular customer")
    assert file["flag"]["status"] == "active"
    assert file["flag"]["unpaid_cents"] == 650
    assert file["flag_history"] == []
    assert file["audit"] == []
    assert file["totals"] == {
        "sessions": 3,
        "sightings": 1,
        "outcomes": 1,
        "waiver_requests": 1,
        "evidence": 2,
        "flag_history": 0,
        "audit": 0,
    }

    client.post(f"{SUP}/flags/ABC123/dismiss", json={"reason": "misread"}, headers=sup)
    after = client.get(f"{SUP}/vehicles/ABC123", headers=sup).json()
    assert (after["flag"], after["status"], after["unpaid_cents"]) == (None, "clear", 0)
    assert [(h["status"], h["reason"]) for h in after["flag_history"]] == [("cleared", "misread")]
    assert [a["action"] for a in after["audit"]] == ["dismiss_flag"]

    unknown = client.get(f"{SUP}/vehicles/NEVERSEEN", headers=sup)
    assert (unknown.status_code, unknown.json()["detail"]["code"]) == (404, "unknown_vehicle")
