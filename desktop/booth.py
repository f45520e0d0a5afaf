"""The booth service: one object that wires store, server client, sync and recovery.

The UI (and the headless demo) talk to this; it owns the lifetime of the background
threads and exposes the operations an attendant triggers.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from desktop.client import ServerClient, ServerUnavailable
from desktop.config import BoothConfig
from desktop.domain import (
    Outcome,
    OutcomeKind,
    PaymentIntent,
    PaymentMethod,
    PlateRead,
    ReadSource,
    RecoveryNotice,
)
from desktop.plates import normalize
from desktop.recovery import RecoveryService
from desktop.store import Store
from desktop.supervisor_models import WaiverRequest
from desktop.supervisor_session import OfflineSupervisor, SupervisorSessionCache
from desktop.sync import SyncStatus, SyncWorker

log = logging.getLogger(__name__)

DATABASE_FILE = "booth.sqlite3"


class BoothService:
    """The booth core for one booth: decide on reads, record outcomes, keep in sync."""

    def __init__(
        self,
        *,
        booth_id: str,
        store: Store,
        client: ServerClient,
        sync: SyncWorker,
        recovery: RecoveryService,
        supervisors: SupervisorSessionCache | None = None,
        offline_hours: float = 12.0,
    ) -> None:
        self.booth_id = booth_id
        self.store = store
        self.client = client
        self.sync = sync
        self.recovery = recovery
        self.supervisors = supervisors or SupervisorSessionCache(store.path.parent)
        self.offline_hours = offline_hours

    @classmethod
    def from_config(cls, config: BoothConfig, *, data_dir: Path | None = None) -> BoothService:
        """Build a booth from its configuration (the database lives in the data folder)."""
        if config.booth.token is None:
            raise ValueError(
                "the booth has no server token: set RECOUP_BOOTH__TOKEN in its environment"
            )
        folder = Path(data_dir or config.data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        store = Store(folder / DATABASE_FILE, keep_read_days=config.evidence_days)
        client = ServerClient(
            str(config.server.url),
            config.booth.token.get_secret_value(),
            booth_id=config.booth.id,
            connect_timeout_s=config.server.connect_timeout_s,
            read_timeout_s=config.server.read_timeout_s,
            verify_tls=config.server.verify_tls,
            ca_bundle=config.server.ca_bundle,
        )
        sync = SyncWorker(
            store, client, interval_s=config.sync.interval_s, page_size=config.sync.page_size
        )
        recovery = RecoveryService(
            store,
            client,
            deadline_s=config.recovery.history_deadline_s,
            cooldown_s=config.recovery.notice_cooldown_s,
            attendant=config.booth.attendant,
            on_outcome_queued=sync.wake,
        )
        return cls(
            booth_id=config.booth.id,
            store=store,
            client=client,
            sync=sync,
            recovery=recovery,
            supervisors=SupervisorSessionCache(folder),
            offline_hours=config.supervisor.offline_hours,
        )

    def start(self) -> None:
        """Start background sync."""
        self.sync.start()

    def stop(self) -> None:
        """Stop background work and close the database."""
        self.sync.stop()
        self.recovery.close()
        self.client.close()
        self.store.close()

    def check(self, read: PlateRead) -> RecoveryNotice | None:
        """Decide on a plate read (camera or manual)."""
        return self.recovery.check(read)

    def check_plate(
        self, text: str, lane: str, *, source: ReadSource = "manual", confidence: float = 1.0
    ) -> RecoveryNotice | None:
        """Normalize typed or recognized text and decide on it; None when nothing is owed."""
        plate = normalize(text)
        if not plate:
            raise ValueError(f"{text!r} has no letters or digits")
        return self.check(PlateRead(plate=plate, lane=lane, source=source, confidence=confidence))

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
        """Record what happened after a notice; the server receives it through the outbox."""
        return self.recovery.record_outcome(
            notice,
            kind,
            method=method,
            reason=reason,
            reference=reference,
            approved_by=approved_by,
            waiver_request_id=waiver_request_id,
            cancel_waiver_request=cancel_waiver_request,
        )

    # -- waivers: a supervisor decides -------------------------------------------------

    def request_waiver(
        self, notice: RecoveryNotice, reason: str, request_id: uuid.UUID
    ) -> WaiverRequest:
        """Ask the supervisors to waive the notice's sessions (blocking HTTP; off the GUI
        thread). Idempotent by ``request_id``: asking again answers the same request.
        Raises the client's ``ServerError`` subclasses (``ServerUnavailable`` offline)."""
        if not notice.sessions:
            raise ValueError("the notice lists no sessions to waive")
        request = self.client.create_waiver_request(
            request_id=request_id,
            notice_id=notice.notice_id,
            plate=notice.listed_plate,
            session_ids=notice.session_ids,
            reason=reason,
            lane=notice.read.lane,
            attendant=self.recovery.attendant or None,
        )
        log.info("waiver request %s for %s: %s", request_id, notice.listed_plate, request.status)
        return request

    def waiver_status(self, request_id: uuid.UUID) -> WaiverRequest:
        """The request and the supervisor's decision (blocking HTTP; poll off the GUI thread)."""
        return self.client.waiver_request(request_id)

    def cancel_waiver(self, request_id: uuid.UUID, reason: str) -> WaiverRequest | None:
        """Withdraw a request (blocking HTTP). The answer may be an approval or refusal that
        came first. Offline, the cancellation is queued for the server and None returned."""
        try:
            return self.client.cancel_waiver_request(request_id, reason)
        except ServerUnavailable:
            log.info("server unreachable: waiver request %s cancellation queued", request_id)
            self.recovery.queue_waiver_cancel(request_id, reason)
            return None

    def queue_waiver_cancel(self, request_id: uuid.UUID, reason: str) -> None:
        """Withdraw a request through the outbox (no network on the caller's thread)."""
        self.recovery.queue_waiver_cancel(request_id, reason)

    def offline_supervisors(self) -> list[str]:
        """Supervisors who logged in online at this booth (their PIN is cached)."""
        return self.supervisors.cached_usernames()

    def approve_waiver_offline(self, username: str, pin: str) -> OfflineSupervisor:
        """A supervisor at the booth approves with their PIN, checked against the hash
        cached at their last online login within ``offline_hours`` (blocking: scrypt).
        Raises ``OfflineLoginRefused`` (unknown, expired, wrong_pin)."""
        return self.supervisors.offline_login(username, pin, self.offline_hours)

    def start_qr_payment(self, notice: RecoveryNotice) -> PaymentIntent:
        """Ask the server for a QR payment of the notice's unpaid sessions (blocking HTTP).

        Call it off the GUI thread. Raises the client's ``ServerError`` subclasses, e.g.
        ``ServerRejected`` with code ``already_paid`` when the debt was settled meanwhile.
        """
        if not notice.sessions:
            raise ValueError("the notice lists no sessions to pay")
        intent = self.client.create_payment_intent(
            intent_id=uuid.uuid4(),
            notice_id=notice.notice_id,
            plate=notice.listed_plate,
            session_ids=notice.session_ids,
            amount_cents=notice.unpaid_cents,
        )
        log.info(
            "QR payment %s for %s: %d %s, %s",
            intent.intent_id,
            notice.listed_plate,
            intent.amount_cents,
            intent.currency,
            intent.status,
        )
        return intent

    def qr_payment_status(self, intent_id: uuid.UUID) -> PaymentIntent:
        """The current state of a QR payment (blocking HTTP; poll it off the GUI thread).

        Once it is ``paid``, record the outcome with ``record_outcome(notice,
        OutcomeKind.PAID, method=PaymentMethod.QR, reference=str(intent_id))``.
        """
        return self.client.payment_intent(intent_id)

    def sync_now(self) -> SyncStatus:
        """Run one sync round on the caller's thread (used by the demo and tests)."""
        return self.sync.sync_once()
