"""The supervisor login rate limit: 429 with Retry-After after repeated failures, audited."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.accounts import create_supervisor_account
from server.models import LoginFailure
from tests.server.test_supervisor_common import (
    DEMO_PASSWORD,
    DEMO_USER,
    SUP,
    audit_rows,
    login,
    sup_headers,
)

WINDOW_S = 15 * 60


def _try(client: TestClient, username: str, password: str):
    return client.post(f"{SUP}/login", json={"username": username, "password": password})


def _age_failures(app: FastAPI, seconds: int) -> None:
    """Move every stored failure ``seconds`` into the past (the window passing)."""
    with app.state.session_factory() as session:
        for row in session.scalars(select(LoginFailure)):
            row.at = row.at - timedelta(seconds=seconds)
        session.commit()


def test_five_failures_lock_the_username_with_retry_after_and_are_audited(
    app: FastAPI, client: TestClient
) -> None:
    with app.state.session_factory() as session:
        create_supervisor_account(session, username="other", password="other-password", pin="5678")
        session.commit()
    for _ in range(5):
        assert _try(client, DEMO_USER, "wrong").status_code == 401
    # Locked: even the right password is not checked now.
    locked = _try(client, " SUPER ", DEMO_PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["detail"]["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= WINDOW_S
    # Other accounts are not affected.
    assert login(client, "other", "other-password")["username"] == "other"

    # An unknown username is locked the same way (the answer says nothing about accounts).
    for _ in range(5):
        assert _try(client, "nobody", "guess").status_code == 401
    assert _try(client, "nobody", "guess").status_code == 429

    _age_failures(app, WINDOW_S)
    assert login(client)["username"] == DEMO_USER
    # A success starts the count afresh: one more failure is a plain 401.
    assert _try(client, DEMO_USER, "wrong").status_code == 401

    rows = audit_rows(client, sup_headers(client), action="login_failed")
    assert [row["supervisor"] for row in rows] == [DEMO_USER] * 6
    (lock,) = audit_rows(client, sup_headers(client), action="login_locked")
    assert lock["supervisor"] == DEMO_USER
    assert lock["before"] == {"failures_in_window": 4}
    assert lock["after"]["failures_in_window"] == 5
    assert lock["after"]["locked_until"]


def test_failures_outside_the_window_do_not_count(app: FastAPI, client: TestClient) -> None:
    for _ in range(4):
        assert _try(client, DEMO_USER, "wrong").status_code == 401
    _age_failures(app, WINDOW_S + 1)
    for _ in range(4):
        assert _try(client, DEMO_USER, "wrong").status_code == 401
    assert login(client)["username"] == DEMO_USER


def _from(app: FastAPI, address: str) -> TestClient:
    """A client whose requests come from ``address`` (the app's lifespan runs elsewhere)."""
    return TestClient(app, client=(address, 40000))


def test_a_stranger_locks_out_only_the_stranger(app: FastAPI, client: TestClient) -> None:
    stranger = _from(app, "203.0.113.9")
    booth = _from(app, "10.0.0.21")
    for _ in range(5):
        assert _try(stranger, DEMO_USER, "guess").status_code == 401
    assert _try(stranger, DEMO_USER, DEMO_PASSWORD).status_code == 429
    # The supervisor at the booth logs in as usual, and is told about the failures.
    granted = login(booth)
    assert granted["failed_logins"] == 5
    assert granted["last_failed_login_from"] == "203.0.113.9"
    assert granted["last_failed_login_at"]
    # That success does not reset the stranger's count: still refused.
    assert _try(stranger, DEMO_USER, DEMO_PASSWORD).status_code == 429
    # The next login has nothing new to report.
    assert login(booth)["failed_logins"] == 0
    lock = audit_rows(client, sup_headers(client), action="login_locked")
    assert [row["after"]["source"] for row in lock] == ["203.0.113.9"]


def test_an_address_guessing_many_usernames_is_refused_for_all_of_them(
    app: FastAPI, client: TestClient
) -> None:
    sprayer = _from(app, "198.51.100.7")
    for index in range(20):
        assert _try(sprayer, f"user{index}", "guess").status_code == 401
    refused = _try(sprayer, DEMO_USER, DEMO_PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    # Everyone else is unaffected.
    assert login(_from(app, "10.0.0.22"))["username"] == DEMO_USER
    assert login(client)["failed_logins"] == 0  # unknown usernames are no account's failures
