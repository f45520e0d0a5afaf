"""The top of the notice: who owes, how much, for what, how sure, and from where."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import RecoveryNotice
from desktop.plates import MatchTier
from ui.format import describe_match, describe_session, describe_source, format_amount
from ui.notice.images import ImageSlot
from ui.roles import scaled_font, set_role

CROP_SIZE = QSize(200, 80)
SNAPSHOT_SIZE = QSize(240, 135)
STALE_CACHE_S = 3600.0
VISIBLE_SESSION_ROWS = 5


class NoticeSummary(QWidget):
    """Banner, pictures, amount owed, match tier, data source and the unpaid sessions."""

    def __init__(self, notice: RecoveryNotice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = QLabel(
            self.tr("{plate} owes unpaid parking  ·  {lane}").format(
                plate=notice.listed_plate, lane=notice.read.lane
            ),
            self,
        )
        self.banner.setObjectName("noticeBanner")
        self.banner.setFont(scaled_font(self.banner, 1.8, bold=True))
        self.banner.setContentsMargins(12, 8, 12, 8)
        set_role(self.banner, "danger")

        self.crop = ImageSlot(CROP_SIZE, self.tr("No plate picture"), self)
        self.crop.setObjectName("noticeCrop")
        self.snapshot = ImageSlot(SNAPSHOT_SIZE, self.tr("No snapshot"), self)
        self.snapshot.setObjectName("noticeSnapshot")
        self.crop.load(notice.read.crop_path)
        self.snapshot.load(notice.read.snapshot_path)

        owed_caption = QLabel(self.tr("Amount owed"), self)
        owed_caption.setObjectName("noticeAmountCaption")
        self.amount = QLabel(format_amount(notice.unpaid_cents, notice.currency), self)
        self.amount.setObjectName("noticeAmount")
        self.amount.setFont(scaled_font(self.amount, 3.2, bold=True))
        self.amount.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

        self.match = QLabel(describe_match(notice), self)
        self.match.setObjectName("noticeMatch")
        self.match.setWordWrap(True)
        self.match.setContentsMargins(8, 4, 8, 4)
        exact = notice.tier is MatchTier.EXACT
        self.match.setFont(scaled_font(self.match, 1.0 if exact else 1.3, bold=not exact))
        set_role(self.match, "" if exact else "warning")

        self.source = QLabel(describe_source(notice), self)
        self.source.setObjectName("noticeSource")
        self.source.setWordWrap(True)
        stale = notice.source == "cache" and (
            notice.cache_age_s is None or notice.cache_age_s > STALE_CACHE_S
        )
        set_role(self.source, "warning" if stale else "muted")

        self.sessions = self._sessions_table(notice)

        facts = QVBoxLayout()
        facts.addWidget(owed_caption)
        facts.addWidget(self.amount)
        facts.addWidget(self.source)
        facts.addStretch(1)
        grid = QGridLayout()
        grid.addLayout(facts, 0, 0)
        grid.addWidget(self.crop, 0, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.snapshot, 0, 2, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(0, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.banner)
        layout.addLayout(grid)
        layout.addWidget(self.match)
        layout.addWidget(self.sessions)

    def _sessions_table(self, notice: RecoveryNotice) -> QTableWidget:
        headers = [
            self.tr("Car park"),
            self.tr("Entered"),
            self.tr("Duration"),
            self.tr("Owed ({currency})").format(currency=notice.currency),
        ]
        table = QTableWidget(len(notice.sessions), len(headers), self)
        table.setObjectName("noticeSessions")
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setAlternatingRowColors(True)
        for row, session in enumerate(notice.sessions):
            for column, text in enumerate(describe_session(session)):
                item = QTableWidgetItem(text)
                if column == len(headers) - 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(row, column, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(headers)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        rows = max(1, min(len(notice.sessions), VISIBLE_SESSION_ROWS))
        row_height = table.verticalHeader().defaultSectionSize()
        table.setFixedHeight(header.sizeHint().height() + rows * row_height + 4)
        return table
