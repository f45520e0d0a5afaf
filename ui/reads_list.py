"""The recent reads: newest on top, bounded, owing vehicles highlighted, notices re-openable."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import Outcome, OutcomeKind, RecoveryNotice
from ui.bridge import ReadDecision
from ui.format import format_local_time
from ui.read_text import (
    ROLE_DANGER,
    ROLE_MUTED,
    ROLE_OK,
    ROLE_WARNING,
    describe_decision,
    describe_outcome,
    format_confidence,
)
from ui.roles import ROLE_COLOURS, scaled_font, set_role

MAX_ROWS = 200
DecisionRole = Qt.ItemDataRole.UserRole + 1
"""Item data role of any cell: the row's :class:`ReadDecision`."""
StateRole = Qt.ItemDataRole.UserRole + 2
"""Item data role of any cell: the row's role ("danger", "ok", "warning")."""

Index = QModelIndex | QPersistentModelIndex


@dataclass
class _Row:
    decision: ReadDecision
    text: str
    role: str


class ReadsModel(QAbstractTableModel):
    """Decisions as table rows (time, lane, plate, confidence, decision), newest first."""

    TIME, LANE, PLATE, CONFIDENCE, DECISION = range(5)

    def __init__(self, max_rows: int = MAX_ROWS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._max_rows = max_rows
        self._headers = (
            self.tr("Time"),
            self.tr("Lane"),
            self.tr("Plate"),
            self.tr("Read"),
            self.tr("Decision"),
        )

    # -- changes ---------------------------------------------------------------------

    def add(self, decision: ReadDecision) -> None:
        """Put ``decision`` on top; the oldest row goes when there are too many."""
        text, role = describe_decision(decision)
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, _Row(decision, text, role))
        self.endInsertRows()
        if len(self._rows) > self._max_rows:
            first = self._max_rows
            self.beginRemoveRows(QModelIndex(), first, len(self._rows) - 1)
            del self._rows[first:]
            self.endRemoveRows()

    def record_outcome(self, outcome: Outcome) -> None:
        """Show what the attendant recorded on the row of that notice."""
        for number, row in enumerate(self._rows):
            notice = row.decision.notice
            if notice is not None and notice.notice_id == outcome.notice_id:
                row.text = describe_outcome(outcome, notice.currency)
                row.role = ROLE_OK if outcome.kind is OutcomeKind.PAID else ROLE_WARNING
                cell = self.index(number, self.DECISION)
                self.dataChanged.emit(self.index(number, 0), cell)
                return

    # -- reading ---------------------------------------------------------------------

    def decision(self, row: int) -> ReadDecision:
        """The decision shown on ``row``."""
        return self._rows[row].decision

    def decisions(self) -> Sequence[ReadDecision]:
        """All decisions shown, newest first."""
        return [row.decision for row in self._rows]

    def row_of(self, notice_id: uuid.UUID) -> int | None:
        """The row showing notice ``notice_id``, if it is still listed."""
        for number, row in enumerate(self._rows):
            if row.decision.notice is not None and row.decision.notice.notice_id == notice_id:
                return number
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else 5

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == DecisionRole:
            return row.decision
        if role == StateRole:
            return row.role
        if role == Qt.ItemDataRole.ToolTipRole and column == self.DECISION:
            return row.decision.error or None
        if column == self.DECISION:
            return self._decision_look(row, role)
        if role == Qt.ItemDataRole.FontRole and column == self.PLATE:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _text(self, row: _Row, column: int) -> str:
        read = row.decision.read
        if column == self.TIME:
            return format_local_time(read.seen_at)
        if column == self.LANE:
            return read.lane
        if column == self.PLATE:
            return read.plate
        if column == self.CONFIDENCE:
            return format_confidence(read)
        return row.text

    def _decision_look(self, row: _Row, role: int) -> object:
        colours = ROLE_COLOURS.get(row.role)
        if colours is None:
            return None
        background, text = colours
        if role == Qt.ItemDataRole.BackgroundRole and background is not None:
            return QBrush(QColor(background))
        if role == Qt.ItemDataRole.ForegroundRole and background is not None:
            return QBrush(QColor(text))
        if role == Qt.ItemDataRole.FontRole and row.role in (ROLE_DANGER, ROLE_WARNING):
            font = QFont()
            font.setBold(True)
            return font
        return None


class ReadsList(QWidget):
    """The recent reads table; Enter or double-click on a row with a notice re-opens it.

    Signal ``notice_requested(RecoveryNotice)``. Object names: ``readsList``,
    ``readsTitle``, ``readsTable``, ``readsHint``.
    """

    notice_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, max_rows: int = MAX_ROWS) -> None:
        super().__init__(parent)
        self.setObjectName("readsList")
        self.model = ReadsModel(max_rows, self)

        title = QLabel(self.tr("Recent reads"), self)
        title.setObjectName("readsTitle")
        title.setFont(scaled_font(self, 1.3, bold=True))

        self.table = QTableView(self)
        self.table.setObjectName("readsTable")
        self.table.setModel(self.model)
        self.table.setFont(scaled_font(self, 1.2))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(ReadsModel.DECISION, QHeaderView.ResizeMode.Stretch)
        self._fit_columns()
        self.table.activated.connect(self._activated)

        hint = QLabel(self.tr("Enter or double-click an owing row to open its notice again"), self)
        hint.setObjectName("readsHint")
        hint.setWordWrap(True)
        set_role(hint, ROLE_MUTED)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)

    def add(self, decision: ReadDecision) -> None:
        """Show a new decision on top (connected to ``bridge.decided``)."""
        self.model.add(decision)
        self._fit_columns()

    def _fit_columns(self) -> None:
        # The header's ResizeToContents mode does not follow inserted rows: fit explicitly
        # (a few reads a minute, at most MAX_ROWS rows to measure).
        for column in range(ReadsModel.DECISION):
            self.table.resizeColumnToContents(column)

    def record_outcome(self, outcome: Outcome) -> None:
        """Show an outcome on its notice's row (connected to ``bridge.outcome_recorded``)."""
        self.model.record_outcome(outcome)

    def open_row(self, row: int) -> RecoveryNotice | None:
        """Re-open the notice of ``row`` (emits ``notice_requested``); None if it has none."""
        if not 0 <= row < self.model.rowCount():
            return None
        notice = self.model.decision(row).notice
        if notice is not None:
            self.notice_requested.emit(notice)
        return notice

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_row(index.row())
