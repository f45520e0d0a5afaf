"""The booth's main window: live lanes, recent reads, status; F2 to type a plate.

The window only shows and routes: the bridge's signals feed the lane views, the reads
list and the status bar; the notice dialog, manual entry and settings are someone
else's and hang off this window's signals (``notice_requested``,
``manual_entry_requested``, ``settings_requested``). The app is expected to call
``bridge.watch_cameras(cameras)``; the status bar and lane views also poll the cameras,
so they are right even without it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop.capture import CaptureGroup, CaptureStats
from desktop.domain import Outcome, RecoveryNotice
from desktop.recognition.consensus import VehicleRead
from desktop.sync import SyncStatus
from ui.background import run_in_background
from ui.bridge import BoothBridge, ReadDecision
from ui.lane_view import LaneView
from ui.read_text import ROLE_MUTED
from ui.reads_list import ReadsList
from ui.roles import scaled_font, set_role
from ui.status_bar import BoothStatusBar

log = logging.getLogger(__name__)

MAX_LANES = 4
MESSAGE_MS = 6000
# Share of the window's width for the reads list next to the lanes.
READS_SHARE = 0.38


def grid_position(index: int, count: int) -> tuple[int, int]:
    """Row and column of lane ``index`` of ``count``: 1 full, 2 side by side, 3-4 in 2x2."""
    if count <= 2:
        return 0, index
    return divmod(index, 2)


class MainWindow(QMainWindow):
    """What the attendant looks at all shift.

    Signals: ``notice_requested(RecoveryNotice)`` for every notice the bridge raises and
    for a re-opened row of the reads list; ``manual_entry_requested()`` (F2);
    ``settings_requested()`` (F9); ``supervisor_requested()`` (F10);
    ``shift_report_requested()`` (F11). "Sync now" (F5) runs a sync round off the GUI thread.
    Object names: ``mainWindow``, ``mainToolBar``, ``mainSplitter``, ``laneGrid``,
    ``noCameraHint``, plus those of :class:`LaneView`, :class:`ReadsList` and
    :class:`BoothStatusBar`; actions ``enterPlateAction``, ``syncNowAction``,
    ``settingsAction``, ``supervisorAction``, ``shiftReportAction``.
    """

    notice_requested = Signal(object)
    manual_entry_requested = Signal()
    settings_requested = Signal()
    shift_report_requested = Signal()
    supervisor_requested = Signal()

    def __init__(
        self,
        bridge: BoothBridge,
        cameras: CaptureGroup | None,
        *,
        attendant: str,
        lanes: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.cameras = cameras
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("Recoup"))
        lane_names = list(lanes) or (cameras.names if cameras is not None else [])
        if cameras is not None and len(lane_names) > MAX_LANES:
            raise ValueError(f"the window shows at most {MAX_LANES} lanes, got {len(lane_names)}")

        self._build_actions()
        self.lane_views: dict[str, LaneView] = {}
        self._splitter: QSplitter | None = None
        self._placed = False
        self.reads_list = ReadsList(self)
        self.setCentralWidget(self._build_centre(cameras, lane_names))
        self.status = BoothStatusBar(
            attendant=attendant,
            cameras=cameras,
            sync_status=bridge.booth.sync.status,
            parent=self,
        )
        self.setStatusBar(self.status)
        self._connect(bridge)
        self.reads_list.table.setFocus()

    # -- building --------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.enter_plate_action = self._action(
            "enterPlateAction", self.tr("Enter plate"), "F2", self.manual_entry_requested.emit
        )
        self.sync_now_action = self._action(
            "syncNowAction", self.tr("Sync now"), "F5", self.sync_now
        )
        self.settings_action = self._action(
            "settingsAction", self.tr("Settings"), "F9", self.settings_requested.emit
        )
        self.supervisor_action = self._action(
            "supervisorAction", self.tr("Supervisor"), "F10", self.supervisor_requested.emit
        )
        self.shift_report_action = self._action(
            "shiftReportAction", self.tr("Shift report"), "F11", self.shift_report_requested.emit
        )
        actions = (
            self.enter_plate_action,
            self.sync_now_action,
            self.settings_action,
            self.supervisor_action,
            self.shift_report_action,
        )

        toolbar = QToolBar(self.tr("Actions"), self)
        toolbar.setObjectName("mainToolBar")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setFont(scaled_font(self, 1.25, bold=True))
        toolbar.toggleViewAction().setEnabled(False)
        for action in actions:
            toolbar.addAction(action)
            button = toolbar.widgetForAction(action)
            button.setObjectName(action.objectName().replace("Action", "Button"))
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

        menu = self.menuBar().addMenu(self.tr("&Booth"))
        for action in actions:
            menu.addAction(action)

    def _action(self, name: str, text: str, key: str, slot: Callable[[], object]) -> QAction:
        shortcut = QKeySequence(key)
        # The key is part of the text so the toolbar shows it too ("Enter plate  F2").
        # Portable text: Qt's own Chinese catalogue garbles "F%1" in the native form.
        label = f"{text}  [{shortcut.toString(QKeySequence.SequenceFormat.PortableText)}]"
        action = QAction(label, self)
        action.setObjectName(name)
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(label)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_centre(self, cameras: CaptureGroup | None, lanes: list[str]) -> QWidget:
        if cameras is None:
            centre = QWidget(self)
            centre.setObjectName("noCameraPanel")
            hint = QLabel(self.tr("No cameras on this booth: press F2 to enter a plate."), centre)
            hint.setObjectName("noCameraHint")
            hint.setFont(scaled_font(self, 1.3, bold=True))
            hint.setWordWrap(True)
            set_role(hint, ROLE_MUTED)
            layout = QVBoxLayout(centre)
            layout.addWidget(hint)
            layout.addWidget(self.reads_list, 1)
            return centre

        grid_widget = QWidget(self)
        grid_widget.setObjectName("laneGrid")
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setSpacing(6)
        for index, lane in enumerate(lanes):
            capture = cameras[lane] if lane in cameras.names else None
            view = LaneView(lane, capture, grid_widget, phase=index / len(lanes))
            row, column = grid_position(index, len(lanes))
            grid.addWidget(view, row, column)
            self.lane_views[lane] = view

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("mainSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(grid_widget)
        splitter.addWidget(self.reads_list)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self._splitter = splitter
        return splitter

    def _connect(self, bridge: BoothBridge) -> None:
        bridge.decided.connect(self._on_decided)
        bridge.vehicle_read.connect(self._on_vehicle)
        bridge.notice_raised.connect(self._on_notice)
        bridge.sync_changed.connect(self._on_sync)
        bridge.camera_changed.connect(self._on_camera)
        bridge.outcome_recorded.connect(self._on_outcome)
        self.reads_list.notice_requested.connect(self._on_notice)

    # -- bridge signals --------------------------------------------------------------

    def _on_decided(self, decision: ReadDecision) -> None:
        self.reads_list.add(decision)
        view = self.lane_views.get(decision.read.lane)
        if view is not None:
            view.show_decision(decision)

    def _on_vehicle(self, vehicle: VehicleRead) -> None:
        view = self.lane_views.get(vehicle.read.lane)
        if view is not None:
            view.show_vehicle(vehicle)

    def _on_notice(self, notice: RecoveryNotice) -> None:
        self.notice_requested.emit(notice)

    def _on_sync(self, status: SyncStatus) -> None:
        self.status.set_sync(status)

    def _on_camera(self, stats: CaptureStats) -> None:
        self.status.set_camera(stats)
        view = self.lane_views.get(stats.lane)
        if view is not None:
            view.set_stats(stats)

    def _on_outcome(self, outcome: Outcome) -> None:
        self.reads_list.record_outcome(outcome)
        view = self.lane_views.get(outcome.lane)
        if view is not None:
            view.show_outcome(outcome)

    # -- actions ---------------------------------------------------------------------

    def sync_now(self) -> None:
        """Run one sync round off the GUI thread; the status bar follows ``sync_changed``."""
        if not self.sync_now_action.isEnabled():
            return
        self.sync_now_action.setEnabled(False)
        self.status.showMessage(self.tr("Syncing with the server…"))
        run_in_background(self.bridge.booth.sync_now, self._synced, self._sync_failed, owner=self)

    def _synced(self, status: SyncStatus) -> None:
        self.sync_now_action.setEnabled(True)
        self.status.set_sync(status)
        if status.online:
            message = self.tr("Synced with the server.")
        else:
            message = self.tr("The server cannot be reached; the booth decides from its cache.")
        self.status.showMessage(message, MESSAGE_MS)

    def _sync_failed(self, error: Exception) -> None:
        self.sync_now_action.setEnabled(True)
        log.error("sync now failed", exc_info=error)
        self.status.showMessage(self.tr("Sync failed: {error}").format(error=error), MESSAGE_MS)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """On first show, give the reads list enough room for its decision column."""
        super().showEvent(event)
        if self._splitter is not None and not self._placed:
            self._placed = True
            total = max(1, self._splitter.width())
            reads = round(total * READS_SHARE)
            self._splitter.setSizes([total - reads, reads])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Stop pulling frames and polling once the window closes."""
        super().closeEvent(event)
        if event.isAccepted():
            for view in self.lane_views.values():
                view.stop()
            self.status.stop()
