"""The recovery decision: does the vehicle at the exit owe money, and what happened next.

For each plate read the cache lookup and the server's answer run in parallel; the
server's word is used when it arrives before the deadline, the cache's otherwise, so
the booth decides within the deadline whether the server is up or not. Outcomes are
written together with their outbox row, and the sync worker delivers them.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime

from desktop.client import ServerClient, ServerError
from desktop.domain import (
    BlacklistEntry,
    EntryStatus,
    Outcome,
    OutcomeKind,
    PaymentMethod,
    PlateRead,
    ReadAnswer,
    RecoveryNotice,
    utc_now,
)
from desktop.plates import MatchTier
from desktop.store import CacheHit, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class NoticeCooldown:
    """Remembers which (lane, listed plate) pairs raised a notice recently.

    A vehicle that sits in front of the camera is read many times; the attendant must
    see one notice, not one per frame.
    """

    def __init__(self, cooldown_s: float, clock: Clock) -> None:
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._last_raised: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    def claim(self, lane: str, plate: str) -> bool:
        """Record a notice for the pair; False when one was raised within the cooldown."""
        now = self._clock()
        with self._lock:
            last = self._last_raised.get((lane, plate))
            if last is not None and (now - last).total_seconds() < self._cooldown_s:
                return False
            self._last_raised[(lane, plate)] = now
            return True


class RecoveryService:
    """Turns plate reads into recovery notices and records the attendant's outcomes."""

    def __init__(
        self,
        store: Store,
        client: ServerClient,
        *,
        deadline_s: float = 1.5,
        cooldown_s: float = 120.0,
        attendant: str = "",
        clock: Clock = utc_now,
        on_outcome_queued: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._deadline_s = deadline_s
        self._clock = clock
        self._cooldown = NoticeCooldown(cooldown_s, clock)
        self._on_outcome_queued = on_outcome_queued or (lambda: None)
        self.attendant = attendant
        self._server_calls = ThreadPoolExecutor(max_workers=4, thread_name_prefix="history")

    def close(self) -> None:
        """Stop the history-query threads (calls in flight finish on their own)."""
        self._server_calls.shutdown(wait=False, cancel_futures=True)

    # -- the decision -------------------------------------------------------------

    def check(self, read: PlateRead) -> RecoveryNotice | None:
        """Decide whether ``read`` raises a notice; record the read and the notice.

        Returns within about the deadline even when the server hangs.
        """
        self._store.record_read(
            read_id=read.read_id,
            lane=read.lane,
            plate=read.plate,
            confidence=read.confidence,
            source=read.source,
            seen_at=read.seen_at,
            snapshot_path=read.snapshot_path,
            crop_path=read.crop_path,
        )
        payload = read.report_payload()
        server_answer = self._server_calls.submit(
            self._client.report_read, payload, timeout_s=self._deadline_s
        )
        hits = self._store.blacklist.lookup(read.plate)
        answer = self._await_answer(server_answer, payload)

        notice = self._decide(read, hits, answer)
        if notice is None:
            return None
        if self._settled_here(notice):
            log.info(
                "%s: %s already settled at this booth, no notice", read.lane, notice.listed_plate
            )
            return None
        if not self._cooldown.claim(read.lane, notice.listed_plate):
            log.debug("%s: %s within the notice cooldown", read.lane, notice.listed_plate)
            return None
        self._store.record_notice(
            notice_id=notice.notice_id,
            read_id=read.read_id,
            lane=read.lane,
            read_plate=read.plate,
            listed_plate=notice.listed_plate,
            tier=notice.tier,
            unpaid_cents=notice.unpaid_cents,
            currency=notice.currency,
            sessions=notice.sessions,
            source=notice.source,
            cache_age_s=notice.cache_age_s,
            entry_seq=notice.entry_seq,
            created_at=notice.created_at,
        )
        log.info(
            "%s: notice for %s (%s, %s), owes %d %s",
            read.lane,
            notice.listed_plate,
            notice.tier.label,
            notice.source,
            notice.unpaid_cents,
            notice.currency,
        )
        return notice

    def _await_answer(self, future: Future[ReadAnswer], payload: dict) -> ReadAnswer | None:
        """The server's answer if it came in time; otherwise queue the report for later."""
        try:
            return future.result(timeout=self._deadline_s)
        except FutureTimeout:
            log.warning(
                "server did not answer within %.1f s; deciding from the cache", self._deadline_s
            )
        except ServerError as error:
            log.warning("server unavailable (%s); deciding from the cache", error)
        # The server must still learn of the sighting (it blacklists owing vehicles on
        # their reads); the report is idempotent by read_id, so a late duplicate is harmless.
        self._store.queue_read_report(payload)
        return None

    def _decide(
        self, read: PlateRead, hits: list[CacheHit], answer: ReadAnswer | None
    ) -> RecoveryNotice | None:
        if answer is not None:
            if answer.owes and answer.entry is not None:
                cached = next((hit for hit in hits if hit.entry.plate == answer.entry.plate), None)
                return self._notice(
                    read, answer.entry, MatchTier.EXACT, "server", cached.seq if cached else 0
                )
            # The server vouches for the exact plate it was sent. A look-alike plate
            # listed in the cache may still be the vehicle, misread: raise that one.
            hits = [hit for hit in hits if hit.match.tier is not MatchTier.EXACT]
        active = [hit for hit in hits if hit.entry.status is EntryStatus.ACTIVE]
        if not active:
            return None
        best = active[0]
        return self._notice(read, best.entry, best.match.tier, "cache", best.seq)

    def _notice(
        self,
        read: PlateRead,
        entry: BlacklistEntry,
        tier: MatchTier,
        source: str,
        entry_seq: int,
    ) -> RecoveryNotice:
        return RecoveryNotice(
            read=read,
            listed_plate=entry.plate,
            tier=tier,
            unpaid_cents=entry.unpaid_cents,
            currency=entry.currency,
            sessions=tuple(entry.sessions),
            source=source,  # type: ignore[arg-type]
            cache_age_s=self._cache_age_s() if source == "cache" else None,
            entry_seq=entry_seq,
            created_at=self._clock(),
        )

    def _cache_age_s(self) -> float | None:
        last_sync = self._store.blacklist.last_synced_at()
        if last_sync is None:
            return None
        return max(0.0, (self._clock() - last_sync).total_seconds())

    def _settled_here(self, notice: RecoveryNotice) -> bool:
        """True when an outcome recorded here already covers every session of the debt.

        Until the server has such an outcome, nothing it says reflects it; after that its
        word is current. A cached entry stays stale until the next sync removes it, so
        for the cache every outcome recorded here counts. A new session (a new debt) is
        never covered, so it raises a notice again.
        """
        if not notice.sessions:
            return False
        settled = self._store.settled_session_ids(
            notice.listed_plate, undelivered_only=notice.source == "server"
        )
        return set(notice.session_ids) <= settled

    # -- outcomes -----------------------------------------------------------------

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
        """Record what happened after ``notice`` and queue it for the server, atomically.

        A second outcome for the same notice is refused by the store: the first one is
        returned, so a double click can never record two payments. A waiver needs the
        supervisor who approved it (``approved_by``). ``cancel_waiver_request`` withdraws
        a waiver request of the notice still open at the server (queued in the same
        transaction, ahead of the outcome), so a later approval cannot count twice.
        """
        if kind is OutcomeKind.WAIVED and not approved_by:
            raise ValueError("a waiver needs the supervisor who approved it")
        recorded = self._store.record_outcome(
            outcome_id=uuid.uuid4(),
            notice_id=notice.notice_id,
            plate=notice.listed_plate,
            lane=notice.read.lane,
            kind=kind,
            method=method,
            amount_cents=notice.unpaid_cents if kind is OutcomeKind.PAID else 0,
            session_ids=notice.session_ids,
            attendant=self.attendant,
            recorded_at=self._clock(),
            reason=reason,
            reference=reference,
            approved_by=approved_by,
            waiver_request_id=waiver_request_id,
            cancel_waiver_request=cancel_waiver_request,
        )
        self._on_outcome_queued()
        return recorded

    def queue_waiver_cancel(self, request_id: uuid.UUID, reason: str) -> None:
        """Withdraw a waiver request through the outbox (the server may be down)."""
        self._store.records.queue_waiver_cancel(request_id, reason)
        self._on_outcome_queued()
