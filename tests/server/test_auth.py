"""Every endpoint needs a known booth token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.server.helpers import API, outcome_body, read_body

ENDPOINTS = [
    ("GET", "/ping", None),
    ("GET", "/vehicles/ABC123/history", None),
    ("GET", "/blacklist/changes?since=0", None),
    ("GET", "/blacklist", None),
    ("POST", "/reads", read_body("ABC123")),
    ("POST", "/outcomes", outcome_body("ABC123", [1], 100)),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic Zm9vOmJhcg=="}],
    ids=["missing", "unknown", "basic"],
)
def test_endpoint_refuses_without_valid_token(
    client: TestClient, method: str, path: str, body: dict | None, headers: dict[str, str]
) -> None:
    response = client.request(method, API + path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"]["code"] == "unauthorized"


def test_ping_names_the_booth(client: TestClient, auth_a: dict, auth_b: dict) -> None:
    a = client.get(f"{API}/ping", headers=auth_a).json()
    b = client.get(f"{API}/ping", headers=auth_b).json()
    assert (a["booth_id"], b["booth_id"]) == ("booth-a", "booth-b")
    assert a["latest_seq"] == 2  # PQR789 and B0LT123 were listed by the seed
    assert a["server_time"].endswith("Z") or "+00:00" in a["server_time"]


def test_tokens_are_stored_hashed(app) -> None:
    from sqlalchemy import select

    from server.models import Booth

    with app.state.session_factory() as session:
        hashes = list(session.scalars(select(Booth.token_hash)))
    assert len(hashes) == 2
    assert all(len(h) == 64 and "demo" not in h for h in hashes)
