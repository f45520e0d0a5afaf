"""Supervisor mode: the login dialog and the review window against the real server."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import Qt

from desktop.client import ServerClient
from desktop.supervisor_client import SupervisorClient
from desktop.supervisor_session import SupervisorSessionCache
from server.cli import ServerThread
from tests.conftest import DEMO_TOKENS, booth_config
from ui.app import BoothSession
from ui.sound import AlertSound
from ui.supervisor.login_dialog import SupervisorLoginDialog
from ui.supervisor.review_window import ReviewWindow

USER, PASSWORD, PIN = "super", "demo-supervisor", "1234"


@pytest.fixture
def cache(tmp_path: Path) -> SupervisorSessionCache:
    return SupervisorSessionCache(tmp_path / "booth")


@pytest.fixture
def clients() -> Iterator[list[SupervisorClient]]:
    made: list[SupervisorClient] = []
    yield made
    for client in made:
        client.close()


def make_dialog(qtbot, url: str, cache, clients) -> SupervisorLoginDialog:
    def factory() -> SupervisorClient:
        client = SupervisorClient(url, connect_timeout_s=0.5, retries=0)
        clients.append(client)
        return client

    dialog = SupervisorLoginDialog(factory, cache)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def log_in(qtbot, dialog: SupervisorLoginDialog, password: str = PASSWORD) -> None:
    qtbot.keyClicks(dialog.username_field, USER)
    qtbot.keyClicks(dialog.password_field, password)


def logged_in_window(qtbot, reference_server, cache, clients) -> ReviewWindow:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    log_in(qtbot, dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(dialog.password_field, Qt.Key.Key_Return)
    assert dialog.client is not None and dialog.client.username == USER
    window = ReviewWindow(dialog.client)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.loading and window.model.rowCount() > 0, timeout=10_000)
    return window


def test_wrong_password_shows_the_servers_generic_message(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    log_in(qtbot, dialog, "wrong-password")
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy and "wrong" in dialog.message.text(), timeout=10_000)
    assert dialog.message.text() == "wrong username or password"
    assert dialog.result() != dialog.DialogCode.Accepted
    assert dialog.password_field.text() == ""
    assert cache.cached_usernames() == []


def test_offline_pin_login_after_an_online_login(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    log_in(qtbot, dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.submit()
    assert cache.cached_usernames() == [USER]

    offline = make_dialog(qtbot, "http://127.0.0.1:9", cache, clients)
    log_in(qtbot, offline)
    offline.submit()
    qtbot.waitUntil(lambda: not offline.busy and offline.offline_box.isVisible(), timeout=10_000)
    assert "cannot be reached" in offline.message.text()
    qtbot.keyClicks(offline.pin_field, "9999")
    offline.submit_offline()
    qtbot.waitUntil(lambda: not offline.busy and "Wrong PIN" in offline.message.text())
    qtbot.keyClicks(offline.pin_field, PIN)
    with qtbot.waitSignal(offline.accepted, timeout=10_000):
        qtbot.keyClick(offline.pin_field, Qt.Key.Key_Return)
    assert offline.client is None or not offline.client.logged_in
    assert offline.offline_supervisor is not None
    assert offline.offline_supervisor.username == USER
    assert offline.offline_supervisor.valid_until - offline.offline_supervisor.cached_at == (
        timedelta(hours=12)
    )


def test_unreachable_server_without_a_cached_login_offers_no_pin(qtbot, cache, clients) -> None:
    dialog = make_dialog(qtbot, "http://127.0.0.1:9", cache, clients)
    log_in(qtbot, dialog)
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.busy and "cannot be reached" in dialog.message.text())
    assert not dialog.offline_box.isVisible()


def test_review_lists_flags_finds_look_alikes_and_shows_the_file(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    window = logged_in_window(qtbot, reference_server, cache, clients)
    assert {"PQR789", "B0LT123"} <= set(window.shown_plates())

    qtbot.keyClicks(window.search_field, "P0R789")
    assert window.shown_plates() == ["PQR789"]
    window.search_field.clear()
    qtbot.keyClicks(window.search_field, "bolt")
    assert window.shown_plates() == ["B0LT123"]
    window.search_field.clear()

    window.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert window.shown_plates() == sorted(window.shown_plates())

    with qtbot.waitSignal(window.file_loaded, timeout=10_000) as loaded:
        assert window.select_plate("PQR789")
    assert loaded.args[0].plate == "PQR789"
    assert window.sessions_table.rowCount() == len(loaded.args[0].sessions) > 0
    assert "PQR789" in window.detail_title.text()


def test_dismiss_with_a_reason_removes_the_row(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    window = logged_in_window(qtbot, reference_server, cache, clients)
    assert window.select_plate("PQR789")
    assert window.dismiss_button.isEnabled()
    assert not window.dismiss_selected("   ")
    assert "reason is required" in window.message.text()
    with qtbot.waitSignal(window.action_done, timeout=10_000):
        assert window.dismiss_selected("delivery van, misread")
    assert "PQR789" not in window.shown_plates()
    assert "B0LT123" in window.shown_plates()

    cleared = window.status_filter.findData("cleared")
    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        window.status_filter.setCurrentIndex(cleared)
    assert window.shown_plates() == ["PQR789"]


def test_export_csv_writes_the_rows_shown(
    qtbot, reference_server: ServerThread, cache, clients, tmp_path: Path
) -> None:
    window = logged_in_window(qtbot, reference_server, cache, clients)
    qtbot.keyClicks(window.search_field, "PQR")
    target = window.export_csv(tmp_path / "flags.csv")
    assert target == tmp_path / "flags.csv"
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["plate"] for row in rows] == ["PQR789"]
    assert int(rows[0]["unpaid_cents"]) > 0
    assert rows[0]["status"] == "active"

    window.search_field.clear()
    everything = window.export_csv(tmp_path / "all.csv")
    with everything.open(encoding="utf-8", newline="") as handle:
        plates = [row["plate"] for row in csv.DictReader(handle)]
    assert plates == window.shown_plates()
    assert len(plates) >= 2


def test_resolving_a_dispute_upheld_waives_it(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    booth_client = ServerClient(reference_server.url, DEMO_TOKENS["booth-a"], booth_id="booth-a")
    try:
        history = booth_client.history("B0LT123")
        ids = [session.id for session in history.sessions if session.unpaid_cents > 0]
        status, _answer = booth_client.post_outcome(
            {
                "outcome_id": str(uuid.uuid4()),
                "plate": "B0LT123",
                "lane": "Exit 1",
                "kind": "disputed",
                "amount_cents": 0,
                "session_ids": ids,
                "reason": "driver says it was not there",
                "recorded_at": datetime.now(UTC).isoformat(),
            }
        )
        assert status == 200
    finally:
        booth_client.close()

    window = logged_in_window(qtbot, reference_server, cache, clients)
    assert window.select_plate("B0LT123")
    assert window.selected_flag().status == "disputed"
    assert window.resolve_button.isEnabled()
    with qtbot.waitSignal(window.action_done, timeout=10_000):
        assert window.resolve_selected("upheld", "camera clock was wrong")
    assert "B0LT123" not in window.shown_plates()
    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        window.status_filter.setCurrentIndex(window.status_filter.findData("waived"))
    assert "B0LT123" in window.shown_plates()


def test_a_logged_out_session_is_reported_not_crashed(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    window = logged_in_window(qtbot, reference_server, cache, clients)
    window.client.logout()
    with qtbot.waitSignal(window.action_failed, timeout=10_000) as failed:
        window.refresh()
    assert "log in" in failed.args[0]


def test_f10_in_the_booth_opens_the_login_and_then_the_review(
    qtbot, reference_server: ServerThread, tmp_path: Path
) -> None:
    config = booth_config(reference_server.url, tmp_path / "booth")
    session = BoothSession(config, sound=AlertSound(enabled=False), confirm_close=False)
    try:
        qtbot.addWidget(session.window)
        session.window.show()
        qtbot.waitExposed(session.window)
        assert any("F10" in action.text() for action in session.window.toolbar.actions())
        with qtbot.waitSignal(session.window.supervisor_requested, timeout=10_000):
            session.window.supervisor_action.trigger()
        dialog = session.window.findChild(SupervisorLoginDialog)
        assert dialog is not None and dialog.isVisible()
        log_in(qtbot, dialog)
        dialog.submit()
        qtbot.waitUntil(lambda: session.window.findChild(ReviewWindow) is not None, timeout=10_000)
        review = session.window.findChild(ReviewWindow)
        qtbot.waitUntil(lambda: "PQR789" in review.shown_plates(), timeout=10_000)
        assert SupervisorSessionCache(config.data_dir).cached_usernames() == [USER]
        client = review.client
        review.close()
        qtbot.waitUntil(lambda: not client.logged_in, timeout=10_000)
    finally:
        session.stop()


def test_a_booths_waiver_request_is_approved_in_the_queue(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    booth_client = ServerClient(reference_server.url, DEMO_TOKENS["booth-a"], booth_id="booth-a")
    try:
        ids = [s.id for s in booth_client.history("B0LT123").sessions if s.unpaid_cents > 0]
    finally:
        booth_client.close()
    asked = requests.post(
        f"{reference_server.url}/api/v1/waiver-requests",
        json={
            "request_id": str(uuid.uuid4()),
            "plate": "B0LT123",
            "session_ids": ids,
            "reason": "hearse",
            "lane": "Exit 1",
        },
        headers={"Authorization": f"Bearer {DEMO_TOKENS['booth-a']}"},
        timeout=5,
    )
    assert asked.status_code == 200, asked.text

    window = logged_in_window(qtbot, reference_server, cache, clients)
    queue = window.waivers
    qtbot.waitUntil(lambda: len(queue.requests()) == 1, timeout=10_000)
    assert queue.requests()[0].plate == "B0LT123"
    assert not queue.approve_button.isEnabled()
    queue.select_request(0)
    assert queue.approve_button.isEnabled()
    assert not queue.decide_selected(True, "  ")
    with qtbot.waitSignal(queue.decided, timeout=10_000) as decided:
        assert queue.decide_selected(True, "funeral procession")
    assert decided.args[0].status == "approved"
    qtbot.waitUntil(lambda: queue.requests() == [], timeout=10_000)
    with qtbot.waitSignal(window.refreshed, timeout=10_000):
        window.refresh()
    assert "B0LT123" not in window.shown_plates()
