"""Notices from several lanes are shown one at a time, each chiming once."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.bridge import BoothBridge
from ui.notice_presenter import NoticePresenter
from ui.sound import AlertSound


def raise_notice(bridge: BoothBridge, qtbot, plate: str, lane: str):
    with qtbot.waitSignal(bridge.notice_raised, timeout=10_000) as raised:
        bridge.check_manual(plate, lane)
    return raised.args[0]


def test_two_notices_queue_and_the_second_follows_the_first(bridge: BoothBridge, qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    sound = AlertSound()
    presenter = NoticePresenter(
        window, bridge, exit_policy="must_pay", verify_pin=lambda _pin: False, sound=sound
    )
    first = raise_notice(bridge, qtbot, "ABC123", "Exit 1")
    second = raise_notice(bridge, qtbot, "PQR789", "Exit 2")

    presenter.present(first)
    presenter.present(second)

    shown = presenter.current
    assert shown is not None and shown.notice == first and shown.isVisible()
    assert shown.waiting.isVisible()
    assert shown.waiting.text() == "Notices waiting after this one: 1"
    assert sound.played == 1

    shown.abandon()
    qtbot.waitUntil(lambda: presenter.current is not None and presenter.current.notice == second)
    assert not presenter.current.waiting.isVisible()
    assert sound.played == 2

    presenter.current.abandon()
    qtbot.waitUntil(lambda: presenter.current is None)
    presenter.present(first)  # re-opened from the reads list: shown again, no chime
    qtbot.waitUntil(lambda: presenter.current is not None)
    assert presenter.current.notice == first
    assert sound.played == 2
    presenter.current.abandon()


def test_the_same_notice_twice_is_shown_once(bridge: BoothBridge, qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    presenter = NoticePresenter(
        window,
        bridge,
        exit_policy="must_pay",
        verify_pin=lambda _pin: False,
        sound=AlertSound(enabled=False),
    )
    notice = raise_notice(bridge, qtbot, "ABC123", "Exit 1")
    presenter.present(notice)
    presenter.present(notice)
    assert presenter.waiting == 0
    assert not presenter.current.waiting.isVisible()
    presenter.current.abandon()
