"""Vehicle history: sessions, arrears, plate normalization."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.helpers import history


def test_owing_plate_lists_unpaid_sessions(client: TestClient, auth_a: dict) -> None:
    data = history(client, auth_a, "ABC123")
    assert data["plate"] == "ABC123"
    assert data["currency"] == "USD"
    assert data["unpaid_cents"] == 1850
    assert data["status"] == "active"
    assert data["blacklisted"] is False  # listed only at its first sighting
    unpaid = [s for s in data["sessions"] if s["status"] == "unpaid"]
    assert sorted(s["unpaid_cents"] for s in unpaid) == [650, 1200]
    assert {s["lot_name"] for s in data["sessions"]} <= {"North Garage", "South Lot"}
    entered = [s["entered_at"] for s in data["sessions"]]
    assert entered == sorted(entered)


def test_plate_is_normalized(client: TestClient, auth_a: dict) -> None:
    data = history(client, auth_a, "ａｂｃ-1 23")
    assert data["plate"] == "ABC123"
    assert data["unpaid_cents"] == 1850


def test_prelisted_plate_is_blacklisted(client: TestClient, auth_a: dict) -> None:
    data = history(client, auth_a, "PQR789")
    assert (data["unpaid_cents"], data["blacklisted"], data["status"]) == (900, True, "active")


def test_paid_only_plate_is_clear(client: TestClient, auth_a: dict) -> None:
    data = history(client, auth_a, "KLM4455")
    assert data["status"] == "clear"
    assert data["unpaid_cents"] == 0
    assert len(data["sessions"]) == 3
    assert all(s["status"] == "paid" for s in data["sessions"])


def test_unknown_plate_is_clear_and_empty(client: TestClient, auth_a: dict) -> None:
    data = history(client, auth_a, "NOSUCH1")
    assert data == {
        "plate": "NOSUCH1",
        "currency": "USD",
        "unpaid_cents": 0,
        "blacklisted": False,
        "status": "clear",
        "sessions": [],
    }
