"""The supervisor's review window: flagged vehicles, their file, and the decisions on them.

The table lists the flags the server returns for the chosen status; the search box
filters the rows shown, matching OCR look-alikes too (``P0R789`` finds ``PQR789``) through
:func:`desktop.plates.equivalence_key`. Selecting a row loads the vehicle's file (sessions
and outcomes) into the detail pane. Dismiss and Resolve dispute ask for a reason, go to
the server in the background and refresh the table. Export CSV writes the rows shown, in
the order shown. The detail pane also shows the vehicle's evidence images
(:class:`EvidencePane`). A second tab, :class:`WaiverQueue`, lists the booths' pending
waiver requests for the supervisor to approve or refuse; a third, :class:`AuditLogView`,
the audit log. Every network call runs off the GUI thread.

Given the supervisor's :class:`SupervisorLogin`, a warning line at the top says how many
failed logins there were on the account since its previous login, and the last one's
address and time, so a supervisor notices someone trying their password.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QCloseEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.plates import equivalence_key, normalize
from desktop.supervisor_client import SupervisorClient
from desktop.supervisor_models import (
    Flag,
    FlagPage,
    SupervisorLogin,
    VehicleFile,
    WaiverRequest,
    WaiverRequestPage,
)
from ui.background import LatestCall, run_in_background
from ui.format import format_amount, format_local_time
from ui.roles import set_role
from ui.status_bar import short_time
from ui.supervisor.audit_view import AuditLogView
from ui.supervisor.errors import failure_text
from ui.supervisor.evidence_pane import EvidencePane

log = logging.getLogger(__name__)

PLATE, STATUS, AMOUNT, SESSIONS, LOTS, LAST_SEEN = range(6)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FLAG_ROLE = Qt.ItemDataRole.UserRole + 2
#: (status sent to the server, or None for "listed now"); labels are translated in the widget.
STATUS_CHOICES: tuple[str | None, ...] = (None, "active", "disputed", "waived", "cleared")


class FlagFilterProxy(QSortFilterProxyModel):
    """Shows the rows whose plate contains the typed text, OCR look-alikes counted equal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._key = ""
        self.setSortRole(SORT_ROLE)

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._key = equivalence_key(normalize(text))
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(  # noqa: N802 - Qt override
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not self._key:
            return True
        index = self.sourceModel().index(source_row, PLATE, source_parent)
        plate = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        return self._key in equivalence_key(plate)


class ReviewWindow(QWidget):
    """Flagged vehicles for a logged-in supervisor (``client``), with the actions on them.

    ``login`` is the supervisor's login answer; when it reports failed logins since the
    previous one, :attr:`failed_logins_warning` says so at the top of the window.
    """

    refreshed = Signal()  # the table shows the server's latest answer
    file_loaded = Signal(object)  # VehicleFile shown in the detail pane
    action_done = Signal(str)  # "dismiss" or "resolve", after the table was reloaded
    action_failed = Signal(str)  # what the user was told
    closed = Signal()  # the window was closed (the app logs the supervisor out)

    def __init__(
        self,
        client: SupervisorClient,
        parent: QWidget | None = None,
        *,
        login: SupervisorLogin | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Supervisor review"))
        self._client = client
        self._login = login
        self._loading = False
        self._flag_loads = LatestCall(self)
        self._pending_action: str | None = None
        self._file: VehicleFile | None = None
        self._build()
        self.status_filter.currentIndexChanged.connect(lambda _index: self.refresh())
        self.search_field.textChanged.connect(self.proxy.set_search)
        self.refresh_button.clicked.connect(self.refresh)
        self.dismiss_button.clicked.connect(lambda: self.dismiss_selected())  # noqa: PLW0108 - drop `checked`
        self.resolve_button.clicked.connect(lambda: self.resolve_selected())  # noqa: PLW0108 - drop `checked`
        self.export_button.clicked.connect(lambda: self.export_csv())  # noqa: PLW0108 - drop `checked`
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.audit_button.clicked.connect(lambda: self.show_audit_of_selected())  # noqa: PLW0108 - drop `checked`
        self._update_buttons()
        self.refresh()

    # ----------------------------------------------------------------- layout

    def _build(self) -> None:
        self._build_failed_logins_banner()
        self.status_filter = QComboBox(self)
        labels = {
            None: self.tr("Listed now (active and disputed)"),
            "active": self.tr("Active"),
            "disputed": self.tr("Disputed"),
            "waived": self.tr("Waived"),
            "cleared": self.tr("Cleared"),
        }
        for status in STATUS_CHOICES:
            self.status_filter.addItem(labels[status], status)
        self.search_field = QLineEdit(self)
        self.search_field.setPlaceholderText(self.tr("Search plate (look-alikes match)"))
        self.search_field.setClearButtonEnabled(True)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.export_button = QPushButton(self.tr("Export CSV"), self)

        self.model = QStandardItemModel(0, 6, self)
        self.model.setHorizontalHeaderLabels(
            [
                self.tr("Plate"),
                self.tr("Status"),
                self.tr("Amount"),
                self.tr("Sessions"),
                self.tr("Lots"),
                self.tr("Last seen"),
            ]
        )
        self.proxy = FlagFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(AMOUNT, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)

        self.detail_title = QLabel(self.tr("Select a vehicle to see its file."), self)
        self.detail_title.setWordWrap(True)
        self.sessions_table = self._detail_table(
            [
                self.tr("Session"),
                self.tr("Lot"),
                self.tr("Entered"),
                self.tr("Exited"),
                self.tr("Fee"),
                self.tr("Unpaid"),
                self.tr("Status"),
            ]
        )
        self.outcomes_table = self._detail_table(
            [
                self.tr("Recorded"),
                self.tr("Outcome"),
                self.tr("Method"),
                self.tr("Amount"),
                self.tr("Lane"),
                self.tr("Attendant"),
                self.tr("Reason"),
            ]
        )
        self.evidence_pane = EvidencePane(self._client, self)
        self.dismiss_button = QPushButton(self.tr("Dismiss (false positive)..."), self)
        self.resolve_button = QPushButton(self.tr("Resolve dispute..."), self)
        self.audit_button = QPushButton(self.tr("Audit log of this vehicle"), self)
        self.message = QLabel(self)
        self.message.setObjectName("reviewMessage")
        self.message.setWordWrap(True)

        self._lay_out()

    def _build_failed_logins_banner(self) -> None:
        """One line (two on a narrow window) above everything, hidden without failures."""
        self.failed_logins_banner = QWidget(self)
        self.failed_logins_banner.setObjectName("failedLoginsBanner")
        icon = QLabel(self.failed_logins_banner)
        size = self.fontMetrics().height()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size)
        )
        self.failed_logins_warning = QLabel(self.failed_logins_banner)
        self.failed_logins_warning.setObjectName("failedLoginsWarning")
        self.failed_logins_warning.setWordWrap(True)
        self.failed_logins_warning.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse  # the address, to pass on to IT
        )
        banner = QHBoxLayout(self.failed_logins_banner)
        banner.setContentsMargins(8, 4, 8, 4)
        banner.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        banner.addWidget(self.failed_logins_warning, 1)
        set_role(self.failed_logins_banner, "warning")  # amber band without a style sheet
        set_role(self.failed_logins_warning, "warning")
        self._show_failed_logins(self._login)

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Status"), self))
        top.addWidget(self.status_filter)
        top.addWidget(self.search_field, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.export_button)
        detail = QWidget(self)
        detail_layout = QVBoxLayout(detail)
        detail_layout.addWidget(self.detail_title)
        detail_layout.addWidget(QLabel(self.tr("Parking sessions"), detail))
        detail_layout.addWidget(self.sessions_table)
        detail_layout.addWidget(QLabel(self.tr("Outcomes"), detail))
        detail_layout.addWidget(self.outcomes_table)
        detail_layout.addWidget(QLabel(self.tr("Evidence images"), detail))
        detail_layout.addWidget(self.evidence_pane)
        actions = QHBoxLayout()
        actions.addWidget(self.dismiss_button)
        actions.addWidget(self.resolve_button)
        actions.addStretch(1)
        actions.addWidget(self.audit_button)
        detail_layout.addLayout(actions)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([640, 960])  # the flag columns readable at first sight
        layout = QVBoxLayout(self)
        layout.addWidget(self.failed_logins_banner)
        layout.addLayout(top)
        self.waivers = WaiverQueue(self._client, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(splitter, self.tr("Flagged vehicles"))
        self.tabs.addTab(self.waivers, self.tr("Waiver requests"))
        self.audit = AuditLogView(self._client, self)
        self.tabs.addTab(self.audit, self.tr("Audit log"))
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.resize(1200, 800)

    def _show_failed_logins(self, login: SupervisorLogin | None) -> None:
        """The warning line: failed logins on the account since its previous login, if any."""
        count = login.failed_logins if login is not None else 0
        self.failed_logins_banner.setVisible(count > 0)
        if login is None or count <= 0:
            self.failed_logins_warning.clear()
            return
        at = login.last_failed_login_at
        if at is None:
            text = (
                self.tr(
                    "1 failed login on your account since your last login. "
                    "If that was not you, tell IT."
                )
                if count == 1
                else self.tr(
                    "{count} failed logins on your account since your last login. "
                    "If that was not you, tell IT."
                )
            )
        else:
            text = (
                self.tr(
                    "1 failed login on your account since your last login, "
                    "from {address} at {time}. If that was not you, tell IT."
                )
                if count == 1
                else self.tr(
                    "{count} failed logins on your account since your last login, "
                    "the last from {address} at {time}. If that was not you, tell IT."
                )
            )
        address = login.last_failed_login_from or self.tr("an unknown address")
        self.failed_logins_warning.setText(
            text.format(count=count, address=address, time=self._when(at))
        )

    @staticmethod
    def _when(moment: datetime | None) -> str:
        """``HH:MM`` today, with the date before it on another day (booth's local time)."""
        if moment is None:
            return ""
        if moment.astimezone().date() == datetime.now().astimezone().date():
            return short_time(moment)
        return format_local_time(moment, with_date=True)

    def _detail_table(self, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers), self)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        return table

    # ----------------------------------------------------------------- table

    @property
    def client(self) -> SupervisorClient:
        """The logged-in supervisor's client this window uses."""
        return self._client

    @property
    def loading(self) -> bool:
        """True while the flag list is being fetched."""
        return self._loading

    def status(self) -> str | None:
        """The status filter sent to the server (None: listed now)."""
        return self.status_filter.currentData()

    def shown_plates(self) -> list[str]:
        """The plates of the rows shown, top to bottom."""
        return [str(self.proxy.index(row, PLATE).data()) for row in range(self.proxy.rowCount())]

    def refresh(self) -> None:
        """Reload the flags for the chosen status (in the background)."""
        client, status = self._client, self.status()
        self._loading = True
        self._say(self.tr("Loading flagged vehicles..."), "muted")
        self._flag_loads.run(
            lambda: client.flags(status=status, limit=500), self._loaded, self._failed
        )

    def _loaded(self, page: FlagPage) -> None:
        self._loading = False
        items = page.items
        selected = self.selected_plate()
        self.model.removeRows(0, self.model.rowCount())
        for flag in items:
            self.model.appendRow(self._row(flag))
        total = page.total
        self._say(
            self.tr("{count} flagged vehicles.").format(count=total)
            if total == len(items)
            else self.tr("Showing {count} of {total} flagged vehicles.").format(
                count=len(items), total=total
            ),
            "muted",
        )
        if selected is not None:
            self._select(selected)
        if self.selected_plate() is None:
            self._show_file(None)
        self._update_buttons()
        self.refreshed.emit()
        action, self._pending_action = self._pending_action, None
        if action is not None:
            self._say(self.tr("Decision recorded."), "ok")
            if self.audit.loaded_once:
                self.audit.refresh()
            self.action_done.emit(action)

    def _row(self, flag: Flag) -> list[QStandardItem]:
        last_seen = (
            format_local_time(flag.last_seen_at, with_date=True) if flag.last_seen_at else ""
        )
        cells: list[tuple[str, object]] = [
            (flag.plate, flag.plate),
            (self._status_text(flag.status), flag.status),
            (format_amount(flag.unpaid_cents, flag.currency), flag.unpaid_cents),
            (str(flag.sessions), flag.sessions),
            (", ".join(flag.lots), ", ".join(flag.lots)),
            (last_seen, flag.last_seen_at.timestamp() if flag.last_seen_at else 0.0),
        ]
        row = []
        for text, key in cells:
            item = QStandardItem(text)
            item.setData(key, SORT_ROLE)
            item.setData(flag, FLAG_ROLE)
            row.append(item)
        return row

    def _status_text(self, status: str) -> str:
        return {
            "active": self.tr("Active"),
            "disputed": self.tr("Disputed"),
            "waived": self.tr("Waived"),
            "cleared": self.tr("Cleared"),
        }.get(status, status)

    def _select(self, plate: str) -> None:
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, PLATE).data() == plate:
                self.table.selectRow(row)
                return

    def select_plate(self, plate: str) -> bool:
        """Select the shown row of ``plate``; False when it is not shown."""
        self._select(normalize(plate))
        return self.selected_plate() == normalize(plate)

    def selected_flag(self) -> Flag | None:
        """The flag of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows(PLATE)
        return rows[0].data(FLAG_ROLE) if rows else None

    def selected_plate(self) -> str | None:
        flag = self.selected_flag()
        return flag.plate if flag else None

    # ----------------------------------------------------------------- detail

    def _selection_changed(self, *_args: object) -> None:
        self._update_buttons()
        flag = self.selected_flag()
        if flag is None:
            self._show_file(None)
            return
        if self._file is not None and self._file.plate == flag.plate:
            return
        client, plate = self._client, flag.plate
        self.detail_title.setText(self.tr("Loading the file of {plate}...").format(plate=plate))
        self.evidence_pane.show_loading()

        def failed(error: Exception) -> None:
            self.detail_title.setText(
                self.tr("The file of {plate} could not be loaded.").format(plate=plate)
            )
            self.evidence_pane.show_failed()
            self._failed(error)

        run_in_background(lambda: client.vehicle_file(plate), self._file_loaded, failed, owner=self)

    def _file_loaded(self, file: VehicleFile) -> None:
        if self.selected_plate() != file.plate:
            return  # the selection moved on meanwhile
        self._show_file(file)
        self.file_loaded.emit(file)

    def _show_file(self, file: VehicleFile | None) -> None:
        self._file = file
        self.sessions_table.setRowCount(0)
        self.outcomes_table.setRowCount(0)
        if file is None:
            self.detail_title.setText(self.tr("Select a vehicle to see its file."))
            self.evidence_pane.clear()
            return
        self.evidence_pane.show_file(file)
        self.detail_title.setText(
            self.tr(
                "{plate}: owes {amount} · parking sessions: {sessions} · outcomes: {outcomes}"
            ).format(
                plate=file.plate,
                amount=format_amount(file.unpaid_cents, file.currency),
                sessions=len(file.sessions),
                outcomes=len(file.outcomes),
            )
        )
        for session in file.sessions:
            exited = session.exited_at
            self._append(
                self.sessions_table,
                [
                    str(session.id),
                    session.lot_name,
                    format_local_time(session.entered_at, with_date=True),
                    format_local_time(exited, with_date=True) if exited else "",
                    format_amount(session.fee_cents, file.currency),
                    format_amount(session.unpaid_cents, file.currency),
                    self._session_status(session.status),
                ],
            )
        for outcome in file.outcomes:
            self._append(
                self.outcomes_table,
                [
                    format_local_time(outcome.recorded_at, with_date=True),
                    outcome.kind,
                    outcome.method or "",
                    format_amount(outcome.amount_cents, file.currency),
                    outcome.lane,
                    outcome.attendant or "",
                    outcome.reason or "",
                ],
            )

    def _session_status(self, status: str) -> str:
        return {
            "unpaid": self.tr("Unpaid"),
            "paid": self.tr("Paid"),
            "disputed": self.tr("Disputed"),
            "waived": self.tr("Waived"),
        }.get(status, status)

    @staticmethod
    def _append(table: QTableWidget, cells: list[str]) -> None:
        row = table.rowCount()
        table.insertRow(row)
        for column, text in enumerate(cells):
            table.setItem(row, column, QTableWidgetItem(text))

    # ----------------------------------------------------------------- actions

    def dismiss_selected(self, reason: str | None = None) -> bool:
        """Dismiss the selected flag as a false positive; asks for a reason when None.

        Returns False when nothing was sent (no selection, no reason).
        """
        flag = self.selected_flag()
        if flag is None or flag.status not in ("active", "disputed"):
            return False
        if reason is None:
            reason = self._ask_reason(
                self.tr("Dismiss {plate} as a false positive").format(plate=flag.plate)
            )
        if not reason or not reason.strip():
            self._say(self.tr("A reason is required; nothing was dismissed."), "warning")
            return False
        client, plate, text = self._client, flag.plate, reason.strip()
        self._run_action("dismiss", lambda: client.dismiss(plate, text))
        return True

    def resolve_selected(self, decision: str | None = None, reason: str | None = None) -> bool:
        """Resolve the selected vehicle's dispute (``upheld`` or ``rejected``) with a reason."""
        if decision not in (None, "upheld", "rejected"):
            raise ValueError("decision must be 'upheld' or 'rejected'")
        flag = self.selected_flag()
        if flag is None or flag.status != "disputed":
            return False
        if decision is None:
            choices = [self.tr("Upheld (waive the disputed sessions)"), self.tr("Rejected (owes)")]
            choice, ok = QInputDialog.getItem(
                self,
                self.tr("Resolve dispute"),
                self.tr("Decision for {plate}").format(plate=flag.plate),
                choices,
                0,
                False,
            )
            if not ok:
                return False
            decision = "upheld" if choice == choices[0] else "rejected"
        if reason is None:
            reason = self._ask_reason(
                self.tr("Resolve the dispute of {plate}").format(plate=flag.plate)
            )
        if not reason or not reason.strip():
            self._say(self.tr("A reason is required; the dispute stays open."), "warning")
            return False
        client, plate, text, chosen = self._client, flag.plate, reason.strip(), decision
        self._run_action("resolve", lambda: client.resolve_dispute(plate, chosen, text))
        return True

    def _ask_reason(self, title: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, self.tr("Reason (kept in the audit log)"))
        return text if ok else None

    def _run_action(self, name: str, call: Callable[[], object]) -> None:
        self.dismiss_button.setEnabled(False)
        self.resolve_button.setEnabled(False)
        self._say(self.tr("Sending the decision..."), "muted")

        def done(_answer: object) -> None:
            self._file = None
            self._pending_action = name
            self.refresh()

        run_in_background(call, done, self._failed, owner=self)

    def _failed(self, error: Exception) -> None:
        self._loading = False
        self._pending_action = None
        text = failure_text(error, log, "supervisor review")
        self._say(text, "danger")
        self._update_buttons()
        self.action_failed.emit(text)

    def _update_buttons(self) -> None:
        flag = self.selected_flag()
        self.dismiss_button.setEnabled(flag is not None and flag.status in ("active", "disputed"))
        self.resolve_button.setEnabled(flag is not None and flag.status == "disputed")
        self.audit_button.setEnabled(flag is not None)

    # ----------------------------------------------------------------- audit

    def show_audit_of_selected(self) -> bool:
        """Switch to the audit tab filtered by the selected vehicle's plate."""
        plate = self.selected_plate()
        if plate is None:
            return False
        self.audit.set_plate(plate)
        self.tabs.setCurrentWidget(self.audit)
        return True

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.audit and not self.audit.loaded_once:
            self.audit.refresh()

    # ----------------------------------------------------------------- export

    def export_csv(self, path: Path | str | None = None) -> Path | None:
        """Write the rows shown (as shown) to ``path``, asking for a file when None."""
        if path is None:
            chosen, _filter = QFileDialog.getSaveFileName(
                self, self.tr("Export flagged vehicles"), "flags.csv", self.tr("CSV (*.csv)")
            )
            if not chosen:
                return None
            path = chosen
        target = Path(path)
        header = [
            "plate",
            "status",
            "unpaid_cents",
            "currency",
            "sessions",
            "lots",
            "last_seen_at",
            "last_seen_lane",
        ]
        try:
            with target.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                for row in range(self.proxy.rowCount()):
                    flag: Flag = self.proxy.index(row, PLATE).data(FLAG_ROLE)
                    writer.writerow(
                        [
                            flag.plate,
                            flag.status,
                            flag.unpaid_cents,
                            flag.currency,
                            flag.sessions,
                            _cell(";".join(flag.lots)),
                            flag.last_seen_at.isoformat() if flag.last_seen_at else "",
                            _cell(flag.last_seen_lane or ""),
                        ]
                    )
        except OSError as exc:
            log.warning("CSV export to %s failed: %s", target, exc)
            self._say(
                self.tr("The CSV file could not be written: {error}").format(error=exc), "danger"
            )
            return None
        self._say(
            self.tr("Exported {count} rows to {path}.").format(
                count=self.proxy.rowCount(), path=str(target)
            ),
            "ok",
        )
        return target

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        super().closeEvent(event)
        self.closed.emit()

    def _say(self, text: str, role: str) -> None:
        self.message.setText(text)
        set_role(self.message, role)


def _cell(text: str) -> str:
    """Free text for a CSV cell, defused so a spreadsheet does not run it as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class WaiverQueue(QWidget):
    """Pending waiver requests from booths, oldest first; the supervisor approves or refuses."""

    refreshed = Signal()
    decided = Signal(object)  # the WaiverRequest as decided
    failed = Signal(str)

    def __init__(self, client: SupervisorClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._requests: list[WaiverRequest] = []
        self.table = QTableWidget(0, 6, self)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Asked"),
                self.tr("Plate"),
                self.tr("Sessions"),
                self.tr("Lane"),
                self.tr("Attendant"),
                self.tr("Reason"),
            ]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.approve_button = QPushButton(self.tr("Approve..."), self)
        self.refuse_button = QPushButton(self.tr("Refuse..."), self)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.approve_button)
        buttons.addWidget(self.refuse_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.refresh_button.clicked.connect(self.refresh)
        self.approve_button.clicked.connect(lambda: self.decide_selected(True))
        self.refuse_button.clicked.connect(lambda: self.decide_selected(False))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()
        self.refresh()

    def requests(self) -> list[WaiverRequest]:
        """The pending requests shown, top to bottom."""
        return list(self._requests)

    def refresh(self) -> None:
        """Reload the pending requests (in the background)."""
        client = self._client
        run_in_background(
            lambda: client.waiver_requests("pending", limit=500),
            self._loaded,
            self._failed,
            owner=self,
        )

    def _loaded(self, page: WaiverRequestPage) -> None:
        self._requests = list(page.items)
        self.table.setRowCount(0)
        for request in self._requests:
            row = self.table.rowCount()
            self.table.insertRow(row)
            cells = [
                format_local_time(request.created_at, with_date=True),
                request.plate,
                ", ".join(str(i) for i in request.session_ids),
                request.lane,
                request.attendant or "",
                request.reason,
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.message.setText(
            self.tr("{count} waiver requests wait for a decision.").format(
                count=len(self._requests)
            )
        )
        set_role(self.message, "muted")
        self._update_buttons()
        self.refreshed.emit()

    def select_request(self, row: int) -> None:
        self.table.selectRow(row)

    def selected_request(self) -> WaiverRequest | None:
        rows = self.table.selectionModel().selectedRows()
        return self._requests[rows[0].row()] if rows else None

    def decide_selected(self, approve: bool, reason: str | None = None) -> bool:
        """Approve or refuse the selected request with a reason (asked when None)."""
        request = self.selected_request()
        if request is None:
            return False
        if reason is None:
            title = (
                self.tr("Approve the waiver for {plate}")
                if approve
                else self.tr("Refuse the waiver for {plate}")
            ).format(plate=request.plate)
            text, ok = QInputDialog.getText(self, title, self.tr("Reason (kept in the audit log)"))
            reason = text if ok else None
        if not reason or not reason.strip():
            self.message.setText(self.tr("A reason is required; nothing was decided."))
            set_role(self.message, "warning")
            return False
        client, request_id, text = self._client, request.request_id, reason.strip()
        self.approve_button.setEnabled(False)
        self.refuse_button.setEnabled(False)

        def done(answer: WaiverRequest) -> None:
            self.decided.emit(answer)
            self.refresh()

        run_in_background(
            lambda: client.decide_waiver(request_id, approve, text), done, self._failed, owner=self
        )
        return True

    def _failed(self, error: Exception) -> None:
        text = failure_text(error, log, "waiver queue")
        self.message.setText(text)
        set_role(self.message, "danger")
        self._update_buttons()
        self.failed.emit(text)

    def _update_buttons(self) -> None:
        selected = self.selected_request() is not None
        self.approve_button.setEnabled(selected)
        self.refuse_button.setEnabled(selected)
