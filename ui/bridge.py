"""The bridge between the booth core and the widgets: core events become Qt signals.

Every decision (``BoothService.check``, which may wait for the server up to its
deadline) runs on the bridge's own threads; results come back as queued signals, so
the GUI thread only paints and handles input. Widgets never call the core's blocking
methods themselves; they go through here.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QObject, Signal

from desktop.booth import BoothService
from desktop.capture.frame import CaptureStats
from desktop.capture.group import CaptureGroup
from desktop.domain import (
    Outcome,
    OutcomeKind,
    PaymentMethod,
    PlateRead,
    RecoveryNotice,
    utc_now,
)
from desktop.plates import normalize
from desktop.recognition.consensus import VehicleRead
from desktop.sync import SyncStatus

log = logging.getLogger(__name__)

DECISION_THREADS = 4


@dataclass(frozen=True)
class ReadDecision:
    """A read and what the booth decided on it (``notice`` None: nothing owed)."""

    read: PlateRead
    notice: RecoveryNotice | None
    error: str = ""
    decided_at: datetime = field(default_factory=utc_now)


class BoothBridge(QObject):
    """Turns the booth core's events into signals delivered on the GUI thread.

    Signals (all queued to the GUI thread):
    ``vehicle_read(VehicleRead)`` a lane's consensus read with its box and evidence;
    ``decided(ReadDecision)`` every decision, camera or manual;
    ``notice_raised(RecoveryNotice)`` a decision that owes money;
    ``sync_changed(SyncStatus)``; ``camera_changed(CaptureStats)``;
    ``outcome_recorded(Outcome)`` after an attendant's outcome is stored.
    """

    vehicle_read = Signal(object)
    decided = Signal(object)
    notice_raised = Signal(object)
    sync_changed = Signal(object)
    camera_changed = Signal(object)
    outcome_recorded = Signal(object)

    def __init__(self, booth: BoothService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.booth = booth
        self._decisions = ThreadPoolExecutor(DECISION_THREADS, thread_name_prefix="decide")
        self._closed = False
        booth.sync.add_listener(self._on_sync)

    # -- reads in --------------------------------------------------------------------

    def submit_vehicle(self, vehicle: VehicleRead) -> None:
        """A consensus read from the recognition worker (any thread)."""
        self.vehicle_read.emit(vehicle)
        self.submit(vehicle.read)

    def submit(self, read: PlateRead) -> None:
        """Decide on ``read`` off the GUI thread; results arrive as signals (any thread)."""
        if self._closed:
            return
        self._decisions.submit(self._decide, read)

    def check_manual(self, text: str, lane: str) -> PlateRead:
        """A plate typed by the attendant; raises ValueError when it has no characters."""
        plate = normalize(text)
        if not plate:
            raise ValueError(f"{text!r} has no letters or digits")
        read = PlateRead(plate=plate, lane=lane, source="manual", confidence=1.0)
        self.submit(read)
        return read

    def _decide(self, read: PlateRead) -> None:
        try:
            notice = self.booth.check(read)
        except Exception as exc:
            log.exception("deciding on %s failed", read.plate)
            self.decided.emit(ReadDecision(read, None, error=str(exc) or type(exc).__name__))
            return
        self.decided.emit(ReadDecision(read, notice))
        if notice is not None:
            self.notice_raised.emit(notice)

    # -- outcomes --------------------------------------------------------------------

    def record_outcome(
        self,
        notice: RecoveryNotice,
        kind: OutcomeKind,
        *,
        method: PaymentMethod | None = None,
        reason: str | None = None,
        reference: str | None = None,
        approved_by: str | None = None,
        waiver_request_id: uuid.UUID | None = None,
        cancel_waiver_request: uuid.UUID | None = None,
    ) -> Outcome:
        """Store an outcome (one local transaction; the outbox delivers it)."""
        outcome = self.booth.record_outcome(
            notice,
            kind,
            method=method,
            reason=reason,
            reference=reference,
            approved_by=approved_by,
            waiver_request_id=waiver_request_id,
            cancel_waiver_request=cancel_waiver_request,
        )
        self.outcome_recorded.emit(outcome)
        return outcome

    # -- status ----------------------------------------------------------------------

    def watch_cameras(self, cameras: CaptureGroup) -> None:
        """Report every camera state change (and the current state of each)."""
        cameras.add_state_listener(self._on_camera)
        for name, stats in cameras.stats().items():
            log.debug("camera %s starts as %s", name, stats.state)
            self.camera_changed.emit(stats)

    def _on_camera(self, stats: CaptureStats) -> None:
        self._emit_unless_closed(self.camera_changed, stats)

    def _on_sync(self, status: SyncStatus) -> None:
        self._emit_unless_closed(self.sync_changed, status)

    def _emit_unless_closed(self, signal: Signal, value: object) -> None:
        if self._closed:
            return
        try:
            signal.emit(value)
        except RuntimeError:  # the window closed between the check and the emit
            log.debug("status change after the bridge was deleted, dropped")

    def close(self) -> None:
        """Stop taking reads; decisions in flight finish (their results are dropped)."""
        self._closed = True
        self._decisions.shutdown(wait=False, cancel_futures=True)
