"""The status bar says how many outbox rows are stuck and why, and when a busy server is
tried again: the real sync worker against the real reference server on 127.0.0.1.

A tiny HTTP server in front of the reference server forwards every request, except that
it answers 500 to the outcome of one plate (and, later, 503 ``overloaded`` to all).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from desktop.booth import BoothService
from desktop.client import ServerClient
from desktop.domain import OutcomeKind, PaymentMethod
from desktop.recovery import RecoveryService
from desktop.store import Store
from desktop.sync import SyncWorker
from server.cli import ServerThread
from tests.conftest import DEMO_TOKENS, LANE
from tests.desktop.booth_support import ManualClock
from tests.desktop.hostile_server import Behaviour, HostileServer, json_answer
from ui.bridge import BoothBridge
from ui.status_bar import BoothStatusBar

STUCK_PLATE = "ABC123"
OTHER_PLATE = "7XYZ042"
FORWARDED = [
    ("POST", "/api/v1/reads"),
    ("POST", "/api/v1/outcomes"),
    ("GET", "/api/v1/blacklist/changes"),
    ("GET", "/api/v1/blacklist"),
]
OVERLOADED = json_answer(
    {"detail": {"code": "overloaded", "message": "212 requests are waiting"}},
    status=503,
    headers={"Retry-After": "12"},
)
INTERNAL_ERROR = json_answer({"detail": "Internal Server Error"}, status=500)
WAIT_MS = 10_000


def forward(upstream: str) -> Behaviour:
    """Send the request on to ``upstream`` and its answer back, unchanged."""

    def behave(handler) -> None:  # type: ignore[no-untyped-def]
        seen = handler.seen_request
        headers = {
            name: value
            for name, value in seen.headers.items()
            if name.lower() in ("authorization", "content-type", "accept")
        }
        answer = requests.request(
            seen.method, upstream + seen.path, data=seen.body, headers=headers, timeout=10
        )
        handler.send_response(answer.status_code)
        handler.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
        handler.send_header("Content-Length", str(len(answer.content)))
        handler.end_headers()
        handler.wfile.write(answer.content)

    return behave


def failing_plate(plate: str, failure: Behaviour, otherwise: Behaviour) -> Behaviour:
    """``failure`` for the outcome of ``plate``, ``otherwise`` for every other request."""

    def behave(handler) -> None:  # type: ignore[no-untyped-def]
        body = handler.seen_request.body
        (failure if f'"plate":"{plate}"' in body.decode().replace(" ", "") else otherwise)(handler)

    return behave


@pytest.fixture
def proxy(reference_server: ServerThread) -> Iterator[HostileServer]:
    with HostileServer() as front:
        for method, path in FORWARDED:
            front.on(method, path, forward(reference_server.url))
        yield front


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def booth(proxy: HostileServer, clock: ManualClock, tmp_path: Path) -> Iterator[BoothService]:
    """Booth-a's core against the proxy; its store, sync and notices share ``clock``."""
    store = Store(tmp_path / "booth.sqlite3", clock=clock)
    client = ServerClient(proxy.url, DEMO_TOKENS["booth-a"], booth_id="booth-a", retries=0)
    service = BoothService(
        booth_id="booth-a",
        store=store,
        client=client,
        sync=SyncWorker(store, client, interval_s=3600, clock=clock),
        recovery=RecoveryService(store, client, deadline_s=3.0, attendant="alice", clock=clock),
    )
    yield service
    service.stop()


@pytest.fixture
def status_bar(booth: BoothService, clock: ManualClock, qtbot) -> Iterator[BoothStatusBar]:
    """The status bar fed by the bridge, as the main window wires it."""
    bridge = BoothBridge(booth)
    bar = BoothStatusBar(attendant="alice", cameras=None, clock=clock)
    qtbot.addWidget(bar)
    bridge.sync_changed.connect(bar.set_sync)
    yield bar
    bar.stop()
    bridge.close()


def pay_cash(booth: BoothService, plate: str) -> None:
    notice = booth.check_plate(plate, LANE)
    assert notice is not None, f"{plate} should owe"
    booth.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)


def unpaid_cents(server: ServerThread, plate: str) -> int:
    with ServerClient(server.url, DEMO_TOKENS["booth-b"], retries=0) as other_booth:
        return other_booth.history(plate).unpaid_cents


def test_one_outcome_the_server_fails_is_shown_stuck_while_the_rest_goes_through(
    booth: BoothService,
    status_bar: BoothStatusBar,
    proxy: HostileServer,
    reference_server: ServerThread,
    clock: ManualClock,
    qtbot,
) -> None:
    server_label, outbox_label = status_bar.server_label, status_bar.outbox_label
    pay_cash(booth, STUCK_PLATE)
    pay_cash(booth, OTHER_PLATE)
    upstream = forward(reference_server.url)
    proxy.on("POST", "/api/v1/outcomes", failing_plate(STUCK_PLATE, INTERNAL_ERROR, upstream))

    booth.sync_now()

    qtbot.waitUntil(
        lambda: outbox_label.text() == "1 waiting to send · 1 stuck: server error 500",
        timeout=WAIT_MS,
    )
    assert "HTTP 500" in outbox_label.toolTip()
    assert outbox_label.property("role") == "warning"
    assert server_label.text() == "Server: online"  # reachable: not offline
    assert status_bar.blacklist_label.text().startswith("Blacklist: ")
    assert unpaid_cents(reference_server, OTHER_PLATE) == 0  # the other payment arrived
    assert unpaid_cents(reference_server, STUCK_PLATE) > 0

    # The server is now overloaded: the booth leaves it alone for its Retry-After.
    proxy.on("POST", "/api/v1/outcomes", OVERLOADED)
    clock.advance(seconds=2)  # the stuck row is due again
    booth.sync_now()

    qtbot.waitUntil(
        lambda: server_label.text() == "Server: busy, retrying in 12 s", timeout=WAIT_MS
    )
    assert server_label.property("role") == "warning"
    assert "overloaded" in server_label.toolTip()
    assert outbox_label.text() == "1 waiting to send · 1 stuck: server error 500"
    clock.advance(seconds=5)
    qtbot.waitUntil(  # counted down by the once-a-second refresh
        lambda: server_label.text() == "Server: busy, retrying in 7 s", timeout=WAIT_MS
    )

    proxy.on("POST", "/api/v1/outcomes", upstream)  # the server is well again
    clock.advance(seconds=7)
    booth.sync_now()

    qtbot.waitUntil(lambda: server_label.text() == "Server: online", timeout=WAIT_MS)
    qtbot.waitUntil(outbox_label.isHidden, timeout=WAIT_MS)
    assert unpaid_cents(reference_server, STUCK_PLATE) == 0
