"""The sync worker: keeps the blacklist cache current and delivers the outbox.

One background thread. Each round pushes the outbox rows that are due, oldest first, then
pulls blacklist changes since the stored cursor (or resyncs in full when the server says
the cursor is too old). Nothing in the outbox is dropped unless the server refuses it
for good (a 4xx), and then it is kept as dead for inspection.

What a failed request means decides what happens next:

* **unreachable** (refused, DNS, timeout, TLS, or a gateway's 502/503/504): the round
  ends, the status says offline since when, the next round retries. The row is left as
  it was: the server never judged it.
* **the server failed this row** (500 and other 5xx, a malformed answer): the row backs
  off alone (its own attempts and next attempt time, exponential up to a cap) and the
  round goes on with the next rows and the pull. A row that failed at least once while
  the server answered is *stuck*; the status counts them and says why.
* **busy** (429, or 503 with ``Retry-After`` or ``code: overloaded``): the round ends
  and no request goes out until ``Retry-After`` has passed (capped at 5 minutes; 30 s
  when the server gave none); no row is blamed and the booth is not offline.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
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
from desktop.gc_tuning import fewer_collections
from desktop.store import OutboxItem, Store
from desktop.store.evidence_files import OUTBOX_EVIDENCE, EvidenceFileError
from desktop.store.outbox import StuckRows
from desktop.store.records import OUTBOX_WAIVER_CANCEL

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

RETRY_BACKOFF_MIN_S = 2.0
RETRY_BACKOFF_MAX_S = 300.0
OUTBOX_BATCH = 50
# A server failing this many rows in a row at their first try is likely failing them
# all: stop pushing for this round instead of sending it the whole backlog. Rows that
# failed before do not count, so stuck rows at the head never hold back the rest.
FRESH_FAILURES_PER_ROUND = 5
# Retry-After is honoured up to this long (a wrong header must not silence the booth);
# a busy answer without one waits this long.
BUSY_WAIT_MAX_S = 300.0
BUSY_WAIT_DEFAULT_S = 30.0
# A timeout (408), or a gateway's word that the server is not there (502, 503 without
# Retry-After, 504): about the server as a whole, not this request.
GATEWAY_STATUSES = frozenset({408, 502, 503, 504})
CHANGES_ENDPOINT = "GET /api/v1/blacklist/changes"
SNAPSHOT_ENDPOINT = "GET /api/v1/blacklist"
# Entries per snapshot page in a full resync (a page is a few MB); a server older than
# issue 26 refuses more than LEGACY_SNAPSHOT_PAGE_SIZE with 422 and gets those instead.
SNAPSHOT_PAGE_SIZE = 5000
LEGACY_SNAPSHOT_PAGE_SIZE = 1000
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
    # Pending rows the server failed at least once while it answered (0 when offline).
    outbox_stuck: int = 0
    stuck_reason: str = ""  # why the oldest stuck row failed: "server error 500"
    stuck_status: int | None = None  # the HTTP status behind stuck_reason, if any
    stuck_error: str = ""  # the oldest stuck row's full last error
    busy_until: datetime | None = None  # no request before then (the server's Retry-After)


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
        self._busy_until: datetime | None = None
        self._busy_error = ""

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
            self._wake.wait(max(self._interval_s, self._busy_left_s()))
            self._wake.clear()

    # -- one round ------------------------------------------------------------------

    def sync_once(self) -> SyncStatus:
        """Push the outbox and pull changes once; returns the status after the round.

        While the server's Retry-After runs, the round sends nothing and only publishes
        the status again (an outcome queued meanwhile shows as waiting).
        """
        with self._round_lock:
            if self._busy_left_s() > 0:
                self._publish()
                return self._status
            self._busy_until = None
            error, synced = "", False
            try:
                if self._status.online is False:
                    # Rows backed off while the server was away; try them at once.
                    self._store.outbox.retry_all_now()
                # Push first, so the changes an outcome causes come back in this round.
                self._push()
                self._pull()
                synced = True
            except ServerUnavailable as exc:
                if server_busy(exc):
                    self._back_off_busy(exc)
                else:
                    error = str(exc)
            except MalformedResponse as exc:
                error = str(exc)
            except ServerRejected as exc:
                error = f"server refused the booth: {exc}"
            self._publish(error=error, synced=synced)
            return self._status

    def _busy_left_s(self) -> float:
        """Seconds until the server's Retry-After has passed (0 when not busy)."""
        if self._busy_until is None:
            return 0.0
        return max(0.0, (self._busy_until - self._clock()).total_seconds())

    def _back_off_busy(self, exc: ServerUnavailable) -> None:
        """The server is busy: no request to it until its Retry-After has passed."""
        wait_s = BUSY_WAIT_DEFAULT_S if exc.retry_after_s is None else exc.retry_after_s
        wait_s = min(BUSY_WAIT_MAX_S, wait_s)
        self._busy_until = self._clock() + timedelta(seconds=wait_s)
        self._busy_error = str(exc)
        log.warning("server busy: no request for %.0f s (%s)", wait_s, exc)

    def _publish(self, *, error: str = "", synced: bool = False) -> None:
        now = self._clock()
        previous = self._status
        online = not error
        busy = self._busy_left_s() > 0
        counts = self._store.outbox.counts()
        # Offline, a row that failed earlier cannot be told apart from one that waits.
        stuck = self._store.outbox.stuck() if online else StuckRows()
        reason, http_status = describe_failure(stuck.oldest_error) if stuck.count else ("", None)
        status = replace(
            previous,
            online=online,
            offline_since=None if online else (previous.offline_since or now),
            last_sync_at=now if synced else previous.last_sync_at,
            cache_entries=self._store.blacklist.count(),
            cursor=self._store.blacklist.cursor(),
            outbox_pending=counts.get("pending", 0),
            outbox_dead=counts.get("dead", 0),
            last_error=error or (self._busy_error if busy else ""),
            outbox_stuck=stuck.count,
            stuck_reason=reason,
            stuck_status=http_status,
            stuck_error=stuck.oldest_error,
            busy_until=self._busy_until if busy else None,
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
        pages = self._client.blacklist_snapshot_pages(SNAPSHOT_PAGE_SIZE)
        try:
            first = next(pages)
        except ServerRejected as exc:
            if exc.status != 422:
                raise
            log.info(
                "server refuses snapshot pages of %d entries; asking for %d",
                SNAPSHOT_PAGE_SIZE,
                LEGACY_SNAPSHOT_PAGE_SIZE,
            )
            pages = self._client.blacklist_snapshot_pages(LEGACY_SNAPSHOT_PAGE_SIZE)
            first = next(pages)

        def entries() -> Iterator[BlacklistEntry]:
            yield from first.entries
            for page in pages:
                yield from page.entries

        # The next page downloads while this thread turns the current one into rows (the
        # store writes them on its own thread); the new cache is swapped in only after
        # the last page, so a failure on any page leaves the old one and its cursor.
        with closing(pages), fewer_collections():
            count = self._store.blacklist.replace_all(entries(), first.as_of_seq)
        log.info("full resync done: %d entries as of seq %d", count, first.as_of_seq)

    # -- push -----------------------------------------------------------------------

    def _push(self) -> None:
        """Deliver every due row, oldest first; a row the server fails backs off alone.

        Ends early (raising) when the server is unreachable, busy or refuses the booth.
        """
        outbox = self._store.outbox
        fresh_failures = 0
        while not self._stopping.is_set():
            due = outbox.due(self._clock(), OUTBOX_BATCH)
            if not due:
                return
            for item in due:
                if self._deliver(item):
                    fresh_failures = 0
                elif item.attempts == 0:
                    fresh_failures += 1
                    if fresh_failures >= FRESH_FAILURES_PER_ROUND:
                        log.warning(
                            "%d rows in a row failed at their first try; the rest wait "
                            "for the next round",
                            fresh_failures,
                        )
                        return

    def _deliver(self, item: OutboxItem) -> bool:
        """Send one row: True when settled (delivered, or refused for good and kept as
        dead), False when the server failed it (it backs off alone).

        Raises what ends the round, leaving the row as it was: an unreachable or busy
        server (:class:`ServerUnavailable`), or one that refuses the booth itself.
        """
        outbox = self._store.outbox
        try:
            response = self._send(item)
        except ServerRejected as exc:
            if exc.status not in REFUSED_FOR_GOOD:
                # The server refuses the booth (token) or the path (proxy, wrong URL), not
                # this request: keep it for when that is fixed, and end the round.
                self._back_off(item, exc)
                if item.kind == OUTBOX_EVIDENCE and not exc.bad_token:
                    # A server without the evidence endpoint (404) must not hold back the
                    # outcomes queued behind the pictures: retry it later, carry on.
                    log.warning("evidence %s not accepted now: %s", item.key, exc)
                    return False
                raise
            log.error("server refused %s %s for good: %s", item.kind, item.key, exc)
            outbox.mark_dead(item.id, str(exc))
            self._forget_evidence_file(item)
            return True
        except ServerUnavailable as exc:
            if server_busy(exc) or not failed_by_server(exc):
                raise
            self._back_off(item, exc)
            return False
        except MalformedResponse as exc:
            self._back_off(item, exc)
            return False
        if response is not None:  # None: an evidence file gone, the row is already dead
            outbox.mark_delivered(item.id, response)
            self._forget_evidence_file(item)
        return True

    def _send(self, item: OutboxItem) -> dict[str, object] | None:
        """One request for ``item``; the answer to keep with the delivered row."""
        if item.kind == OUTBOX_EVIDENCE:
            return self._upload_evidence(item)
        if item.kind == "outcome":
            status, answer = self._client.post_outcome(item.payload)
            if answer.status == "already_paid":
                log.warning("outcome %s: %s", item.key, answer.message or "sessions already paid")
            return {"http_status": status, **answer.model_dump(mode="json")}
        if item.kind == OUTBOX_WAIVER_CANCEL:
            return self._cancel_waiver(item)
        return self._client.report_read(item.payload).model_dump(mode="json")

    def _back_off(self, item: OutboxItem, exc: Exception) -> None:
        """The server answered this row with a failure: it waits alone, longer each time."""
        delay_s = backoff_s(item.attempts)
        retry_at = self._clock() + timedelta(seconds=delay_s)
        self._store.outbox.mark_failed(item.id, str(exc), retry_at)
        log.warning(
            "%s %s failed (attempt %d), retried in %.0f s: %s",
            item.kind,
            item.key,
            item.attempts + 1,
            delay_s,
            exc,
        )

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


def server_busy(exc: ServerUnavailable) -> bool:
    """The server is up but asks for time: a Retry-After or ``overloaded``, or any 429."""
    return exc.busy or exc.status == 429


def failed_by_server(exc: ServerUnavailable) -> bool:
    """The server itself answered this request with an error (500, 501, 507, ...), as
    opposed to no answer, or a gateway's word that the server is not there."""
    return exc.status is not None and exc.status >= 500 and exc.status not in GATEWAY_STATUSES


_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
MALFORMED_REASON = "malformed answer"


def describe_failure(error: str) -> tuple[str, int | None]:
    """A short reason for a row's stored error, and its HTTP status when it has one:
    ``("server error 500", 500)``, ``("HTTP 404", 404)``, ``("malformed answer", None)``."""
    if error.startswith(MALFORMED_REASON):
        return MALFORMED_REASON, None
    found = _HTTP_STATUS.search(error)
    if found is None:
        return (error[:60], None)
    status = int(found.group(1))
    return (f"server error {status}" if status >= 500 else f"HTTP {status}"), status
