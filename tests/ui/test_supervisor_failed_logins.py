"""Failed logins on a supervisor's account, told at the next login, against the real server.

The server counts the failed logins since the account's previous login and reports the
last one's time and address; the review window says so at its top, in the booth's local
time. The login dialog's rate-limit message says what the server limits: this booth.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint

from desktop.supervisor_client import SupervisorClient
from desktop.supervisor_models import SupervisorLogin
from desktop.supervisor_session import SupervisorSessionCache
from server.cli import ServerThread
from tests.conftest import booth_config
from tests.ui.test_supervisor_review import USER, log_in, make_dialog
from ui.app import BoothSession
from ui.sound import AlertSound
from ui.supervisor.login_dialog import SupervisorLoginDialog
from ui.supervisor.review_window import ReviewWindow

#: The booth's local time zone in these tests: UTC+8 (POSIX sign), no tz database needed.
BOOTH_TZ = "CST-8"
BOOTH_OFFSET = timezone(timedelta(hours=8))


@pytest.fixture
def booth_time_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time is UTC+8, so a time shown in UTC would be caught."""
    monkeypatch.setenv("TZ", BOOTH_TZ)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def cache(tmp_path: Path) -> SupervisorSessionCache:
    return SupervisorSessionCache(tmp_path / "supervisor")


@pytest.fixture
def clients() -> Iterator[list[SupervisorClient]]:
    made: list[SupervisorClient] = []
    yield made
    for client in made:
        client.close()


def fail_logins(qtbot, dialog: SupervisorLoginDialog, count: int) -> None:
    for attempt in range(count):
        log_in(qtbot, dialog, f"wrong-{attempt}")
        dialog.submit()
        qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
        assert dialog.message.text() == "wrong username or password"
        dialog.username_field.clear()


def log_in_for_real(qtbot, dialog: SupervisorLoginDialog) -> SupervisorLogin:
    log_in(qtbot, dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.submit()
    assert dialog.login is not None
    return dialog.login


def review_window(qtbot, client: SupervisorClient, login: SupervisorLogin) -> ReviewWindow:
    window = ReviewWindow(client, login=login)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not window.loading and window.model.rowCount() > 0, timeout=10_000)
    return window


def booth_clock(moment: datetime) -> str:
    """``moment`` as the booth's clock shows it: HH:MM today, the date first otherwise."""
    local, today = moment.astimezone(BOOTH_OFFSET), datetime.now(BOOTH_OFFSET).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"


def test_f10_review_warns_of_the_failed_logins_since_the_last_one(
    qtbot, reference_server: ServerThread, tmp_path: Path, booth_time_zone: None
) -> None:
    config = booth_config(reference_server.url, tmp_path / "booth")
    session = BoothSession(config, sound=AlertSound(enabled=False), confirm_close=False)
    try:
        qtbot.addWidget(session.window)
        session.window.show()
        qtbot.waitExposed(session.window)
        session.window.supervisor_action.trigger()
        dialog = session.window.findChild(SupervisorLoginDialog)
        assert dialog is not None
        before = datetime.now(BOOTH_OFFSET)
        fail_logins(qtbot, dialog, 3)
        after = datetime.now(BOOTH_OFFSET)
        log_in(qtbot, dialog)
        dialog.submit()
        qtbot.waitUntil(lambda: session.window.findChild(ReviewWindow) is not None, timeout=10_000)
        review = session.window.findChild(ReviewWindow)
        qtbot.waitUntil(lambda: review.isVisible() and not review.loading, timeout=10_000)

        login = dialog.login
        assert login is not None and login.failed_logins == 3
        assert login.last_failed_login_at is not None
        assert before - timedelta(seconds=1) <= login.last_failed_login_at <= after
        assert review.failed_logins_warning.isVisible()
        assert review.failed_logins_warning.text() == (
            "3 failed logins on your account since your last login, the last from "
            f"127.0.0.1 at {booth_clock(login.last_failed_login_at)}. "
            "If that was not you, tell IT."
        )
        # Above the filters and the table, where the supervisor looks first.
        origin = QPoint(0, 0)
        top_of = review.failed_logins_warning.mapTo(review, origin).y()
        assert top_of < review.status_filter.mapTo(review, origin).y()
        review.close()
    finally:
        session.stop()


def test_one_failed_login_is_told_in_the_singular_and_an_older_one_with_its_date(
    qtbot, reference_server: ServerThread, cache, clients, booth_time_zone: None
) -> None:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    fail_logins(qtbot, dialog, 1)
    login = log_in_for_real(qtbot, dialog)
    assert login.failed_logins == 1 and login.last_failed_login_at is not None
    assert dialog.client is not None
    window = review_window(qtbot, dialog.client, login)
    assert window.failed_logins_warning.isVisible()
    assert window.failed_logins_warning.text() == (
        "1 failed login on your account since your last login, from 127.0.0.1 at "
        f"{booth_clock(login.last_failed_login_at)}. If that was not you, tell IT."
    )

    three_days_ago = login.last_failed_login_at - timedelta(days=3)
    older = review_window(
        qtbot, dialog.client, login.model_copy(update={"last_failed_login_at": three_days_ago})
    )
    local = three_days_ago.astimezone(BOOTH_OFFSET)
    assert f"from 127.0.0.1 at {local:%Y-%m-%d %H:%M}. If" in older.failed_logins_warning.text()


def test_no_failed_logins_show_no_warning(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    login = log_in_for_real(qtbot, dialog)
    assert login.failed_logins == 0
    assert dialog.client is not None
    window = review_window(qtbot, dialog.client, login)
    assert not window.failed_logins_warning.isVisible()
    assert not window.failed_logins_banner.isVisible()
    without_login = review_window(qtbot, dialog.client, None)  # as callers did before
    assert not without_login.failed_logins_banner.isVisible()


def test_the_warning_leaves_the_table_room_on_a_1366_by_768_screen(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    fail_logins(qtbot, dialog, 2)
    login = log_in_for_real(qtbot, dialog)
    assert dialog.client is not None
    window = review_window(qtbot, dialog.client, login)
    for width in (1366, 1024):  # the second: a booth PC with the window not maximized
        window.resize(width, 768 - 40)  # a taskbar takes the rest
        qtbot.waitUntil(lambda w=width: window.width() == w)
        line = window.failed_logins_warning.fontMetrics().lineSpacing()
        assert window.failed_logins_banner.height() <= 2 * line + 16  # at most two lines
        assert window.table.viewport().height() >= window.height() // 2
        last = window.model.rowCount() - 1  # every demo flag in view, no scrolling
        bottom = window.table.rowViewportPosition(last) + window.table.rowHeight(last)
        assert bottom <= window.table.viewport().height()
        assert window.failed_logins_warning.width() > window.width() // 2


def test_too_many_failed_logins_name_the_booth_not_the_username(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    fail_logins(qtbot, dialog, 5)
    log_in(qtbot, dialog)  # even the right password is refused for now, from here
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.busy and "Too many" in dialog.message.text(), timeout=10_000)
    assert dialog.message.text() == ("Too many failed logins from this booth. Try again in 15 min.")
    assert USER not in dialog.message.text() and "username" not in dialog.message.text()
