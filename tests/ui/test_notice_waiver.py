"""F9 under must_pay: the notice asks a supervisor for a waiver, end to end against the
real reference server (ABC123 owes 18.50 USD), with the supervisor deciding through the
supervisor API or the review window, and offline with the supervisor's PIN."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import Qt

from desktop.client import ServerRejected
from desktop.domain import Outcome, OutcomeKind, PaymentMethod, RecoveryNotice
from desktop.supervisor_client import SupervisorClient
from server.cli import ServerThread
from tests.conftest import LANE
from tests.ui.test_notice_dialog import confirm, owed_on_server, press, raise_notice, wait_outcome
from ui.bridge import BoothBridge
from ui.notice import NoticeDialog
from ui.notice.waiver import WaiverForm
from ui.supervisor.review_window import ReviewWindow

USER, PASSWORD, PIN = "super", "demo-supervisor", "1234"
WAIT_MS = 15_000


@pytest.fixture
def supervisor(reference_server: ServerThread) -> Iterator[SupervisorClient]:
    """The demo supervisor, logged in through the supervisor API."""
    client = SupervisorClient(reference_server.url, connect_timeout_s=0.5, retries=0)
    client.login(USER, PASSWORD)
    yield client
    client.close()


@pytest.fixture
def open_notice(bridge: BoothBridge, qtbot) -> Iterator[Callable[..., NoticeDialog]]:
    """A must_pay notice on screen, polling its waiver request every 100 ms."""
    dialogs: list[NoticeDialog] = []

    def opener(notice: RecoveryNotice) -> NoticeDialog:
        dialog = NoticeDialog(
            notice,
            bridge,
            exit_policy="must_pay",
            verify_pin=lambda _pin: False,
            close_after_ms=200,
            waiver_poll_ms=100,
        )
        qtbot.addWidget(dialog)
        dialogs.append(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow)
        return dialog

    yield opener
    for dialog in dialogs:
        if dialog.isVisible():
            dialog.abandon()


@pytest.fixture
def recorded(bridge: BoothBridge) -> list[Outcome]:
    outcomes: list[Outcome] = []
    bridge.outcome_recorded.connect(outcomes.append)
    return outcomes


def ask_for_waiver(qtbot, dialog: NoticeDialog, reason: str = "ambulance on duty") -> WaiverForm:
    press(qtbot, dialog, Qt.Key.Key_F9)
    form = dialog.waiver_form
    assert form is not None and dialog.current_form() is form
    qtbot.keyClicks(form.reason, reason)
    confirm(qtbot, dialog)
    return form


def wait_pending(qtbot, dialog: NoticeDialog) -> None:
    qtbot.waitUntil(
        lambda: (
            dialog.waiver_state.isVisible()
            and dialog.waiver_state.text().startswith("Waiting for a supervisor...")
        ),
        timeout=WAIT_MS,
    )


def test_the_supervisor_approves_in_the_review_window_and_the_notice_closes_waived(
    bridge, qtbot, open_notice, supervisor, recorded
):
    notice = raise_notice(bridge, qtbot)
    dialog = open_notice(notice)
    assert dialog.buttons["leave"].text() == "Ask for a waiver [F9]"
    ask_for_waiver(qtbot, dialog)
    wait_pending(qtbot, dialog)
    # The attendant is not blocked: the payment forms still open while the request waits.
    press(qtbot, dialog, Qt.Key.Key_F5)
    assert dialog.current_form() is dialog.cash_form and dialog.cash_form.isEnabled()
    assert dialog.waiver_state.text().startswith("Waiting for a supervisor...")

    review = ReviewWindow(supervisor)
    qtbot.addWidget(review)
    review.show()
    queue = review.waivers
    qtbot.waitUntil(lambda: len(queue.requests()) == 1, timeout=WAIT_MS)
    asked = queue.requests()[0]
    assert (asked.plate, asked.reason, asked.lane, asked.attendant, asked.booth_id) == (
        "ABC123",
        "ambulance on duty",
        LANE,
        "alice",
        "booth-a",
    )
    queue.select_request(0)
    with qtbot.waitSignal(queue.decided, timeout=WAIT_MS):
        assert queue.decide_selected(True, "emergency vehicle")

    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.approved_by, outcome.reason) == (
        OutcomeKind.WAIVED,
        "super",
        "ambulance on duty",
    )
    assert outcome.waiver_request_id == asked.request_id
    assert dialog.confirmation_text.text().startswith(
        "Recorded: waived, approved by super (ambulance on duty)"
    )
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)  # closes by itself
    assert len(recorded) == 1

    status = bridge.booth.sync_now()
    assert (status.outbox_pending, status.outbox_dead) == (0, 0)  # delivered, accepted
    assert owed_on_server(bridge) == 0
    assert (
        bridge.booth.store.record_outcome(  # a second outcome is never recorded
            outcome_id=outcome.outcome_id,
            notice_id=notice.notice_id,
            plate=notice.listed_plate,
            lane=LANE,
            kind=OutcomeKind.PAID,
            method=PaymentMethod.CASH,
            amount_cents=notice.unpaid_cents,
            session_ids=notice.session_ids,
            attendant="alice",
            recorded_at=outcome.recorded_at,
        ).kind
        is OutcomeKind.WAIVED
    )


def test_a_refusal_keeps_the_notice_open_with_the_reason_and_cash_is_taken(
    bridge, qtbot, open_notice, supervisor, recorded
):
    notice = raise_notice(bridge, qtbot)
    dialog = open_notice(notice)
    ask_for_waiver(qtbot, dialog, "says the machine was broken")
    wait_pending(qtbot, dialog)
    pending = supervisor.waiver_requests("pending").items
    assert [r.reason for r in pending] == ["says the machine was broken"]
    supervisor.decide_waiver(pending[0].request_id, False, "the machine works; collect it")

    qtbot.waitUntil(lambda: "Refused by super" in dialog.waiver_state.text(), timeout=WAIT_MS)
    assert dialog.waiver_state.text() == (
        "Refused by super: the machine works; collect it. Collect the payment."
    )
    assert dialog.isVisible() and dialog.outcome is None and recorded == []

    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "20")
    confirm(qtbot, dialog)
    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.method) == (OutcomeKind.PAID, PaymentMethod.CASH)
    status = bridge.booth.sync_now()
    assert (status.outbox_pending, status.outbox_dead) == (0, 0)
    assert owed_on_server(bridge) == 0


def test_cash_while_the_request_waits_withdraws_it_and_a_late_approval_cannot_count(
    bridge, qtbot, open_notice, supervisor, recorded
):
    notice = raise_notice(bridge, qtbot)
    dialog = open_notice(notice)
    form = ask_for_waiver(qtbot, dialog)
    wait_pending(qtbot, dialog)
    request_id = form.open_request_id
    assert request_id is not None

    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "18.50")
    confirm(qtbot, dialog)
    outcome = wait_outcome(qtbot, dialog)
    assert outcome.kind is OutcomeKind.PAID
    assert not dialog.waiver_state.isVisible()

    status = bridge.booth.sync_now()
    assert (status.outbox_pending, status.outbox_dead) == (0, 0)
    assert supervisor.waiver_requests("pending").items == []
    (withdrawn,) = supervisor.waiver_requests("cancelled").items
    assert (withdrawn.request_id, withdrawn.decision_reason) == (
        request_id,
        "outcome recorded: paid",
    )
    with pytest.raises(ServerRejected) as late:
        supervisor.decide_waiver(request_id, True, "too late")
    assert late.value.code == "already_decided"
    assert owed_on_server(bridge) == 0  # paid once, by cash
    assert len(recorded) == 1


def test_the_attendant_withdraws_the_request(bridge, qtbot, open_notice, supervisor, recorded):
    notice = raise_notice(bridge, qtbot)
    dialog = open_notice(notice)
    form = ask_for_waiver(qtbot, dialog)
    wait_pending(qtbot, dialog)
    assert form.cancel_button.isVisible()
    qtbot.mouseClick(form.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.waiver_state.text() == "The waiver request was withdrawn.",
        timeout=WAIT_MS,
    )
    assert not form.cancel_button.isVisible()
    assert supervisor.waiver_requests("pending").items == []
    assert dialog.outcome is None and recorded == []


def test_offline_a_supervisor_at_the_booth_approves_with_the_pin_and_it_reaches_the_server(
    bridge, qtbot, open_notice, reference_server: ServerThread, tmp_path: Path, recorded
):
    # The supervisor logged in online at this booth earlier (their PIN hash is cached).
    client = SupervisorClient(reference_server.url, connect_timeout_s=0.5, retries=0)
    login = client.login(USER, PASSWORD)
    client.close()
    bridge.booth.supervisors.remember(login.username, login.offline_pin_hash)
    notice = raise_notice(bridge, qtbot)
    port = int(reference_server.url.rsplit(":", 1)[1])
    reference_server.stop()

    dialog = open_notice(notice)
    form = ask_for_waiver(qtbot, dialog, "ambulance on duty")
    qtbot.waitUntil(form.offline_box.isVisible, timeout=WAIT_MS)
    assert dialog.waiver_state.text() == ("The server cannot be reached; the request waits for it.")
    assert form.supervisor.currentText() == USER

    qtbot.keyClicks(form.pin, "9999")
    qtbot.mouseClick(form.offline_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Wrong PIN" in form.offline_message.text(), timeout=WAIT_MS)
    assert form.offline_message.text() == (
        "Wrong PIN. Nothing was recorded: no waiver without a supervisor."
    )
    assert dialog.outcome is None and recorded == [] and dialog.isVisible()

    qtbot.keyClicks(form.pin, PIN)
    qtbot.keyClick(form.pin, Qt.Key.Key_Return)
    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.approved_by, outcome.waiver_request_id) == (
        OutcomeKind.WAIVED,
        "super",
        None,
    )
    assert "waived, approved by super (ambulance on duty)" in dialog.confirmation_text.text()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert bridge.booth.sync_now().outbox_pending >= 1  # waits for the server

    with ServerThread(database_url=f"sqlite:///{tmp_path / 'server.sqlite3'}", port=port) as again:
        status = bridge.booth.sync_now()
        assert (status.online, status.outbox_pending, status.outbox_dead) == (True, 0, 0)
        assert owed_on_server(bridge) == 0
        token = requests.post(
            f"{again.url}/api/v1/supervisor/login",
            json={"username": USER, "password": PASSWORD},
            timeout=5,
        ).json()["token"]
        audit = requests.get(
            f"{again.url}/api/v1/supervisor/audit",
            params={"action": "approve_waiver_offline"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()["items"]
        assert [(a["supervisor"], a["booth_id"], a["plate"]) for a in audit] == [
            ("super", "booth-a", "ABC123")
        ]
    again.app.state.engine.dispose()


def test_offline_without_a_supervisor_there_is_no_waiver(
    bridge, qtbot, open_notice, reference_server: ServerThread, recorded
):
    notice = raise_notice(bridge, qtbot)
    reference_server.stop()
    dialog = open_notice(notice)
    form = ask_for_waiver(qtbot, dialog)
    qtbot.waitUntil(form.offline_box.isVisible, timeout=WAIT_MS)
    assert "without a supervisor there is no waiver" in form.offline_text.text()
    assert not form.offline_button.isVisible() and not form.pin.isVisible()
    assert dialog.outcome is None and recorded == []

    # The attendant still takes the money.
    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "18.50")
    confirm(qtbot, dialog)
    assert wait_outcome(qtbot, dialog).kind is OutcomeKind.PAID


def test_once_the_cash_is_recorded_the_red_f9_button_greys_out_like_the_others(
    bridge, qtbot, open_notice, recorded
):
    dialog = open_notice(raise_notice(bridge, qtbot))
    dialog.setStyleSheet((Path(__file__).parents[2] / "resources" / "style.qss").read_text())
    waiver, card = dialog.buttons["leave"], dialog.buttons["card"]

    def fill(button) -> tuple[int, int, int]:
        colour = button.grab().toImage().pixelColor(8, button.height() // 2)
        return colour.red(), colour.green(), colour.blue()

    red, green, _ = fill(waiver)
    assert red > green + 60  # red while it can be pressed

    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "18.50")
    confirm(qtbot, dialog)
    wait_outcome(qtbot, dialog)

    assert not waiver.isEnabled() and not card.isEnabled()
    assert fill(waiver) == fill(card)
