"""Supervisor decisions end to end: the reference server as its own process on
127.0.0.1, two booths with their own stores and sync, and a supervisor's client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from desktop.booth import BoothService
from desktop.domain import OutcomeKind
from desktop.supervisor_client import SupervisorClient
from tests.e2e.conftest import DEMO_TOKENS, ServerProcess

USER, PASSWORD = "super", "demo-supervisor"


@pytest.fixture
def supervisor(server: ServerProcess) -> Iterator[SupervisorClient]:
    with SupervisorClient(server.url, connect_timeout_s=0.5) as client:
        client.login(USER, PASSWORD)
        yield client


def test_a_dispute_silences_the_debt_at_every_booth_until_a_supervisor_rejects_it(
    booths: tuple[BoothService, BoothService], supervisor: SupervisorClient
) -> None:
    booth_a, booth_b = booths
    notice = booth_a.check_plate("ABC123", "Exit 1")
    assert notice is not None
    booth_a.record_outcome(notice, OutcomeKind.DISPUTED, reason="paid at the machine")
    assert booth_a.sync_now().outbox_pending == 0
    booth_b.sync_now()

    assert booth_b.check_plate("ABC123", "Exit 2") is None  # server answer
    assert booth_a.check_plate("ABC123", "Exit 1") is None

    supervisor.resolve_dispute("ABC123", "rejected", "no receipt from the machine")
    booth_b.sync_now()
    again = booth_b.check_plate("ABC123", "Exit 2")

    assert again is not None and again.unpaid_cents == 1850
    (entry,) = supervisor.audit_log(plate="ABC123", action="resolve_dispute").items
    assert entry.supervisor == USER
    assert entry.reason == "no receipt from the machine"
    assert entry.before is not None and entry.after is not None
    assert entry.before["entry"]["status"] == "disputed"
    assert entry.after["entry"]["status"] == "active"


def test_a_dispute_upheld_clears_the_debt_for_good(
    booths: tuple[BoothService, BoothService], supervisor: SupervisorClient
) -> None:
    booth_a, booth_b = booths
    notice = booth_a.check_plate("ABC123", "Exit 1")
    assert notice is not None
    booth_a.record_outcome(notice, OutcomeKind.DISPUTED, reason="wrong car")
    booth_a.sync_now()

    supervisor.resolve_dispute("ABC123", "upheld", "camera photo shows another car")
    booth_b.sync_now()

    assert booth_b.check_plate("ABC123", "Exit 2") is None
    assert booth_b.store.blacklist.get("ABC123") is None
    flag = supervisor.vehicle_file("ABC123")
    assert flag.status == "clear"


def test_a_booth_token_is_refused_on_supervisor_endpoints(server: ServerProcess) -> None:
    booth = {"Authorization": f"Bearer {DEMO_TOKENS['booth-a']}"}
    for method, path in (
        ("GET", "/api/v1/supervisor/flags"),
        ("GET", "/api/v1/supervisor/audit"),
        ("GET", "/api/v1/supervisor/vehicles/ABC123"),
        ("POST", "/api/v1/supervisor/flags/PQR789/dismiss"),
    ):
        answer = requests.request(
            method, server.url + path, headers=booth, json={"reason": "x"}, timeout=5
        )
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["detail"]["code"] == "supervisor_only"
