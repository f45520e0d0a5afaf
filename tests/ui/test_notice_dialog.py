"""The recovery notice, driven from the keyboard as an attendant would, against a real
booth core and the real reference server (ABC123 owes 18.50 USD over two sessions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QDialog

from desktop.domain import Outcome, OutcomeKind, PaymentMethod, PlateRead, RecoveryNotice
from desktop.supervisor_pin import hash_pin, verify_pin
from server.cli import ServerThread
from tests.conftest import LANE
from ui.bridge import BoothBridge
from ui.notice import NoticeDialog

SUPERVISOR_PIN = "4711"
PIN_HASH = hash_pin(SUPERVISOR_PIN)
CTRL = Qt.KeyboardModifier.ControlModifier
SIGNAL_TIMEOUT_MS = 10_000


def check_pin(pin: str) -> bool:
    return verify_pin(pin, PIN_HASH)


def raise_notice(bridge: BoothBridge, qtbot, plate: str = "ABC123") -> RecoveryNotice:
    with qtbot.waitSignal(bridge.notice_raised, timeout=SIGNAL_TIMEOUT_MS) as raised:
        bridge.check_manual(plate, LANE)
    return raised.args[0]


@pytest.fixture
def notice(bridge: BoothBridge, qtbot) -> RecoveryNotice:
    return raise_notice(bridge, qtbot)


@pytest.fixture
def recorded(bridge: BoothBridge) -> list[Outcome]:
    """Every outcome the bridge announces during the test."""
    outcomes: list[Outcome] = []
    bridge.outcome_recorded.connect(outcomes.append)
    return outcomes


@pytest.fixture
def open_notice(bridge: BoothBridge, qtbot) -> Iterator[Callable[..., NoticeDialog]]:
    """Open a notice dialog the way the main window does, active and on screen."""
    dialogs: list[NoticeDialog] = []

    def opener(notice: RecoveryNotice, policy: str = "must_pay", **options) -> NoticeDialog:
        dialog = NoticeDialog(notice, bridge, exit_policy=policy, verify_pin=check_pin, **options)
        qtbot.addWidget(dialog)
        dialogs.append(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow)
        return dialog

    yield opener
    for dialog in dialogs:
        dialog.abandon()


def press(qtbot, dialog: NoticeDialog, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier):
    """A key pressed wherever the focus is in the dialog."""
    target = dialog.focusWidget() or dialog
    qtbot.keyClick(target, key, modifier)


def confirm(qtbot, dialog: NoticeDialog) -> None:
    press(qtbot, dialog, Qt.Key.Key_Return, CTRL)


def wait_outcome(qtbot, dialog: NoticeDialog) -> Outcome:
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=SIGNAL_TIMEOUT_MS)
    assert dialog.outcome is not None
    return dialog.outcome


def owed_on_server(bridge: BoothBridge, plate: str = "ABC123") -> int:
    return bridge.booth.client.history(plate).unpaid_cents


# -- what the attendant sees -----------------------------------------------------------


def test_the_notice_shows_the_plate_amount_sessions_match_and_source(open_notice, notice):
    dialog = open_notice(notice)
    summary = dialog.summary
    assert "ABC123" in summary.banner.text()
    assert LANE in summary.banner.text()
    assert summary.amount.text() == "18.50 USD"
    assert summary.match.text() == "exact match"
    assert summary.source.text() == "from the server, just now"
    table = summary.sessions
    rows = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(2)]
    assert table.rowCount() == 2
    assert sorted((row[0], row[3]) for row in rows) == [
        ("North Garage", "12.00"),
        ("South Lot", "6.50"),
    ]
    assert all(row[2] == "3 h 00 min" for row in rows)
    assert summary.crop.text() == "No plate picture"
    assert summary.snapshot.text() == "No snapshot"
    labels = {
        name: dialog.findChild(object, name).text()
        for name in (
            "collectCashButton",
            "collectCardButton",
            "collectQrButton",
            "disputeButton",
            "letThroughButton",
            "wrongPlateButton",
        )
    }
    assert labels == {
        "collectCashButton": "Cash [F5]",
        "collectCardButton": "Card [F6]",
        "collectQrButton": "QR code [F7]",
        "disputeButton": "Driver disputes [F8]",
        "letThroughButton": "Ask for a waiver [F9]",
        "wrongPlateButton": "Wrong plate [F2]",
    }


def test_a_look_alike_match_is_flagged_for_checking(bridge, qtbot, open_notice):
    bridge.booth.sync_now()  # PQR789 is listed from the start
    notice = raise_notice(bridge, qtbot, "PQR7B9")  # 8 read as B: OCR-equivalent
    dialog = open_notice(notice)
    assert dialog.summary.match.text() == "check the plate: read PQR7B9, listed PQR789"
    assert dialog.summary.source.text().startswith("from the local cache, synced")
    assert dialog.summary.match.property("role") == "warning"


def test_the_plate_picture_and_snapshot_of_the_read_are_shown(
    bridge, qtbot, open_notice, tmp_path: Path
):
    crop_path, snapshot_path = tmp_path / "crop.png", tmp_path / "snapshot.jpg"
    for path, size in ((crop_path, (240, 60)), (snapshot_path, (640, 360))):
        image = QImage(*size, QImage.Format.Format_RGB32)
        image.fill(QColor("#336699"))
        assert image.save(str(path))
    read = PlateRead(plate="ABC123", lane=LANE, crop_path=crop_path, snapshot_path=snapshot_path)
    with qtbot.waitSignal(bridge.notice_raised, timeout=SIGNAL_TIMEOUT_MS) as raised:
        bridge.submit(read)
    dialog = open_notice(raised.args[0])
    qtbot.waitUntil(lambda: dialog.summary.crop.has_image and dialog.summary.snapshot.has_image)


# -- payments ----------------------------------------------------------------------------


def test_cash_shows_the_change_and_the_payment_reaches_the_server(
    bridge, qtbot, open_notice, notice, recorded
):
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_F5)
    cash = dialog.cash_form
    assert dialog.focusWidget() is cash.tendered
    qtbot.keyClicks(cash.tendered, "10")
    assert cash.change.text() == "not enough: 8.50 USD short"
    confirm(qtbot, dialog)
    assert recorded == []
    assert dialog.isVisible()

    cash.tendered.clear()
    qtbot.keyClicks(cash.tendered, "20.00")
    assert cash.change.text() == "1.50 USD"
    confirm(qtbot, dialog)
    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.method, outcome.amount_cents) == (
        OutcomeKind.PAID,
        PaymentMethod.CASH,
        1850,
    )
    assert dialog.confirmation_change.text() == "Give change: 1.50 USD"
    assert "Recorded: paid 18.50 USD by cash" in dialog.confirmation_text.text()

    with qtbot.waitSignal(dialog.finished, timeout=SIGNAL_TIMEOUT_MS):
        press(qtbot, dialog, Qt.Key.Key_Return)  # only closes the confirmation
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [o.outcome_id for o in recorded] == [outcome.outcome_id]

    status = bridge.booth.sync_now()
    assert (status.outbox_pending, status.outbox_dead) == (0, 0)
    assert owed_on_server(bridge) == 0


def test_the_confirmation_closes_by_itself(bridge, qtbot, open_notice, notice):
    dialog = open_notice(notice, close_after_ms=200)
    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "18.50")
    confirm(qtbot, dialog)
    with qtbot.waitSignal(dialog.finished, timeout=SIGNAL_TIMEOUT_MS):
        pass
    assert dialog.outcome is not None
    assert not dialog.isVisible()


def test_card_needs_the_terminal_reference(qtbot, open_notice, notice, recorded):
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_F6)
    card = dialog.card_form
    assert not card.confirm_button.isEnabled()
    confirm(qtbot, dialog)
    assert card.message.text() == "Type the card terminal's reference first."
    assert recorded == []

    qtbot.keyClicks(card.reference, "T-99812")
    keypad_enter = CTRL | Qt.KeyboardModifier.KeypadModifier
    press(qtbot, dialog, Qt.Key.Key_Enter, keypad_enter)  # Ctrl + the keypad's Enter
    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.method, outcome.reference) == (
        OutcomeKind.PAID,
        PaymentMethod.CARD,
        "T-99812",
    )
    assert not dialog.confirmation_change.isVisible()


def test_enter_alone_and_escape_neither_record_nor_close(qtbot, open_notice, notice, recorded):
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_Return)
    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "20")
    assert dialog.cash_form.confirm_button.isEnabled()
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        press(qtbot, dialog, key)
    assert dialog.current_form() is dialog.cash_form

    press(qtbot, dialog, Qt.Key.Key_Escape)  # back to the choice of actions
    assert dialog.current_form() is None
    press(qtbot, dialog, Qt.Key.Key_Escape)
    press(qtbot, dialog, Qt.Key.Key_Return)
    dialog.close()  # the window's close button or Alt+F4
    dialog.reject()
    assert dialog.isVisible()
    assert dialog.status.text() == "This notice stays open until you pick an action."
    assert dialog.outcome is None
    assert recorded == []

    press(qtbot, dialog, Qt.Key.Key_F5)  # what was typed is still there
    assert dialog.cash_form.tendered.text() == "20"


# -- no payment --------------------------------------------------------------------------


def test_a_dispute_needs_a_reason(qtbot, open_notice, notice, recorded):
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_F8)
    confirm(qtbot, dialog)
    assert dialog.dispute_form.message.text() == "A dispute needs a reason."
    assert recorded == []
    qtbot.keyClicks(dialog.dispute_form.reason, "paid at the machine")
    confirm(qtbot, dialog)
    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.reason) == (OutcomeKind.DISPUTED, "paid at the machine")


def test_under_remind_only_the_driver_is_reminded_and_let_go_without_a_pin(
    qtbot, open_notice, notice
):
    dialog = open_notice(notice, policy="remind_only")
    assert dialog.buttons["leave"].text() == "Let go (reminded) [F9]"
    press(qtbot, dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    press(qtbot, dialog, Qt.Key.Key_F9)
    assert dialog.leave_form.pin is None
    assert dialog.leave_form.reason.text() == "reminded"
    confirm(qtbot, dialog)
    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.reason) == (OutcomeKind.LEFT_UNPAID, "reminded")


def test_a_wrong_plate_is_checked_again_without_an_outcome(qtbot, open_notice, notice, recorded):
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_F2)
    field = dialog.wrong_plate_form.plate
    assert field.text() == "ABC123"
    field.selectAll()
    qtbot.keyClicks(field, "abd 123")
    press(qtbot, dialog, Qt.Key.Key_Return)
    assert dialog.isVisible()
    with qtbot.waitSignal(dialog.recheck_requested) as asked:
        confirm(qtbot, dialog)
    assert asked.args == ["ABD123", LANE]
    assert not dialog.isVisible()
    assert dialog.outcome is None
    assert recorded == []


# -- one outcome per notice ------------------------------------------------------------


def test_reopening_a_notice_that_has_an_outcome_records_nothing_new(
    bridge, qtbot, open_notice, notice, recorded
):
    first = bridge.record_outcome(
        notice, OutcomeKind.PAID, method=PaymentMethod.CARD, reference="T-1"
    )
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "20")
    confirm(qtbot, dialog)
    shown = wait_outcome(qtbot, dialog)
    assert shown.outcome_id == first.outcome_id
    assert not shown.created
    text = dialog.confirmation_text.text()
    assert "already has an outcome: paid 18.50 USD by card" in text
    assert "Do not collect again." in text
    assert not dialog.confirmation_change.isVisible()  # no change for money not taken
    status = bridge.booth.sync_now()
    assert (status.outbox_pending, status.outbox_dead) == (0, 0)
    assert owed_on_server(bridge) == 0


def test_a_notice_opened_with_its_earlier_outcome_only_shows_it(
    bridge, qtbot, open_notice, notice, recorded
):
    earlier = bridge.record_outcome(notice, OutcomeKind.DISPUTED, reason="not my car")
    dialog = open_notice(notice, recorded=earlier)
    assert "already has an outcome: disputed by the driver (not my car)" in (
        dialog.confirmation_text.text()
    )
    press(qtbot, dialog, Qt.Key.Key_F5)
    assert dialog.current_form() is None
    assert not dialog.buttons["cash"].isEnabled()
    with qtbot.waitSignal(dialog.finished):
        press(qtbot, dialog, Qt.Key.Key_Escape)
    assert dialog.outcome is earlier
    assert len(recorded) == 1


# -- QR code -----------------------------------------------------------------------------


def decode_qr(image: QImage) -> str:
    """What a phone camera would read from the code on screen."""
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    pixels = rows[:, : image.width()].copy()
    # The ArUco-based detector finds every code segno draws; the classic one misses ~3%.
    text, _points, _straight = cv2.QRCodeDetectorAruco().detectAndDecode(pixels)
    return text


def test_a_qr_payment_completes_the_notice_by_itself(bridge, qtbot, open_notice, notice, recorded):
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_F7)
    qr = dialog.qr_form
    qtbot.waitUntil(lambda: qr.intent is not None, timeout=SIGNAL_TIMEOUT_MS)
    intent = qr.intent
    assert qr.url.text() == intent.pay_url
    assert decode_qr(qr.code.pixmap().toImage()) == intent.pay_url
    assert qr.state.text().startswith("Waiting for payment of 18.50 USD")

    press(qtbot, dialog, Qt.Key.Key_F5)  # the attendant looks at cash meanwhile
    with requests.Session() as phone:  # the driver opens the page and presses Pay
        assert phone.get(intent.pay_url, timeout=5).status_code == 200
        assert phone.post(intent.pay_url, timeout=5).status_code == 200

    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.method, outcome.reference) == (
        OutcomeKind.PAID,
        PaymentMethod.QR,
        str(intent.intent_id),
    )
    assert "Recorded: paid 18.50 USD by QR code" in dialog.confirmation_text.text()
    assert len(recorded) == 1
    status = bridge.booth.sync_now()
    assert (status.outbox_pending, status.outbox_dead) == (0, 0)
    assert owed_on_server(bridge) == 0


def test_without_the_server_qr_says_so_and_cash_still_works(
    qtbot, open_notice, notice, reference_server: ServerThread, recorded
):
    reference_server.stop()
    dialog = open_notice(notice)
    press(qtbot, dialog, Qt.Key.Key_F7)
    qr = dialog.qr_form
    qtbot.waitUntil(lambda: "cannot be reached" in qr.state.text(), timeout=30_000)
    assert qr.state.text().endswith("Take cash [F5] or card [F6] instead.")
    assert not qr.code.isVisible()

    press(qtbot, dialog, Qt.Key.Key_F5)
    qtbot.keyClicks(dialog.cash_form.tendered, "18.50")
    assert dialog.cash_form.change.text() == "0.00 USD"
    confirm(qtbot, dialog)
    outcome = wait_outcome(qtbot, dialog)
    assert (outcome.kind, outcome.method) == (OutcomeKind.PAID, PaymentMethod.CASH)
    assert dialog.confirmation_change.text() == "No change to give."
