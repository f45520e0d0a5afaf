"""The audit log tab of the review window: who did what, when, and the state before and after.

Rows come from the server's append-only audit log (``GET /supervisor/audit``), newest
first, filtered by plate (normalized, as the server stores it) and by action. The table
shows a one-line summary of the state before and after; selecting a row shows both in
full below it. Fetching runs off the GUI thread.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.plates import normalize
from desktop.supervisor_client import SupervisorClient
from desktop.supervisor_models import AuditEntry, AuditPage
from ui.background import LatestCall
from ui.format import format_local_time
from ui.roles import set_role
from ui.supervisor.errors import failure_text

log = logging.getLogger(__name__)

WHEN, WHO, ACTION, PLATE, REASON, BEFORE, AFTER = range(7)
PAGE_SIZE = 500
SUMMARY_LIMIT = 160
# Actions the filter offers (None: all); labels are translated in the widget.
ACTION_CHOICES: tuple[str | None, ...] = (
    None,
    "dismiss_flag",
    "resolve_dispute",
    "decide_waiver",
    "approve_waiver_offline",
    "cancel_waiver",
    "payment_over_waiver",
    "view_evidence",
    "login",
    "logout",
    "login_failed",
    "login_locked",
)


def summarize(value: Any, limit: int = SUMMARY_LIMIT) -> str:
    """A state snapshot as one readable line (``key: value, ...``), cut at ``limit``."""
    text = _summary(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_summary(item)}" for key, item in value.items())
    if isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            return "[" + ", ".join(str(item) for item in value) + "]"
        return f"[{len(value)}]"
    return str(value)


def full_text(value: Any) -> str:
    """A state snapshot in full, indented."""
    if value is None:
        return "-"
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


class AuditLogView(QWidget):
    """The audit log with plate and action filters; loads when first shown or refreshed."""

    refreshed = Signal()  # the table shows the server's latest answer
    failed = Signal(str)  # what the user was told

    def __init__(self, client: SupervisorClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._entries: list[AuditEntry] = []
        self._loads = LatestCall(self)
        self._loaded_once = False
        self._build()
        self.refresh_button.clicked.connect(lambda: self.refresh())  # noqa: PLW0108 - drop `checked`
        self.plate_field.returnPressed.connect(self.refresh)
        self.action_filter.currentIndexChanged.connect(lambda _index: self.refresh())
        self.table.itemSelectionChanged.connect(self._show_selected)

    def _build(self) -> None:
        self.plate_field = QLineEdit(self)
        self.plate_field.setPlaceholderText(self.tr("Plate (Enter to filter)"))
        self.plate_field.setClearButtonEnabled(True)
        self.plate_field.setMaxLength(32)
        self.action_filter = QComboBox(self)
        for action in ACTION_CHOICES:
            label = self.tr("All actions") if action is None else self.action_text(action)
            self.action_filter.addItem(label, action)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.table = QTableWidget(0, 7, self)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("When"),
                self.tr("Who"),
                self.tr("Action"),
                self.tr("Plate"),
                self.tr("Reason"),
                self.tr("Before"),
                self.tr("After"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(BEFORE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(AFTER, QHeaderView.ResizeMode.Stretch)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(self.tr("Select a row to see the state before and after."))
        self.message = QLabel(self)
        self.message.setWordWrap(True)

        filters = QHBoxLayout()
        filters.addWidget(QLabel(self.tr("Plate"), self))
        filters.addWidget(self.plate_field, 1)
        filters.addWidget(QLabel(self.tr("Action"), self))
        filters.addWidget(self.action_filter)
        filters.addWidget(self.refresh_button)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)

    def action_text(self, action: str) -> str:
        """What an audit action means, in words."""
        return {
            "login": self.tr("Logged in"),
            "logout": self.tr("Logged out"),
            "dismiss_flag": self.tr("Dismissed a flag"),
            "resolve_dispute": self.tr("Resolved a dispute"),
            "decide_waiver": self.tr("Decided a waiver request"),
            "approve_waiver_offline": self.tr("Approved a waiver offline"),
            "cancel_waiver": self.tr("Waiver request withdrawn"),
            "payment_over_waiver": self.tr("Paid although a waiver was approved"),
            "view_evidence": self.tr("Viewed evidence"),
            "login_failed": self.tr("Failed login"),
            "login_locked": self.tr("Login locked (too many failures)"),
        }.get(action, action)

    # ----------------------------------------------------------------- data

    @property
    def loaded_once(self) -> bool:
        """True once the log has been fetched (the tab loads lazily)."""
        return self._loaded_once

    def entries(self) -> list[AuditEntry]:
        """The rows shown, newest first."""
        return list(self._entries)

    def set_plate(self, plate: str) -> None:
        """Filter by ``plate`` and reload."""
        self.plate_field.setText(plate)
        self.refresh()

    def refresh(self) -> None:
        """Reload the log for the filters (in the background)."""
        client = self._client
        plate = normalize(self.plate_field.text()) or None
        action = self.action_filter.currentData()
        self._loaded_once = True
        self._say(self.tr("Loading the audit log..."), "muted")
        self._loads.run(
            lambda: client.audit_log(plate=plate, action=action, limit=PAGE_SIZE),
            self._loaded,
            self._failed,
        )

    def _loaded(self, page: AuditPage) -> None:
        self._entries = list(page.items)
        self.table.setRowCount(0)
        self.details.clear()
        for entry in self._entries:
            row = self.table.rowCount()
            self.table.insertRow(row)
            cells = [
                format_local_time(entry.at, with_date=True),
                self._who(entry),
                self.action_text(entry.action),
                entry.plate or "",
                entry.reason or "",
                summarize(entry.before),
                summarize(entry.after),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (BEFORE, AFTER):
                    item.setToolTip(full_text(entry.before if column == BEFORE else entry.after))
                self.table.setItem(row, column, item)
        shown, total = len(self._entries), page.total
        self._say(
            self.tr("{count} audit entries.").format(count=total)
            if shown == total
            else self.tr("Newest {count} of {total} audit entries.").format(
                count=shown, total=total
            ),
            "muted",
        )
        self.refreshed.emit()

    def _who(self, entry: AuditEntry) -> str:
        if entry.supervisor and entry.booth_id:
            return self.tr("{supervisor} at {booth}").format(
                supervisor=entry.supervisor, booth=entry.booth_id
            )
        if entry.supervisor:
            return entry.supervisor
        return self.tr("booth {booth}").format(booth=entry.booth_id or "?")

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _show_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.details.clear()
            return
        entry = self._entries[rows[0].row()]
        target = f" ({entry.target})" if entry.target else ""
        self.details.setPlainText(
            "\n".join(
                [
                    f"{self.action_text(entry.action)}{target}",
                    "",
                    self.tr("Before:"),
                    full_text(entry.before),
                    "",
                    self.tr("After:"),
                    full_text(entry.after),
                ]
            )
        )

    def _failed(self, error: Exception) -> None:
        text = failure_text(error, log, "audit log")
        self._say(text, "danger")
        self.failed.emit(text)

    def _say(self, text: str, role: str) -> None:
        self.message.setText(text)
        set_role(self.message, role)
