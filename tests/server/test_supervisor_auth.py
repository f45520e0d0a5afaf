"""Supervisor login, tokens, the offline PIN hash and role separation."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from desktop.supervisor_pin import verify_pin
from server.app import create_app
from server.cli import create_supervisor
from server.config import ServerSettings
from server.models import Supervisor, SupervisorToken
from server.seed import seed_demo
from server.supervisors import main as supervisors_main
from tests.server.helpers import API, outcome_body, read_body
from tests.server.test_supervisor_common import (
    DEMO_PASSWORD,
    DEMO_PIN,
    SUP,
    jpeg_bytes,
    login,
    sup_headers,
)

ANY_ID = "00000000-0000-4000-8000-000000000001"
SUPERVISOR_ENDPOINTS = [
    ("POST", "/logout", None),
    ("GET", "/flags", None),
    ("POST", "/flags/ABC123/dismiss", {"reason": "misread"}),
    ("POST", "/disputes/ABC123/resolve", {"decision": "upheld", "reason": "ok"}),
    ("GET", "/vehicles/ABC123", None),
    ("GET", "/waiver-requests", None),
    ("POST", f"/waiver-requests/{ANY_ID}/decide", {"approve": True, "reason": "ok"}),
    ("GET", f"/evidence/{ANY_ID}", None),
    ("GET", "/audit", None),
]
BOOTH_ENDPOINTS = [
    ("GET", "/ping", None),
    ("GET", "/vehicles/ABC123/history", None),
    ("GET", "/blacklist/changes?since=0", None),
    ("GET", "/blacklist", None),
    ("POST", "/reads", read_body("ABC123")),
    ("POST", "/outcomes", outcome_body("ABC123", [1], 100)),
    ("GET", f"/payment-intents/{ANY_ID}", None),
    ("GET", f"/waiver-requests/{ANY_ID}", None),
]


def test_login_gives_token_and_offline_pin_hash(client: TestClient) -> None:
    answer = login(client, username=" Super ")
    assert (answer["username"], answer["role"]) == ("super", "supervisor")
    assert len(answer["token"]) >= 40
    assert answer["expires_at"]
    # The booth caches this and checks the PIN offline with its own code.
    assert answer["offline_pin_hash"].startswith("scrypt$16384$8$1$")
    assert verify_pin(DEMO_PIN, answer["offline_pin_hash"])
    assert not verify_pin("4321", answer["offline_pin_hash"])


def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient) -> None:
    wrong = client.post(f"{SUP}/login", json={"username": "super", "password": "nope-nope"})
    unknown = client.post(f"{SUP}/login", json={"username": "nobody", "password": DEMO_PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"]["code"] == "invalid_credentials"


def test_secrets_are_stored_as_scrypt_and_sha256(client: TestClient, app) -> None:
    token = login(client)["token"]
    with app.state.session_factory() as session:
        supervisor = session.scalar(select(Supervisor).where(Supervisor.username == "super"))
        assert supervisor is not None
        assert supervisor.password_hash.startswith("scrypt$32768$8$1$")
        assert DEMO_PASSWORD not in supervisor.password_hash
        hashes = list(session.scalars(select(SupervisorToken.token_hash)))
    assert token not in hashes and all(len(h) == 64 for h in hashes)


def test_logout_revokes_the_token(client: TestClient) -> None:
    headers = sup_headers(client)
    assert client.get(f"{SUP}/flags", headers=headers).status_code == 200
    assert client.post(f"{SUP}/logout", headers=headers).status_code == 204
    again = client.get(f"{SUP}/flags", headers=headers)
    assert again.status_code == 401
    assert again.json()["detail"]["code"] == "token_expired"


def test_token_expires_after_its_lifetime(settings: ServerSettings) -> None:
    short = settings.model_copy(update={"supervisor_token_lifetime_s": 0})
    app = create_app(short)
    try:
        with app.state.session_factory() as session:
            seed_demo(session)
        with TestClient(app) as client:
            headers = sup_headers(client)
            response = client.get(f"{SUP}/flags", headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"]["code"] == "token_expired"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize(("method", "path", "body"), SUPERVISOR_ENDPOINTS)
def test_booth_token_is_refused_on_supervisor_endpoints(
    client: TestClient, auth_a: dict, method: str, path: str, body: dict | None
) -> None:
    response = client.request(method, SUP + path, json=body, headers=auth_a)
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "supervisor_only"


def test_supervisor_endpoints_need_a_known_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer made-up"}):
        for method, path, body in SUPERVISOR_ENDPOINTS:
            response = client.request(method, SUP + path, json=body, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.json()["detail"]["code"] == "unauthorized"


def test_supervisor_token_is_refused_on_booth_endpoints(client: TestClient) -> None:
    headers = sup_headers(client)
    for method, path, body in BOOTH_ENDPOINTS:
        response = client.request(method, API + path, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["detail"]["code"] == "booth_only"


def test_supervisor_token_is_refused_on_upload_endpoints(client: TestClient) -> None:
    headers = sup_headers(client)
    waiver = {
        "request_id": str(uuid.uuid4()),
        "plate": "ABC123",
        "session_ids": [1],
        "reason": "x",
        "lane": "Exit 1",
    }
    responses = [
        client.post(f"{API}/waiver-requests", json=waiver, headers=headers),
        client.post(
            f"{API}/evidence",
            params={"evidence_id": ANY_ID, "kind": "crop", "plate": "ABC123", "read_id": ANY_ID},
            content=jpeg_bytes(),
            headers={**headers, "Content-Type": "image/jpeg"},
        ),
    ]
    assert [r.status_code for r in responses] == [403, 403]


def test_create_supervisor_then_log_in(client: TestClient, settings: ServerSettings) -> None:
    create_supervisor(settings.database_url, "Carol", "carol-secret-1", "987654")
    answer = login(client, username="carol", password="carol-secret-1")
    assert verify_pin("987654", answer["offline_pin_hash"])
    with pytest.raises(ValueError, match="already exists"):
        create_supervisor(settings.database_url, "carol", "another-pass", "1111")
    with pytest.raises(ValueError, match="PIN"):
        create_supervisor(settings.database_url, "dave", "dave-secret-1", "12a4")
    with pytest.raises(ValueError, match="password"):
        create_supervisor(settings.database_url, "dave", "short", "1234")


def test_supervisors_module_asks_secrets_twice(
    client: TestClient, settings: ServerSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["erin-secret-1", "erin-secret-1", "2468", "2468"])
    argv = ["add", "--database-url", settings.database_url, "--username", "erin"]
    assert supervisors_main(argv, ask=lambda _prompt: next(answers)) == 0
    assert "erin" in capsys.readouterr().out
    login(client, username="erin", password="erin-secret-1")
    mismatch = iter(["frank-secret-1", "other-secret-1"])
    argv = ["add", "--database-url", settings.database_url, "--username", "frank"]
    assert supervisors_main(argv, ask=lambda _prompt: next(mismatch)) == 1
    assert "differ" in capsys.readouterr().err
