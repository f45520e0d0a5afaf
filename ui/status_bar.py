"""The booth's status bar: server link, outbox, blacklist cache, cameras, attendant.

Everything shown comes from plain snapshots (:class:`SyncStatus` from
``bridge.sync_changed``, :class:`CaptureStats` from ``bridge.camera_changed`` and from
``CaptureGroup.stats()`` polled once a second, which only takes each lane's lock).
Ages ("synced 2 min ago") and the wait a busy server asked for ("retrying in 12 s") are
refreshed every second. Outbox rows the server keeps failing are counted beside the
waiting ones ("2 stuck: server error 500"), with the oldest one's error as the tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from desktop.capture import CaptureGroup, CaptureState, CaptureStats
from desktop.domain import utc_now
from desktop.sync import MALFORMED_REASON, SyncStatus
from ui.format import format_age
from ui.lane_view import STALE_AFTER_S
from ui.read_text import ROLE_DANGER, ROLE_MUTED, ROLE_OK, ROLE_WARNING
from ui.roles import set_role

REFRESH_MS = 1000
# A blacklist cache older than this is shown as a warning.
STALE_CACHE_S = 3600.0


def short_time(moment: datetime) -> str:
    """A UTC timestamp as the booth's local ``HH:MM``."""
    return moment.astimezone().strftime("%H:%M")


class BoothStatusBar(QStatusBar):
    """Permanent status labels; temporary messages (``showMessage``) appear on the left.

    Object names: ``boothStatusBar``, ``serverStatus``, ``outboxStatus``,
    ``blacklistStatus``, ``cameraStatus`` (one per lane, property ``lane``),
    ``attendantStatus``; each label has a ``role`` property (ok, warning, danger, muted).
    """

    def __init__(
        self,
        *,
        attendant: str,
        cameras: CaptureGroup | None,
        sync_status: SyncStatus | None = None,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("boothStatusBar")
        self.setSizeGripEnabled(False)
        self._cameras = cameras
        self._clock = clock
        self._sync = sync_status or SyncStatus()

        self.server_label = self._label("serverStatus")
        self.outbox_label = self._label("outboxStatus")
        self.blacklist_label = self._label("blacklistStatus")
        self.camera_labels: dict[str, QLabel] = {}
        for name in cameras.names if cameras is not None else []:
            label = self._label("cameraStatus")
            label.setProperty("lane", name)
            self.camera_labels[name] = label
        self.attendant_label = self._label("attendantStatus")
        self.attendant_label.setText(self.tr("Attendant: {name}").format(name=attendant))
        self.attendant_label.setVisible(bool(attendant))

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def _label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setContentsMargins(6, 0, 6, 0)
        # Squeezed (not pushing the window wider) when many lanes do not fit.
        label.setMinimumWidth(40)
        self.addPermanentWidget(label)
        return label

    # -- inputs ----------------------------------------------------------------------

    def set_sync(self, status: SyncStatus) -> None:
        """A new sync status (connected to ``bridge.sync_changed``)."""
        self._sync = status
        self._show_sync()

    def set_camera(self, stats: CaptureStats) -> None:
        """A camera's new state (connected to ``bridge.camera_changed``)."""
        if stats.lane in self.camera_labels:
            self._show_camera(stats)

    def refresh(self) -> None:
        """Poll the cameras and re-render ages (every second)."""
        if self._cameras is not None:
            for stats in self._cameras.stats().values():
                self.set_camera(stats)
        self._show_sync()

    def stop(self) -> None:
        """Stop the once-a-second refresh."""
        self._timer.stop()

    # -- texts -----------------------------------------------------------------------

    def camera_text(self, lane: str) -> str:
        """What the status bar says about ``lane``'s camera."""
        label = self.camera_labels.get(lane)
        return label.text() if label is not None else ""

    def _show_sync(self) -> None:
        status = self._sync
        busy_s = self._busy_s(status)
        if status.online is None:
            server, role = self.tr("Server: not reached yet"), ROLE_MUTED
        elif busy_s > 0:
            server = self.tr("Server: busy, retrying in {seconds} s").format(seconds=busy_s)
            role = ROLE_WARNING
        elif status.online:
            server, role = self.tr("Server: online"), ROLE_OK
        else:
            since = status.offline_since or self._clock()
            server = self.tr("Server: offline since {time}").format(time=short_time(since))
            role = ROLE_DANGER
        self._set(self.server_label, server, role, status.last_error)

        pending = status.outbox_pending
        self.outbox_label.setVisible(pending > 0)
        if pending and status.outbox_stuck:
            text = self.tr("{waiting} waiting to send · {stuck} stuck: {reason}").format(
                waiting=pending, stuck=status.outbox_stuck, reason=self._stuck_reason(status)
            )
            self._set(self.outbox_label, text, ROLE_WARNING, status.stuck_error)
        elif pending:
            text = self.tr("{count} waiting to send").format(count=pending)
            self._set(self.outbox_label, text, ROLE_WARNING if not status.online else ROLE_MUTED)

        self._show_blacklist(status)

    def _busy_s(self, status: SyncStatus) -> int:
        """Whole seconds left of the busy server's Retry-After (0 once it has passed)."""
        if status.busy_until is None:
            return 0
        return max(0, math.ceil((status.busy_until - self._clock()).total_seconds()))

    def _stuck_reason(self, status: SyncStatus) -> str:
        """Why the oldest stuck row failed, in the booth's language."""
        code = status.stuck_status
        if code is not None and code >= 500:
            return self.tr("server error {status}").format(status=code)
        if code is not None:
            return self.tr("refused, HTTP {status}").format(status=code)
        if status.stuck_reason == MALFORMED_REASON:
            return self.tr("unreadable answer")
        return status.stuck_reason

    def _show_blacklist(self, status: SyncStatus) -> None:
        if status.last_sync_at is None:
            if status.online is None:
                text, role = self.tr("Blacklist: waiting for the first sync"), ROLE_MUTED
            else:
                text = self.tr("Blacklist: {count} entries, never synced").format(
                    count=status.cache_entries
                )
                role = ROLE_WARNING
        else:
            age_s = (self._clock() - status.last_sync_at).total_seconds()
            text = self.tr("Blacklist: {count} · synced {time} ({age} ago)").format(
                count=status.cache_entries,
                time=short_time(status.last_sync_at),
                age=format_age(age_s),
            )
            role = ROLE_WARNING if age_s > STALE_CACHE_S else ""
        self._set(self.blacklist_label, text, role)

    def _show_camera(self, stats: CaptureStats) -> None:
        label = self.camera_labels[stats.lane]
        stale = stats.last_frame_age_s is None or stats.last_frame_age_s > STALE_AFTER_S
        if stats.state is CaptureState.LIVE and not stale:
            text = self.tr("{lane}: {fps:.1f} fps").format(lane=stats.lane, fps=stats.fps)
            role = ""
        elif stats.state is CaptureState.CONNECTING:
            text, role = self.tr("{lane}: connecting").format(lane=stats.lane), ROLE_MUTED
        elif stats.state is CaptureState.STOPPED:
            text, role = self.tr("{lane}: stopped").format(lane=stats.lane), ROLE_WARNING
        else:
            text = self.tr("{lane}: no signal, retrying").format(lane=stats.lane)
            role = ROLE_DANGER
        self._set(label, text, role, stats.last_error or "")

    @staticmethod
    def _set(label: QLabel, text: str, role: str, tooltip: str = "") -> None:
        if label.text() != text:
            label.setText(text)
        if label.toolTip() != tooltip:
            label.setToolTip(tooltip)
        set_role(label, role)
