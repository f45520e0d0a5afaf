"""Manual plate entry and the supervisor PIN dialog, typed at as an attendant would."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog

from desktop.supervisor_pin import hash_pin, verify_pin
from ui.manual_entry import ManualEntryDialog
from ui.pin_dialog import SupervisorPinDialog, ask_supervisor_pin

LANES = ["Exit 1", "Exit 2"]
PIN_HASH = hash_pin("4711")


def check_pin(pin: str) -> bool:
    return verify_pin(pin, PIN_HASH)


@pytest.fixture
def entry(qtbot) -> ManualEntryDialog:
    dialog = ManualEntryDialog(LANES)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_a_typed_plate_is_submitted_with_enter_for_the_first_lane(entry, qtbot):
    assert entry.lane_box.currentText() == "Exit 1"
    qtbot.keyClicks(entry.plate_field, "abc-123")
    with qtbot.waitSignal(entry.accepted):
        qtbot.keyClick(entry.plate_field, Qt.Key.Key_Return)
    assert (entry.plate, entry.lane) == ("ABC123", "Exit 1")


def test_the_lane_can_be_picked(entry, qtbot):
    entry.plate_field.insert("ＸＹＺ ７８９")  # full-width, as an input method commits it
    entry.lane_box.setFocus()
    qtbot.keyClick(entry.lane_box, Qt.Key.Key_Down)
    with qtbot.waitSignal(entry.accepted):
        qtbot.keyClick(entry.lane_box, Qt.Key.Key_Return)
    assert (entry.plate, entry.lane) == ("XYZ789", "Exit 2")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type the plate first."),
        ("   ", "Type the plate first."),
        ("--- ..", "A plate needs letters or digits; --- .. has none."),
    ],
)
def test_a_plate_without_letters_or_digits_is_refused_inline(entry, qtbot, typed, message):
    qtbot.keyClicks(entry.plate_field, typed)
    qtbot.keyClick(entry.plate_field, Qt.Key.Key_Return)
    assert entry.isVisible()
    assert entry.result() != QDialog.DialogCode.Accepted
    assert entry.message.isVisible()
    assert entry.message.text() == message
    assert entry.plate == ""

    qtbot.keyClicks(entry.plate_field, "K1")  # typing again clears the complaint
    assert not entry.message.isVisible()


def test_escape_cancels_manual_entry(entry, qtbot):
    qtbot.keyClicks(entry.plate_field, "ABC123")
    with qtbot.waitSignal(entry.rejected):
        qtbot.keyClick(entry.plate_field, Qt.Key.Key_Escape)
    assert entry.plate == ""


def test_manual_entry_needs_a_lane():
    with pytest.raises(ValueError, match="at least one lane"):
        ManualEntryDialog([])


# -- the supervisor PIN dialog ---------------------------------------------------------


def test_the_pin_dialog_says_what_it_unlocks_and_counts_wrong_pins(qtbot):
    dialog = SupervisorPinDialog(check_pin, "open the settings")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.findChild(object, "pinPurpose").text() == (
        "A supervisor's PIN is needed to open the settings."
    )
    field = dialog.entry.field
    assert field.echoMode() == field.EchoMode.Password
    qtbot.keyClicks(field, "12ab34")  # only digits are taken
    assert field.text() == "1234"
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.failed_attempts == 1)
    assert dialog.entry.message.text() == "Wrong PIN (1 failed); try again."
    assert dialog.isVisible()

    qtbot.keyClicks(field, "4711")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(field, Qt.Key.Key_Return)


def test_ask_supervisor_pin_is_true_only_for_the_right_pin(qtbot):
    def type_into_dialog(pin: str) -> None:
        dialog = next(
            w
            for w in qtbot_app().topLevelWidgets()
            if isinstance(w, SupervisorPinDialog) and w.isVisible()
        )
        qtbot.keyClicks(dialog.entry.field, pin)
        if pin:
            qtbot.keyClick(dialog.entry.field, Qt.Key.Key_Return)
        else:
            qtbot.keyClick(dialog.entry.field, Qt.Key.Key_Escape)

    QTimer.singleShot(0, lambda: type_into_dialog("4711"))
    assert ask_supervisor_pin(None, check_pin, "let ABC123 through unpaid") is True
    QTimer.singleShot(0, lambda: type_into_dialog(""))
    assert ask_supervisor_pin(None, check_pin, "let ABC123 through unpaid") is False


def qtbot_app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()
