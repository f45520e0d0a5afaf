"""Small builders of request bodies for the server tests."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"


def read_body(plate: str, **overrides: Any) -> dict[str, Any]:
    """A plate read body with a fresh read_id."""
    body = {
        "read_id": str(uuid.uuid4()),
        "plate": plate,
        "lane": "Exit 1",
        "seen_at": "2026-11-20T10:00:00+00:00",
        "confidence": 0.93,
        "source": "camera",
    }
    body.update(overrides)
    return body


def outcome_body(
    plate: str, session_ids: list[int], amount_cents: int, kind: str = "paid", **overrides: Any
) -> dict[str, Any]:
    """An outcome body with a fresh outcome_id."""
    body = {
        "outcome_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": plate,
        "lane": "Exit 1",
        "kind": kind,
        "method": "cash" if kind == "paid" else None,
        "amount_cents": amount_cents,
        "session_ids": session_ids,
        "reason": None,
        "reference": None,
        "attendant": "alice",
        "recorded_at": "2026-11-20T10:01:00+00:00",
    }
    body.update(overrides)
    return body


def history(client: TestClient, headers: dict[str, str], plate: str) -> dict[str, Any]:
    """GET the history of ``plate`` and return its JSON (asserting 200)."""
    response = client.get(f"{API}/vehicles/{plate}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def unpaid_ids(client: TestClient, headers: dict[str, str], plate: str) -> list[int]:
    """Ids of the unpaid sessions of ``plate``."""
    return [s["id"] for s in history(client, headers, plate)["sessions"] if s["status"] == "unpaid"]


def all_changes(client: TestClient, headers: dict[str, str], since: int = 0) -> list[dict]:
    """Every change after ``since`` (one big page)."""
    response = client.get(
        f"{API}/blacklist/changes", params={"since": since, "limit": 1000}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()["changes"]
