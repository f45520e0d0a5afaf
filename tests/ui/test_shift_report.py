"""The shift report dialog over a real booth core: figures shown, PDF written."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from PySide6.QtWidgets import QTableWidget

from desktop.booth import BoothService
from desktop.domain import OutcomeKind, PaymentMethod
from tests.conftest import LANE
from ui.bridge import BoothBridge
from ui.shift_report import ShiftReportDialog


def _record_shift(booth: BoothService, bridge: BoothBridge) -> None:
    """Cash 18.50 for ABC123, card 9.00 for PQR789, a dispute over B0LT123's 15.00."""
    booth.sync_now()
    for plate, kind, method in (
        ("ABC123", OutcomeKind.PAID, PaymentMethod.CASH),
        ("PQR789", OutcomeKind.PAID, PaymentMethod.CARD),
        ("B0LT123", OutcomeKind.DISPUTED, None),
    ):
        notice = booth.check_plate(plate, LANE)
        assert notice is not None, plate
        bridge.record_outcome(notice, kind, method=method)


def _open(qtbot, booth: BoothService) -> ShiftReportDialog:
    dialog = ShiftReportDialog(booth.store, "alice", booth_id=booth.booth_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.report is not None)
    return dialog


def _table(dialog: ShiftReportDialog) -> dict[str, tuple[str, str]]:
    table = dialog.findChild(QTableWidget, "shiftTable")
    return {
        table.item(row, 0).text(): (table.item(row, 1).text(), table.item(row, 2).text())
        for row in range(table.rowCount())
    }


def test_the_dialog_shows_the_shift_totals(qtbot, booth, bridge) -> None:
    _record_shift(booth, bridge)

    dialog = _open(qtbot, booth)

    figures = _table(dialog)
    assert figures["Notices raised"] == ("3", "")
    assert figures["Paid"] == ("2", "27.50 USD")
    assert figures["Disputed"] == ("1", "15.00 USD")
    assert figures["Waived"] == ("0", "0.00 USD")
    assert figures["Left unpaid"] == ("0", "0.00 USD")
    assert figures["Collected by cash"] == ("", "18.50 USD")
    assert figures["Collected by card"] == ("", "9.00 USD")
    assert figures["Collected by QR"] == ("", "0.00 USD")
    assert figures["Total collected"] == ("", "27.50 USD")
    assert "booth-a" in dialog.heading.text()
    assert "alice" in dialog.heading.text()
    assert dialog.save_button.isEnabled()


def test_another_attendant_sees_only_their_shift(qtbot, booth, bridge) -> None:
    _record_shift(booth, bridge)
    dialog = _open(qtbot, booth)

    with qtbot.waitSignal(dialog.report_ready) as ready:
        dialog.attendant_box.setEditText("bob")
        dialog.refresh()

    assert ready.args[0].attendant == "bob"
    assert _table(dialog)["Total collected"] == ("", "0.00 USD")
    assert _table(dialog)["Notices raised"] == ("0", "")


def _pdf_text(path: Path) -> str:
    """The text a reader of the PDF sees, extracted by pypdf."""
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_save_pdf_writes_the_totals_for_the_cash_up(qtbot, booth, bridge, tmp_path) -> None:
    _record_shift(booth, bridge)
    dialog = _open(qtbot, booth)

    saved = dialog.save_pdf(tmp_path / "shift.pdf")

    assert saved.read_bytes().startswith(b"%PDF-")
    assert len(PdfReader(saved).pages) == 1  # one A4 page for the cash-up folder
    text = " ".join(_pdf_text(saved).split())
    for expected in (
        "Shift report",
        "booth-a",
        "alice",
        "18.50 USD",
        "9.00 USD",
        "27.50 USD",
        "15.00 USD",
        "signature",
    ):
        assert expected in text
    # The PDF is rendered from the same rows the dialog shows.
    html = dialog.report_html()
    for expected in ("booth-a", "alice", "18.50 USD", "9.00 USD", "0.00 USD", "27.50 USD"):
        assert expected in html
    assert "Attendant signature" in html


def test_f11_opens_the_attendants_shift_report(qtbot, reference_server, tmp_path) -> None:
    from PySide6.QtCore import Qt

    from tests.conftest import booth_config
    from ui.app import BoothSession
    from ui.sound import AlertSound

    session = BoothSession(
        booth_config(reference_server.url, tmp_path / "booth"),
        sound=AlertSound(enabled=False),
        confirm_close=False,
    )
    try:
        _record_shift(session.booth, session.bridge)
        qtbot.addWidget(session.window)
        session.window.show()
        qtbot.waitExposed(session.window)
        session.window.activateWindow()
        qtbot.waitUntil(session.window.isActiveWindow)

        with qtbot.waitSignal(session.window.shift_report_requested):
            qtbot.keyClick(session.window.reads_list.table, Qt.Key.Key_F11)
        dialog = session.window.findChild(ShiftReportDialog)
        assert dialog is not None
        qtbot.waitUntil(lambda: dialog.report is not None)
        assert dialog.report.attendant == "alice"
        assert dialog.report.booth_id == "booth-a"
        assert _table(dialog)["Total collected"] == ("", "27.50 USD")
        assert any("F11" in action.text() for action in session.window.toolbar.actions())
        dialog.close()
    finally:
        session.stop()
