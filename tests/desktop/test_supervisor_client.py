"""SupervisorClient against the real reference server on 127.0.0.1."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from desktop.booth import BoothService
from desktop.client import MalformedResponse, ServerClient, ServerRejected, ServerUnavailable
from desktop.supervisor_client import NotLoggedIn, SupervisorClient
from desktop.supervisor_pin import verify_pin
from server.cli import ServerThread
from tests.conftest import DEMO_TOKENS, booth_config
from tests.desktop.hostile_server import HostileServer, json_answer

USER, PASSWORD, PIN = "super", "demo-supervisor", "1234"


@pytest.fixture
def client(reference_server: ServerThread) -> Iterator[SupervisorClient]:
    with SupervisorClient(reference_server.url, connect_timeout_s=0.5) as supervisor:
        yield supervisor


def test_login_gives_a_token_and_the_offline_pin_hash(
    client: SupervisorClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login = client.login(USER, PASSWORD)
    assert login.username == USER
    assert client.logged_in and client.username == USER
    assert verify_pin(PIN, login.offline_pin_hash)
    client.flags()
    client.logout()
    assert not client.logged_in
    assert login.token not in repr(client) and login.token not in repr(login)
    for record in caplog.records:
        assert login.token not in record.getMessage()
        assert "Bearer " not in record.getMessage()


def test_wrong_password_is_rejected_with_the_servers_generic_message(
    client: SupervisorClient,
) -> None:
    with pytest.raises(ServerRejected) as caught:
        client.login(USER, "not-the-password")
    assert caught.value.status == 401
    assert caught.value.code == "invalid_credentials"
    assert caught.value.message == "wrong username or password"
    assert not client.logged_in
    with pytest.raises(NotLoggedIn):
        client.flags()


def test_a_login_reports_the_failed_logins_since_the_previous_one(
    client: SupervisorClient,
) -> None:
    first = client.login(USER, PASSWORD)
    assert (first.failed_logins, first.last_failed_login_at, first.last_failed_login_from) == (
        0,
        None,
        None,
    )
    client.logout()
    for attempt in range(2):
        with pytest.raises(ServerRejected):
            client.login(USER, f"wrong-{attempt}")
    before = datetime.now(UTC)

    again = client.login(USER, PASSWORD)
    assert again.failed_logins == 2
    assert again.last_failed_login_from == "127.0.0.1"
    assert again.last_failed_login_at is not None
    assert before - timedelta(minutes=1) < again.last_failed_login_at <= datetime.now(UTC)
    client.logout()
    assert client.login(USER, PASSWORD).failed_logins == 0  # counted since the previous login


LOGIN_PATH = "/api/v1/supervisor/login"
OLDER_SERVERS_LOGIN = {
    "token": "t0ken-of-an-older-server",
    "username": USER,
    "role": "supervisor",
    "expires_at": "2030-01-01T12:00:00+00:00",
    "offline_pin_hash": "scrypt$16384$8$1$c2FsdA==$aGFzaA==",
}


def test_an_older_servers_login_answer_reports_no_failed_logins() -> None:
    with HostileServer() as server:
        server.on("POST", LOGIN_PATH, json_answer(OLDER_SERVERS_LOGIN))
        with SupervisorClient(server.url, retries=0) as client:
            login = client.login(USER, PASSWORD)
    assert login.username == USER
    assert (login.failed_logins, login.last_failed_login_at, login.last_failed_login_from) == (
        0,
        None,
        None,
    )


def test_failed_login_fields_of_the_wrong_type_are_malformed() -> None:
    answer = {
        **OLDER_SERVERS_LOGIN,
        "failed_logins": 3,
        "last_failed_login_at": "2030-01-01T11:00:00",  # no offset: whose 11:00?
        "last_failed_login_from": "203.0.113.9",
    }
    with HostileServer() as server:
        server.on("POST", LOGIN_PATH, json_answer(answer))
        with SupervisorClient(server.url, retries=0) as client, pytest.raises(MalformedResponse):
            client.login(USER, PASSWORD)
        assert not client.logged_in


def test_unreachable_server_is_unavailable() -> None:
    client = SupervisorClient("http://127.0.0.1:9", connect_timeout_s=0.5, retries=0)
    with client, pytest.raises(ServerUnavailable):
        client.login(USER, PASSWORD)


def test_flags_list_the_flagged_plates_and_filter_by_status(client: SupervisorClient) -> None:
    client.login(USER, PASSWORD)
    page = client.flags()
    plates = {flag.plate for flag in page.items}
    assert {"PQR789", "B0LT123"} <= plates
    assert page.total == len(page.items)
    assert all(flag.status in ("active", "disputed") for flag in page.items)
    assert client.flags(status="cleared").items == []
    assert [flag.plate for flag in client.flags(plate="PQR").items] == ["PQR789"]


def test_vehicle_file_shows_sessions(client: SupervisorClient) -> None:
    client.login(USER, PASSWORD)
    file = client.vehicle_file("pqr-789")
    assert file.plate == "PQR789"
    assert file.sessions
    assert file.unpaid_cents == sum(s.unpaid_cents for s in file.sessions)


def test_dismiss_removes_the_flag_and_a_booth_drops_it_after_sync(
    client: SupervisorClient, reference_server: ServerThread, tmp_path: Path
) -> None:
    booth = BoothService.from_config(booth_config(reference_server.url, tmp_path / "booth"))
    try:
        booth.sync_now()
        assert booth.store.blacklist.get("PQR789") is not None
        client.login(USER, PASSWORD)
        answer = client.dismiss("PQR789", "  camera misread a delivery van  ")
        assert answer.plate == "PQR789" and answer.status == "cleared"
        assert "PQR789" not in {flag.plate for flag in client.flags().items}
        cleared = client.flags(status="cleared").items
        assert [flag.plate for flag in cleared] == ["PQR789"]
        assert cleared[0].reason == "camera misread a delivery van"
        booth.sync_now()
        assert booth.store.blacklist.get("PQR789") is None
        with pytest.raises(ServerRejected) as again:
            client.dismiss("PQR789", "twice")
        assert again.value.status in (404, 409)
    finally:
        booth.stop()


def test_a_reason_is_required(client: SupervisorClient) -> None:
    client.login(USER, PASSWORD)
    with pytest.raises(ValueError, match="reason"):
        client.dismiss("PQR789", "   ")
    with pytest.raises(ValueError, match="decision"):
        client.resolve_dispute("PQR789", "maybe", "because")


def test_waiver_requests_list_is_readable(client: SupervisorClient) -> None:
    client.login(USER, PASSWORD)
    page = client.waiver_requests("pending")
    assert page.total == len(page.items)


def test_a_booths_waiver_request_is_approved_by_the_supervisor(
    client: SupervisorClient, reference_server: ServerThread
) -> None:
    booth = ServerClient(reference_server.url, DEMO_TOKENS["booth-a"], booth_id="booth-a")
    try:
        ids = [s.id for s in booth.history("B0LT123").sessions if s.unpaid_cents > 0]
    finally:
        booth.close()
    request_id = uuid.uuid4()
    asked = requests.post(
        f"{reference_server.url}/api/v1/waiver-requests",
        json={
            "request_id": str(request_id),
            "plate": "B0LT123",
            "session_ids": ids,
            "reason": "ambulance crew",
            "lane": "Exit 1",
            "attendant": "alice",
        },
        headers={"Authorization": f"Bearer {DEMO_TOKENS['booth-a']}"},
        timeout=5,
    )
    assert asked.status_code == 200, asked.text

    client.login(USER, PASSWORD)
    pending = client.waiver_requests("pending")
    assert [item.request_id for item in pending.items] == [request_id]
    decided = client.decide_waiver(request_id, approve=True, reason="verified with the crew")
    assert decided.status == "approved"
    assert decided.decided_by == USER
    assert sorted(decided.waived_session_ids) == sorted(ids)
    assert client.waiver_requests("pending").items == []
    assert "B0LT123" not in {flag.plate for flag in client.flags().items}
    with pytest.raises(ServerRejected) as again:
        client.decide_waiver(request_id, approve=False, reason="too late")
    assert again.value.status == 409
