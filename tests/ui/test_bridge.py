"""The bridge: decisions come back as signals on the GUI thread, outcomes are stored."""

from __future__ import annotations

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from desktop.domain import OutcomeKind, PaymentMethod
from tests.conftest import LANE
from ui.bridge import BoothBridge, ReadDecision


def test_an_owing_plate_raises_a_notice_delivered_on_the_gui_thread(bridge: BoothBridge, qtbot):
    threads: list[QThread] = []
    bridge.notice_raised.connect(lambda _notice: threads.append(QThread.currentThread()))
    with qtbot.waitSignal(bridge.notice_raised, timeout=10_000) as raised:
        bridge.check_manual("abc 123", LANE)
    notice = raised.args[0]
    assert notice.listed_plate == "ABC123"
    assert notice.unpaid_cents == 1850
    assert threads == [QApplication.instance().thread()]


def test_a_plate_that_owes_nothing_is_decided_without_a_notice(bridge: BoothBridge, qtbot):
    notices = []
    bridge.notice_raised.connect(notices.append)
    with qtbot.waitSignal(bridge.decided, timeout=10_000) as decided:
        bridge.check_manual("KLM4455", LANE)
    decision: ReadDecision = decided.args[0]
    assert decision.read.plate == "KLM4455"
    assert decision.notice is None
    assert decision.error == ""
    assert notices == []


def test_a_recorded_outcome_is_announced_and_queued_for_the_server(bridge: BoothBridge, qtbot):
    with qtbot.waitSignal(bridge.notice_raised, timeout=10_000) as raised:
        bridge.check_manual("ABC123", LANE)
    with qtbot.waitSignal(bridge.outcome_recorded) as recorded:
        bridge.record_outcome(raised.args[0], OutcomeKind.PAID, method=PaymentMethod.CASH)
    assert recorded.args[0].amount_cents == 1850
    assert bridge.booth.sync_now().outbox_pending == 0
