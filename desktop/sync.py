"""The sync worker: keeps the blacklist cache current and delivers the outbox.

One background thread. Each round pulls blacklist changes since the stored cursor (or
resyncs in full when the server says the cursor is too old), then pushes outbox rows in
order. The server being down is normal: the round ends, the status says offline since
when, and the next round retries. Nothing in the outbox is dropped unless the server
refuses it for good (a 4xx), and then it is kept as dead for inspection.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from desktop.client import (
    MalformedResponse,
    ResyncRequired,
    ServerClient,
    ServerRejected,
    ServerUnavailable,
    malformed_answer,
)
from desktop.domain import BlacklistEntry, utc_now
from desktop.store import OutboxItem, Store
from desktop.store.evidence_files import OUTBOX_EVIDENCE, EvidenceFileError
from desktop.store.records import OUTBOX_WAIVER_CANCEL

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

RETRY_BACKOFF_MIN_S = 2.0
RETRY_BACKOFF_MAX_S = 300.0
OUTBOX_BATCH = 50
CHANGES_ENDPOINT = "GET /api/v1/blacklist/changes"
SNAPSHOT_ENDPOINT = "GET /api/v1/blacklist"
# Answers that judge the request itself: sending it again can never succeed.
REFUSED_FOR_GOOD = frozenset({400, 413, 415, 422})


@dataclass(frozen=True)
class SyncStatus:
    """What the booth knows about its link to the server, for the status bar."""

    online: bool | None = None  # None until the first round
    offline_since: datetime | None = None
    last_sync_at: datetime | None = None
    cache_entries: int = 0
    cursor: int = 0
    outbox_pending: int = 0
    outbox_dead: int = 0
    last_error: str = ""


class SyncWorker:
    """Pulls blacklist changes and pushes the outbox, on a timer or when woken."""

    def __init__(
        self,
        store: Store,
        client: ServerClient,
        *,
        interval_s: float = 15.0,
        page_size: int = 500,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._client = client
        self._interval_s = interval_s
        self._page_size = page_size
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._round_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._status = SyncStatus()

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (one round at once, then every interval)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sync", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to finish its round and wait for it."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def wake(self) -> None:
        """Run a round now instead of at the next interval (e.g. an outcome was queued)."""
        self._wake.set()

    def add_listener(self, listener: Callable[[SyncStatus], None]) -> None:
        """Call ``listener`` with the new status after every round (from the sync thread)."""
        self._listeners.append(listener)

    @property
    def status(self) -> SyncStatus:
        return self._status

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sync_once()
            except Exception:
                log.exception("sync round failed")
            self._wake.wait(self._interval_s)
            self._wake.clear()

    # -- one round ------------------------------------------------------------------

    def sync_once(self) -> SyncStatus:
        """Push the outbox and pull changes once; returns the status after the round."""
        with self._round_lock:
            error = ""
            try:
                if self._status.online is False:
                    # Deliveries back off while the server is away; try them at once.
                    self._store.outbox.retry_all_now()
                # Push first, so the changes an outcome causes come back in this round.
                self._push()
                self._pull()
            except ServerUnavailable as exc:
                error = str(exc)
            except MalformedResponse as exc:
                error = str(exc)
            except ServerRejected as exc:
                error = f"server refused the booth: {exc}"
            self._publish(error)
            return self._status

    def _publish(self, error: str) -> None:
        now = self._clock()
        previous = self._status
        online = not error
        counts = self._store.outbox.counts()
        status = replace(
            previous,
            online=online,
            offline_since=None if online else (previous.offline_since or now),
            last_sync_at=now if online else previous.last_sync_at,
            cache_entries=self._store.blacklist.count(),
            cursor=self._store.blacklist.cursor(),
            outbox_pending=counts.get("pending", 0),
            outbox_dead=counts.get("dead", 0),
            last_error=error,
        )
        if online and previous.online is False:
            log.info("server reachable again")
        elif not online and previous.online is not False:
            log.warning("%s; the booth decides from its cache", error)
        self._status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:
                log.exception("sync status listener failed")

    # -- pull -----------------------------------------------------------------------

    def _pull(self) -> None:
        cache = self._store.blacklist
        resynced = False
        while True:
            since = cache.cursor()
            try:
                page = self._client.blacklist_changes(since, self._page_size)
            except ResyncRequired as exc:
                if resynced:
                    raise malformed_answer(
                        CHANGES_ENDPOINT, "asks for a resync again right after one"
                    ) from exc
                log.warning(
                    "cursor %d too old for the server (latest %d): full resync",
                    since,
                    exc.latest_seq,
                )
                self._resync()
                resynced = True
                continue
            cache.apply_changes(list(page.changes), page.next_since)
            if not page.has_more:
                break
            if cache.cursor() <= since:
                # Asking again with the same cursor would get the same page, forever.
                raise malformed_answer(
                    CHANGES_ENDPOINT, f"page after {since} says has_more but does not advance"
                )
        cache.record_sync(self._clock())

    def _resync(self) -> None:
        first = self._client.blacklist_snapshot(None, self._page_size)

        def entries() -> Iterator[BlacklistEntry]:
            page = first
            yield from page.entries
            after: str | None = None
            while page.has_more:
                if page.next_after is None or page.next_after == after:
                    # Asking again from the same place would get the same page, forever.
                    raise malformed_answer(
                        SNAPSHOT_ENDPOINT,
                        f"page after {after!r} says has_more but does not advance",
                    )
                after = page.next_after
                page = self._client.blacklist_snapshot(after, self._page_size)
                yield from page.entries

        # One transaction: a failure on a later page leaves the old cache in place.
        self._store.blacklist.replace_all(entries(), first.as_of_seq)
        log.info(
            "full resync done: %d entries as of seq %d",
            self._store.blacklist.count(),
            first.as_of_seq,
        )

    # -- push -----------------------------------------------------------------------

    def _push(self) -> None:
        outbox = self._store.outbox
        while not self._stopping.is_set():
            due = outbox.due(self._clock(), OUTBOX_BATCH)
            if not due:
                return
            for item in due:
                self._deliver(item)

    def _deliver(self, item: OutboxItem) -> None:
        outbox = self._store.outbox
        try:
            if item.kind == OUTBOX_EVIDENCE:
                response = self._upload_evidence(item)
                if response is None:
                    return
            elif item.kind == "outcome":
                status, answer = self._client.post_outcome(item.payload)
                response = {"http_status": status, **answer.model_dump(mode="json")}
                if answer.status == "already_paid":
                    log.warning(
                        "outcome %s: %s", item.key, answer.message or "sessions already paid"
                    )
            elif item.kind == OUTBOX_WAIVER_CANCEL:
                response = self._cancel_waiver(item)
            else:
                answer = self._client.report_read(item.payload)
                response = answer.model_dump(mode="json")
        except ServerRejected as exc:
            if exc.status not in REFUSED_FOR_GOOD:
                # The server refuses the booth (token) or the path (proxy, wrong URL), not
                # this request: keep it for when that is fixed, and end the round.
                retry_at = self._clock() + timedelta(seconds=backoff_s(item.attempts))
                outbox.mark_failed(item.id, str(exc), retry_at)
                if item.kind == OUTBOX_EVIDENCE and not exc.bad_token:
                    # A server without the evidence endpoint (404) must not hold back the
                    # outcomes queued behind the pictures: retry it later, carry on.
                    log.warning("evidence %s not accepted now: %s", item.key, exc)
                    return
                raise
            log.error("server refused %s %s for good: %s", item.kind, item.key, exc)
            outbox.mark_dead(item.id, str(exc))
            self._forget_evidence_file(item)
            return
        except (ServerUnavailable, MalformedResponse) as exc:
            retry_at = self._clock() + timedelta(seconds=backoff_s(item.attempts))
            outbox.mark_failed(item.id, str(exc), retry_at)
            raise
        outbox.mark_delivered(item.id, response)
        self._forget_evidence_file(item)

    def _upload_evidence(self, item: OutboxItem) -> dict[str, object] | None:
        """Send one evidence image; None when its file is gone (the row is marked dead)."""
        payload = item.payload
        try:
            data = self._store.evidence.read(payload)
        except EvidenceFileError as exc:
            log.error("evidence %s cannot be sent: %s", item.key, exc)
            self._store.outbox.mark_dead(item.id, str(exc))
            self._forget_evidence_file(item)
            return None
        read_id, notice_id = payload.get("read_id"), payload.get("notice_id")
        status, answer = self._client.upload_evidence(
            evidence_id=uuid.UUID(str(payload["evidence_id"])),
            kind=str(payload["kind"]),
            plate=str(payload["plate"]),
            data=data,
            read_id=None if read_id is None else uuid.UUID(str(read_id)),
            notice_id=None if notice_id is None else uuid.UUID(str(notice_id)),
        )
        return {"http_status": status, **answer.model_dump(mode="json")}

    def _forget_evidence_file(self, item: OutboxItem) -> None:
        """An evidence row is settled (sent or refused for good): its file is not needed."""
        if item.kind == OUTBOX_EVIDENCE:
            self._store.evidence.remove_for(item.payload)

    def _cancel_waiver(self, item: OutboxItem) -> dict[str, object]:
        """Withdraw a waiver request; one the server never received needs nothing."""
        request_id = uuid.UUID(str(item.payload["request_id"]))
        try:
            answer = self._client.cancel_waiver_request(request_id, str(item.payload["reason"]))
        except ServerRejected as exc:
            if exc.status == 404 and exc.code == "unknown_waiver_request":
                return {"status": "unknown"}
            raise
        if answer.status == "approved":
            # Another outcome was recorded here first; that one stands (the server keeps
            # the supervisor's waiver and answers a payment "already paid").
            log.warning("waiver request %s was approved before its cancellation", request_id)
        return answer.model_dump(mode="json")


def backoff_s(attempts: int) -> float:
    """Delay before the next delivery attempt after ``attempts`` failed ones."""
    return min(RETRY_BACKOFF_MAX_S, RETRY_BACKOFF_MIN_S * (2 ** min(attempts, 16)))
