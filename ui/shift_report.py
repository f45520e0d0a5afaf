"""The shift report dialog: one attendant's figures for a day's shift, and its PDF.

The figures are computed by :class:`desktop.shift_report.ShiftReport` off the GUI
thread; the dialog shows them in a table and writes the same table to a PDF (Qt's
``QPdfWriter``) for the cash-up, with a line for the signatures.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QDate, QMarginsF, Qt, Signal
from PySide6.QtGui import QKeySequence, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import utc_now
from desktop.shift_report import ReportSource, ShiftReport, attendants_between, local_day_bounds
from ui.background import run_in_background
from ui.format import format_amount, format_local_time
from ui.read_text import ROLE_DANGER, ROLE_MUTED
from ui.roles import scaled_font, set_role

log = logging.getLogger(__name__)

PDF_RESOLUTION_DPI = 300


class ShiftReportDialog(QDialog):
    """Shows one attendant's shift report for a day (today by default); saves it as PDF.

    Signals: ``report_ready(ShiftReport)`` each time the figures are (re)computed,
    ``report_failed(str)`` when the store could not be read.
    """

    report_ready = Signal(object)
    report_failed = Signal(str)

    def __init__(
        self,
        source: ReportSource,
        attendant: str,
        parent: QWidget | None = None,
        *,
        booth_id: str = "",
        day: date | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shiftReportDialog")
        self.setWindowTitle(self.tr("Shift report"))
        self._source = source
        self._booth_id = booth_id
        self._clock = clock
        self._report: ShiftReport | None = None
        self._generation = 0

        self._build_pickers(attendant, day)
        self.heading = QLabel(self)
        self.heading.setObjectName("shiftHeading")
        self.heading.setFont(scaled_font(self.heading, 1.3, bold=True))
        self.heading.setWordWrap(True)

        self._build_table()
        self._build_buttons()
        pickers = QHBoxLayout()
        pickers.addWidget(QLabel(self.tr("Attendant"), self))
        pickers.addWidget(self.attendant_box, 1)
        pickers.addWidget(QLabel(self.tr("Day"), self))
        pickers.addWidget(self.date_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(pickers)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(720, 560)
        self.refresh()

    def _build_pickers(self, attendant: str, day: date | None) -> None:
        self.attendant_box = QComboBox(self)
        self.attendant_box.setObjectName("shiftAttendant")
        self.attendant_box.setEditable(True)
        self.attendant_box.addItem(attendant)
        self.attendant_box.setFont(scaled_font(self.attendant_box, 1.4))
        self.attendant_box.activated.connect(lambda _index: self.refresh())
        line_edit = self.attendant_box.lineEdit()
        if line_edit is not None:
            line_edit.editingFinished.connect(self.refresh)

        self.date_edit = QDateEdit(self)
        self.date_edit.setObjectName("shiftDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        today = self._clock().astimezone().date()
        self.date_edit.setMaximumDate(QDate(today.year, today.month, today.day))
        chosen = day or today
        self.date_edit.setDate(QDate(chosen.year, chosen.month, chosen.day))
        self.date_edit.setFont(scaled_font(self.date_edit, 1.4))
        self.date_edit.dateChanged.connect(lambda _date: self.refresh())

    def _build_table(self) -> None:
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("shiftTable")
        self.table.setHorizontalHeaderLabels([self.tr("Item"), self.tr("Count"), self.tr("Amount")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFont(scaled_font(self.table, 1.5))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

    def _build_buttons(self) -> None:
        self.message = QLabel(self)
        self.message.setObjectName("shiftMessage")
        self.message.setWordWrap(True)

        self.save_button = QPushButton(self.tr("Save PDF… [Ctrl+S]"), self)
        self.save_button.setObjectName("shiftSavePdf")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.choose_pdf_path)
        self.close_button = QPushButton(self.tr("Close [Esc]"), self)
        self.close_button.setObjectName("shiftClose")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)

    # -- figures -----------------------------------------------------------------------

    @property
    def report(self) -> ShiftReport | None:
        """The report shown, or None while it is computed."""
        return self._report

    @property
    def attendant(self) -> str:
        return self.attendant_box.currentText().strip()

    @property
    def day(self) -> date:
        return self.date_edit.date().toPython()  # type: ignore[return-value]

    def refresh(self) -> None:
        """Recompute the report for the chosen attendant and day, off the GUI thread."""
        attendant, day = self.attendant, self.day
        if not attendant:
            return
        self._generation += 1
        generation = self._generation
        self.save_button.setEnabled(False)
        self.message.setText(self.tr("Adding up the shift…"))
        set_role(self.message, ROLE_MUTED)
        source, booth_id, clock = self._source, self._booth_id, self._clock

        def compute() -> tuple[ShiftReport, list[str]]:
            report = ShiftReport.for_day(source, attendant, day, booth_id=booth_id, clock=clock)
            day_start, day_end = local_day_bounds(day)
            return report, attendants_between(source, day_start, day_end)

        run_in_background(
            compute,
            lambda result: self._show(generation, *result),
            lambda exc: self._failed(generation, exc),
            owner=self,
        )

    def _show(self, generation: int, report: ShiftReport, attendants: list[str]) -> None:
        if generation != self._generation:
            return  # a newer request is on its way
        self._report = report
        known = {self.attendant_box.itemText(i) for i in range(self.attendant_box.count())}
        for name in attendants:
            if name not in known:
                self.attendant_box.addItem(name)
        self.heading.setText(self._heading_text(report))
        rows = self.rows()
        self.table.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if row == len(rows) - 1:
                    item.setFont(scaled_font(self.table, 1.0, bold=True))
                self.table.setItem(row, column, item)
        self.message.setText("")
        self.save_button.setEnabled(True)
        self.report_ready.emit(report)

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        log.error("shift report failed", exc_info=exc)
        text = self.tr("The shift report could not be read: {error}").format(
            error=str(exc) or type(exc).__name__
        )
        self.message.setText(text)
        set_role(self.message, ROLE_DANGER)
        self.report_failed.emit(text)

    def _heading_text(self, report: ShiftReport) -> str:
        return self.tr("Booth {booth} · {attendant} · {start} – {end}").format(
            booth=report.booth_id or "—",
            attendant=report.attendant,
            start=format_local_time(report.start, with_date=True),
            end=format_local_time(report.end, with_date=True),
        )

    def rows(self) -> list[tuple[str, str, str]]:
        """The table's rows as text (item, count, amount); the last row is the total."""
        report = self._report
        if report is None:
            return []

        def money(cents: int) -> str:
            return format_amount(cents, report.currency)

        return [
            (self.tr("Notices raised"), str(report.notices_raised), ""),
            (self.tr("Paid"), str(report.paid_count), money(report.total_cents)),
            (self.tr("Disputed"), str(report.disputes), money(report.disputed_cents)),
            (self.tr("Waived"), str(report.waivers), money(report.waived_cents)),
            (self.tr("Left unpaid"), str(report.unpaid_exits), money(report.unpaid_cents)),
            (self.tr("Collected by cash"), "", money(report.cash_cents)),
            (self.tr("Collected by card"), "", money(report.card_cents)),
            (self.tr("Collected by QR"), "", money(report.qr_cents)),
            (self.tr("Total collected"), "", money(report.total_cents)),
        ]

    # -- PDF ---------------------------------------------------------------------------

    def choose_pdf_path(self) -> None:
        """Ask where to save the PDF, then save it."""
        report = self._report
        if report is None:
            return
        suggested = f"shift-{report.attendant}-{self.day.isoformat()}.pdf"
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Save shift report"), suggested, self.tr("PDF files (*.pdf)")
        )
        if not path:
            return
        try:
            saved = self.save_pdf(path)
        except OSError as exc:
            self.message.setText(self.tr("Could not save the PDF: {error}").format(error=exc))
            set_role(self.message, ROLE_DANGER)
            return
        self.message.setText(self.tr("Saved {path}").format(path=saved))
        set_role(self.message, ROLE_MUTED)

    def report_html(self) -> str:
        """The report as HTML: what :meth:`save_pdf` renders."""
        report = self._report
        if report is None:
            raise RuntimeError("the shift report is not ready yet")
        esc = html.escape
        lines = [
            f"<h1>{esc(self.tr('Shift report'))}</h1>",
            "<table cellspacing='0' cellpadding='3'>",
        ]
        for label, value in (
            (self.tr("Booth"), report.booth_id or "—"),
            (self.tr("Attendant"), report.attendant),
            (self.tr("Shift start"), format_local_time(report.start, with_date=True)),
            (self.tr("Shift end"), format_local_time(report.end, with_date=True)),
            (self.tr("Printed"), format_local_time(self._clock(), with_date=True)),
        ):
            lines.append(f"<tr><td><b>{esc(label)}</b></td><td>{esc(value)}</td></tr>")
        lines.append("</table><br/>")
        lines.append("<table border='1' cellspacing='0' cellpadding='6' width='100%'>")
        lines.append(
            "<tr>"
            + "".join(
                f"<th align='{align}'>{esc(text)}</th>"
                for text, align in (
                    (self.tr("Item"), "left"),
                    (self.tr("Count"), "right"),
                    (self.tr("Amount"), "right"),
                )
            )
            + "</tr>"
        )
        rows = self.rows()
        for index, (label, count, amount) in enumerate(rows):
            bold_open, bold_close = ("<b>", "</b>") if index == len(rows) - 1 else ("", "")
            lines.append(
                f"<tr><td>{bold_open}{esc(label)}{bold_close}</td>"
                f"<td align='right'>{esc(count)}</td>"
                f"<td align='right'>{bold_open}{esc(amount)}{bold_close}</td></tr>"
            )
        lines.append("</table><br/><br/><br/>")
        lines.append(
            "<table width='100%' cellpadding='4'><tr>"
            f"<td>______________________________<br/>{esc(self.tr('Attendant signature'))}</td>"
            f"<td>______________________________<br/>{esc(self.tr('Supervisor signature'))}</td>"
            "</tr></table>"
        )
        return "\n".join(lines)

    def save_pdf(self, path: str | Path) -> Path:
        """Write the report shown to ``path`` as an A4 PDF; returns the path."""
        target = Path(path)
        document = QTextDocument()
        document.setDefaultFont(scaled_font(self, 1.0))
        document.setHtml(self.report_html())
        writer = QPdfWriter(str(target))
        writer.setTitle(self.tr("Shift report"))
        writer.setCreator("Recoup")
        writer.setResolution(PDF_RESOLUTION_DPI)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(15, 15, 15, 15),
                QPageLayout.Unit.Millimeter,
            )
        )
        document.print_(writer)
        del writer  # finishes and closes the file
        if not target.is_file() or target.stat().st_size == 0:
            raise OSError(f"the PDF writer could not write {target}")
        log.info("shift report for %s saved to %s", self._report and self._report.attendant, target)
        return target
