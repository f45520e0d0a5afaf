"""The review window's evidence images and audit log, and the login rate limit, against
the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.booth import BoothService
from desktop.domain import OutcomeKind
from desktop.supervisor_client import SupervisorClient
from desktop.supervisor_session import SupervisorSessionCache
from server.cli import ServerThread
from tests.desktop.evidence_support import read_with_evidence
from tests.ui.test_supervisor_review import log_in, logged_in_window, make_dialog


@pytest.fixture
def cache(tmp_path: Path) -> SupervisorSessionCache:
    return SupervisorSessionCache(tmp_path / "supervisor")


@pytest.fixture
def clients() -> Iterator[list[SupervisorClient]]:
    made: list[SupervisorClient] = []
    yield made
    for client in made:
        client.close()


def test_the_detail_pane_shows_the_vehicles_evidence_images(
    qtbot, reference_server: ServerThread, booth: BoothService, cache, clients, tmp_path: Path
) -> None:
    notice = booth.check(read_with_evidence(tmp_path / "lane", "ABC123"))
    assert notice is not None
    booth.record_outcome(notice, OutcomeKind.LEFT_UNPAID, reason="drove off")
    assert booth.sync_now().outbox_pending == 0

    window = logged_in_window(qtbot, reference_server, cache, clients)
    pane = window.evidence_pane
    with qtbot.waitSignal(pane.images_shown, timeout=10_000) as shown:
        assert window.select_plate("ABC123")
        # A clear placeholder while the file and its images are on their way.
        assert pane.status.text() == "Loading evidence images..."
    assert shown.args == [2]
    assert pane.status.text() == "2 evidence images."
    sizes = sorted((image.width(), image.height()) for image in pane.shown_images())
    # The 240 x 60 crop enlarged to the thumbnail width, readable; the 1280 x 720
    # snapshot as a 16:9 thumbnail.
    assert sizes[0] == (256, 64)
    assert sizes[1][0] > sizes[1][1] and abs(sizes[1][0] / sizes[1][1] - 16 / 9) < 0.02

    # A vehicle with nothing on file says so instead of showing empty frames.
    with qtbot.waitSignal(pane.images_shown, timeout=10_000) as none:
        assert window.select_plate("PQR789")
    assert none.args == [0]
    assert pane.status.text() == "No evidence images on file for PQR789."
    assert pane.shown_images() == []


def test_the_audit_tab_lists_a_dismiss_with_before_and_after(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    window = logged_in_window(qtbot, reference_server, cache, clients)
    assert window.select_plate("PQR789")
    with qtbot.waitSignal(window.action_done, timeout=10_000):
        assert window.dismiss_selected("delivery van, misread")

    audit = window.audit
    assert window.select_plate("B0LT123")
    with qtbot.waitSignal(audit.refreshed, timeout=10_000):
        window.tabs.setCurrentWidget(audit)
    rows = _rows(audit)
    dismissed = [row for row in rows if row["Action"] == "Dismissed a flag"]
    assert len(dismissed) == 1
    (row,) = dismissed
    assert (row["Who"], row["Plate"], row["Reason"]) == ("super", "PQR789", "delivery van, misread")
    assert "status: active" in row["Before"]
    assert "status: cleared" in row["After"]
    assert any(r["Action"] == "Logged in" for r in rows)

    audit.select_row(rows.index(row))
    details = audit.details.toPlainText()
    assert "Before:" in details and "After:" in details and '"cleared_session_ids"' in details

    # Filtered by another plate, the dismiss is not listed.
    with qtbot.waitSignal(audit.refreshed, timeout=10_000):
        audit.set_plate("b0lt 123")
    assert all(r["Plate"] == "B0LT123" for r in _rows(audit))
    assert not any(r["Action"] == "Dismissed a flag" for r in _rows(audit))
    # The detail pane's button shows the selected vehicle's own entries.
    window.tabs.setCurrentIndex(0)
    assert window.select_plate("B0LT123")
    with qtbot.waitSignal(audit.refreshed, timeout=10_000):
        qtbot.mouseClick(window.audit_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is audit
    assert audit.plate_field.text() == "B0LT123"


def _rows(audit) -> list[dict[str, str]]:
    table = audit.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    return [
        {headers[c]: table.item(r, c).text() for c in range(table.columnCount())}
        for r in range(table.rowCount())
    ]


def test_too_many_failed_logins_are_explained_and_offer_no_pin(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    dialog = make_dialog(qtbot, reference_server.url, cache, clients)
    for attempt in range(5):
        log_in(qtbot, dialog, f"wrong-{attempt}")
        dialog.submit()
        qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
        assert dialog.message.text() == "wrong username or password"
        dialog.username_field.clear()
    log_in(qtbot, dialog)  # even the right password is refused for now
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.busy and "Too many" in dialog.message.text(), timeout=10_000)
    assert dialog.message.text() == ("Too many failed logins from this booth. Try again in 15 min.")
    assert not dialog.offline_box.isVisible()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert cache.cached_usernames() == []


def test_a_file_that_cannot_be_loaded_leaves_no_endless_loading_line(
    qtbot, reference_server: ServerThread, cache, clients
) -> None:
    window = logged_in_window(qtbot, reference_server, cache, clients)
    window.client.logout()
    with qtbot.waitSignal(window.action_failed, timeout=10_000):
        assert window.select_plate("PQR789")
    assert window.evidence_pane.status.text() == "The evidence images could not be loaded."
    assert window.evidence_pane.shown_images() == []
