"""The booth's HTTP client for the operator server (``/api/v1``, see docs/design/contracts.md).

:class:`ServerClient` sends the booth's bearer token, validates every answer into the
pydantic models of :mod:`desktop.domain` and turns every failure into one of four
exceptions that share the base :class:`ServerError`:

* :class:`ServerUnavailable`: environmental (refused, DNS, timeout, TLS, 5xx, 408/429,
  proxy pages); the booth shows a status and tries again later. Idempotent calls retry these
  with exponential backoff before raising, except when the server says it is busy (429 or
  503 with ``Retry-After`` or ``code: overloaded``): then ``busy`` is true,
  ``retry_after_s`` holds the wait it asked for, and the call is not retried.
* :class:`ServerRejected`: a 4xx the booth must not retry (bad token, invalid request).
* :class:`ResyncRequired`: 410 ``resync_required`` from the change feed.
* :class:`MalformedResponse`: the answer is not JSON, has the wrong shape or types, or
  is larger than ``max_body_bytes``. Bodies are streamed and reading stops at the limit.

Thread safety: ``requests.Session`` is not guaranteed to be thread-safe, and the sync
worker and the recovery worker call the client concurrently. The client therefore keeps
**one Session per thread** (``threading.local``), so a recovery lookup under a deadline
never waits behind a slow snapshot download. A Session passed in by the caller cannot
be copied per thread, so it is shared behind a lock instead. :meth:`ServerClient.close`
closes every Session the client created (not a caller's).

Logging never contains the token or the Authorization header; user:password in the base
URL is stripped before use and redacted in log lines; text the server sends back is
scrubbed of the token and truncated before it reaches a log line or an exception.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import enum
import http.client
import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import requests
import urllib3
from pydantic import BaseModel, ValidationError
from requests.auth import AuthBase

from desktop.domain import (
    SNAPSHOT_MAX_LIMIT,
    ChangesPage,
    EvidenceReceipt,
    OutcomeAnswer,
    PaymentIntent,
    Ping,
    ReadAnswer,
    SnapshotPage,
    VehicleHistory,
)
from desktop.plates import normalize
from desktop.redaction import redact_url
from desktop.supervisor_models import WaiverRequest

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_TOTAL_TIMEOUT_S = 60.0
USER_AGENT = "recoup-booth/0.1"

_CHUNK_BYTES = 64 * 1024
_ERROR_BODY_LIMIT = 64 * 1024
_REASON_LIMIT = 200
_MAX_BACKOFF_S = 8.0
_MIN_SOCKET_TIMEOUT_S = 0.001
# 4xx that only say "not now" (request timeout, rate limit): unavailable, not rejected,
# so a worker retries later instead of treating the request as refused for good.
_TRY_LATER = frozenset({408, 429})
# Statuses whose Retry-After the booth honours (RFC 9110 section 10.2.3).
_RETRY_AFTER_STATUSES = frozenset({429, 503})
# A longer Retry-After is taken as this: a wrong header must not silence a booth for days.
_MAX_RETRY_AFTER_S = 24 * 3600.0
OVERLOADED = "overloaded"
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

ModelT = TypeVar("ModelT", bound=BaseModel)


# --------------------------------------------------------------------------- errors


class ServerError(Exception):
    """Base of every error the client raises for a call that got no usable answer.

    ``endpoint`` names the call as ``"GET /api/v1/ping"`` (path templates such as
    ``{plate}`` are kept, so plates do not end up in messages).
    """

    def __init__(self, message: str, *, endpoint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint


def malformed_answer(endpoint: str, reason: str, *, quiet: bool = False) -> MalformedResponse:
    """The error for an answer that breaks the contract, logged with its reason."""
    if not quiet:
        log.warning("Rejected malformed answer from %s: %s", endpoint, reason)
    return MalformedResponse(
        f"malformed answer from {endpoint}: {reason}", endpoint=endpoint, reason=reason
    )


class ServerUnavailable(ServerError):  # noqa: N818 - names fixed by the contract
    """The server could not be reached or failed (network, timeout, TLS, 5xx, proxy page).

    ``status`` is the HTTP status when the server (or a proxy) answered, else None.
    ``retry_after_s`` is the server's ``Retry-After`` in seconds (429 and 503 only) and
    ``code`` its ``detail.code`` (e.g. ``overloaded``), when it sent them.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        retry_after_s: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.status = status
        self.retry_after_s = retry_after_s
        self.code = code

    @property
    def busy(self) -> bool:
        """The server is up and said how long to leave it alone: 429 or 503 with a
        ``Retry-After`` header or ``code: overloaded``. Nothing retries it sooner."""
        return self.status in _RETRY_AFTER_STATUSES and (
            self.retry_after_s is not None or self.code == OVERLOADED
        )


class ServerRejected(ServerError):  # noqa: N818 - names fixed by the contract
    """The server refused the request (4xx); retrying the same request will not help.

    ``code`` is ``detail.code`` from the error body when the server sent one.
    """

    def __init__(
        self, message: str, *, endpoint: str = "", status: int, code: str | None = None
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.status = status
        self.code = code

    @property
    def bad_token(self) -> bool:
        """True when the server refused the booth's token (401 or 403)."""
        return self.status in (401, 403)


class ResyncRequired(ServerError):  # noqa: N818 - names fixed by the contract
    """The change feed pruned the booth's cursor (410): download the full blacklist again."""

    def __init__(self, message: str, *, endpoint: str = "", latest_seq: int) -> None:
        super().__init__(message, endpoint=endpoint)
        self.latest_seq = latest_seq


class MalformedResponse(ServerError):  # noqa: N818 - names fixed by the contract
    """The answer was not valid: not JSON, wrong shape or types, or too large."""

    def __init__(self, message: str, *, endpoint: str = "", reason: str = "") -> None:
        super().__init__(message, endpoint=endpoint)
        self.reason = reason or message


# --------------------------------------------------------------------------- helpers


def _shorten(text: str, limit: int = _REASON_LIMIT) -> str:
    """One line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _json_default(value: object) -> object:
    """Serialize the few non-JSON types a payload may carry (times, UUIDs, enums)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def _is_json_content_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        return True
    return media.startswith("application/") and media.endswith("+json")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _summarize_validation(exc: ValidationError) -> str:
    """``field.path: message (got 'value')`` for the first error, plus a count of the rest."""
    errors = exc.errors(include_url=False)
    if not errors:
        return "invalid answer"
    first = errors[0]
    loc = ".".join(str(part) for part in first.get("loc", ())) or "<body>"
    got = _shorten(repr(first.get("input")), 40)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {first.get('msg', 'invalid')} (got {got}){more}"


def _root_cause(exc: BaseException) -> str:
    """The innermost useful text of a requests/urllib3 transport error."""
    inner: object = exc.args[0] if exc.args else exc
    inner = getattr(inner, "reason", inner)
    return str(inner) or type(exc).__name__


class _BearerAuth(AuthBase):
    """Adds the booth token; as an ``auth`` object it also wins over ``.netrc`` entries."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(<redacted>)"


@dataclass(frozen=True)
class _Call:
    """One request as the client describes it; ``label`` is what logs and errors show."""

    method: str
    path: str
    label: str
    params: Mapping[str, str | int] | None = None
    body: bytes | None = None
    retryable: bool = True
    timeout_s: float | None = None
    extra_ok: frozenset[int] = field(default_factory=frozenset)
    content_type: str = "application/json"
    # Parse and validate the body bytes in one pass (pydantic's own JSON parser): the
    # blacklist pages, where json.loads then model_validate cost a third more per page.
    raw_json: bool = False

    @property
    def endpoint(self) -> str:
        return f"{self.method} {API_PREFIX}{self.label}"


# --------------------------------------------------------------------------- client


class ServerClient:
    """Typed client for the operator server, used by the sync and recovery workers.

    ``base_url`` is the server root (``https://ops.example:8443``); ``/api/v1`` is
    appended unless already present. ``connect_timeout_s`` bounds connecting,
    ``read_timeout_s`` bounds every wait for data, and ``total_timeout_s`` bounds one
    whole attempt so a server trickling bytes cannot hold a worker thread. TLS is
    verified (against ``ca_bundle`` when given); ``verify_tls=False`` logs a warning.
    ``retries`` extra attempts with backoff ``backoff_s * 2**n`` (with jitter) apply to
    idempotent calls on :class:`ServerUnavailable` only.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        booth_id: str = "",
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 10.0,
        verify_tls: bool = True,
        ca_bundle: Path | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        retries: int = 2,
        backoff_s: float = 0.25,
        session: requests.Session | None = None,
        total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S,
    ) -> None:
        _check_settings(
            token,
            timeouts=(connect_timeout_s, read_timeout_s, total_timeout_s),
            max_body_bytes=max_body_bytes,
            retries=retries,
            backoff_s=backoff_s,
        )
        self._base_url, self._safe_url = _prepare_base_url(base_url)
        self._token = token
        self._auth = _BearerAuth(token)
        self._booth_id = booth_id
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._total_timeout_s = total_timeout_s
        self._max_body_bytes = max_body_bytes
        self._retries = retries
        self._backoff_s = backoff_s
        self._verify = _verify_setting(verify_tls, ca_bundle, self._safe_url)
        self._headers = {
            "Accept": "application/json",
            "User-Agent": f"{USER_AGENT} ({booth_id})" if booth_id else USER_AGENT,
        }
        self._shared_session = session
        self._shared_lock = threading.Lock()
        self._local = threading.local()
        self._own_sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._closed = threading.Event()
        self._mismatch_logged = False

    def __repr__(self) -> str:
        return f"ServerClient({self._safe_url!r}, booth_id={self._booth_id!r})"

    @property
    def base_url(self) -> str:
        """The API root requests go to, without credentials."""
        return self._safe_url

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close every Session this client created; later calls raise ``RuntimeError``."""
        self._closed.set()
        with self._sessions_lock:
            sessions, self._own_sessions = self._own_sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- endpoints

    def ping(self) -> Ping:
        """``GET /ping``: the server's clock, the booth id of the token and the latest seq."""
        answer = self._fetch(_Call("GET", "/ping", "/ping"), Ping)[1]
        if self._booth_id and answer.booth_id != self._booth_id and not self._mismatch_logged:
            self._mismatch_logged = True
            log.warning(
                "The server knows this token as booth %r, but this booth is configured as %r",
                _shorten(answer.booth_id, 40),
                self._booth_id,
            )
        return answer

    def history(self, plate: str) -> VehicleHistory:
        """``GET /vehicles/{plate}/history``: sessions and arrears of one vehicle.

        The plate is normalized (as the server would) and percent-encoded, so CJK
        characters and separators are safe in the path. Raises ``ValueError`` for a
        plate without letters or digits.
        """
        key = normalize(plate)
        if not key:
            raise ValueError("plate has no letters or digits")
        path = f"/vehicles/{quote(key, safe='')}/history"
        return self._fetch(_Call("GET", path, "/vehicles/{plate}/history"), VehicleHistory)[1]

    def blacklist_changes(self, since: int, limit: int = 500) -> ChangesPage:
        """``GET /blacklist/changes``: changes with ``seq > since``, in order.

        Raises :class:`ResyncRequired` when the server pruned changes after ``since``.
        The page is checked to be ordered and after the cursor.
        """
        if since < 0 or not 1 <= limit <= 1000:
            raise ValueError("since must be >= 0 and limit within 1..1000")
        call = _Call(
            "GET",
            "/blacklist/changes",
            "/blacklist/changes",
            params={"since": since, "limit": limit},
            raw_json=True,
        )
        page = self._fetch(call, ChangesPage)[1]
        problem = _changes_problem(page, since)
        if problem:
            raise self._malformed(call, problem)
        return page

    def blacklist_snapshot(self, after: str | None = None, limit: int = 500) -> SnapshotPage:
        """``GET /blacklist``: one page of the full blacklist, keyset-paged by plate."""
        return self._fetch(_snapshot_call(after, limit), SnapshotPage)[1]

    def blacklist_snapshot_pages(self, limit: int = 500) -> Iterator[SnapshotPage]:
        """Every page of the full blacklist in plate order, each validated as
        :meth:`blacklist_snapshot` validates it; close the iterator when done early.

        The next page downloads while the caller works on the current one: its request
        goes out as soon as the current page's bytes are in, asking for the
        ``next_after`` those bytes end with. Only the page as validated decides what
        comes next; a download ahead for anything else is dropped. A page that says
        ``has_more`` without advancing is :class:`MalformedResponse`.
        """
        ahead_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-ahead")
        ahead: tuple[str, Future[tuple[int, _PageBytes]]] | None = None
        after: str | None = None
        try:
            while True:
                call = _snapshot_call(after, limit)
                if ahead is not None and ahead[0] == after:
                    body = ahead[1].result()[1].body
                else:
                    body = self._fetch(call, _PageBytes)[1].body
                hint = _next_after_hint(body)
                ahead = None
                if hint is not None:
                    download = ahead_pool.submit(
                        self._fetch, _snapshot_call(hint, limit), _PageBytes
                    )
                    ahead = (hint, download)
                page = self._validate_json(call, SnapshotPage, body)
                yield page
                if not page.has_more:
                    return
                if page.next_after is None or page.next_after == after:
                    # Asking again from the same place would get the same page, forever.
                    raise self._malformed(
                        call, f"page after {after!r} says has_more but does not advance"
                    )
                after = page.next_after
        finally:
            if ahead is not None:
                ahead[1].cancel()
            # The helper thread's Session goes with it (one per resync would pile up).
            ahead_pool.submit(self._close_thread_session)
            ahead_pool.shutdown(wait=True)

    def report_read(
        self, payload: Mapping[str, Any], *, timeout_s: float | None = None
    ) -> ReadAnswer:
        """``POST /reads``: report a plate read and get the server's decision.

        Idempotent by ``read_id``, so it is retried like a GET, unless ``timeout_s`` (the
        caller's deadline) is given: then that is the whole budget of a single attempt
        and there is no retry.
        """
        read_id = _require_key(payload, "read_id")
        if timeout_s is not None and timeout_s <= 0:
            raise ServerUnavailable("deadline already passed", endpoint="POST /api/v1/reads")
        call = _Call(
            "POST",
            "/reads",
            "/reads",
            body=_encode(payload),
            retryable=timeout_s is None,
            timeout_s=timeout_s,
        )
        answer = self._fetch_echoing(call, ReadAnswer, "read_id", read_id)[1]
        return answer

    def post_outcome(self, payload: Mapping[str, Any]) -> tuple[int, OutcomeAnswer]:
        """``POST /outcomes``: record what happened; returns (HTTP status, receipt).

        200 means recorded, 409 means already paid (nothing collected); both carry an
        :class:`OutcomeAnswer`. Idempotent by ``outcome_id``, hence retried.
        """
        outcome_id = _require_key(payload, "outcome_id")
        call = _Call(
            "POST", "/outcomes", "/outcomes", body=_encode(payload), extra_ok=frozenset({409})
        )
        status, answer = self._fetch_echoing(call, OutcomeAnswer, "outcome_id", outcome_id)
        if (status == 409) != (answer.status == "already_paid"):
            raise self._malformed(call, f"HTTP {status} with status {answer.status!r}")
        return status, answer

    def upload_evidence(
        self,
        *,
        evidence_id: uuid.UUID,
        kind: str,
        plate: str,
        data: bytes,
        read_id: uuid.UUID | None = None,
        notice_id: uuid.UUID | None = None,
    ) -> tuple[int, EvidenceReceipt]:
        """``POST /evidence``: a JPEG snapshot or plate crop as the raw body.

        201 stored, 200 a replay; idempotent by ``evidence_id``, hence retried. Refusals
        are :class:`ServerRejected`: 413 ``payload_too_large``, 415 ``not_jpeg``, 422
        ``idempotency_key_reused`` / ``missing_subject``.
        """
        params: dict[str, str | int] = {
            "evidence_id": str(evidence_id),
            "kind": kind,
            "plate": plate,
        }
        if read_id is not None:
            params["read_id"] = str(read_id)
        if notice_id is not None:
            params["notice_id"] = str(notice_id)
        call = _Call(
            "POST", "/evidence", "/evidence", params=params, body=data, content_type="image/jpeg"
        )
        status, answer = self._fetch_echoing(call, EvidenceReceipt, "evidence_id", evidence_id)
        return status, answer

    def create_payment_intent(
        self,
        *,
        intent_id: uuid.UUID,
        notice_id: uuid.UUID,
        plate: str,
        session_ids: list[int],
        amount_cents: int,
    ) -> PaymentIntent:
        """``POST /payment-intents``: ask the server for a QR payment of these sessions.

        201 (new) and 200 (replay) both give the intent. Idempotent by ``intent_id``,
        hence retried. The answer must be for this intent, plate and amount. A refusal
        is :class:`ServerRejected` with ``code`` ``already_paid`` (409),
        ``amount_mismatch`` or ``unknown_sessions`` (422).
        """
        payload = {
            "intent_id": str(intent_id),
            "notice_id": str(notice_id),
            "plate": plate,
            "session_ids": list(session_ids),
            "amount_cents": amount_cents,
        }
        call = _Call("POST", "/payment-intents", "/payment-intents", body=_encode(payload))
        answer = self._fetch_echoing(call, PaymentIntent, "intent_id", intent_id)[1]
        if answer.plate != normalize(plate) or answer.amount_cents != amount_cents:
            raise self._malformed(call, "answer is for another plate or amount")
        return answer

    def payment_intent(self, intent_id: uuid.UUID) -> PaymentIntent:
        """``GET /payment-intents/{intent_id}``: the intent and its current status."""
        path = f"/payment-intents/{quote(str(intent_id), safe='')}"
        call = _Call("GET", path, "/payment-intents/{intent_id}")
        answer = self._fetch_echoing(call, PaymentIntent, "intent_id", intent_id)[1]
        return answer

    def create_waiver_request(
        self,
        *,
        request_id: uuid.UUID,
        notice_id: uuid.UUID,
        plate: str,
        session_ids: list[int],
        reason: str,
        lane: str,
        attendant: str | None,
    ) -> WaiverRequest:
        """``POST /waiver-requests``: ask a supervisor to waive these sessions.

        Idempotent by ``request_id`` (a replay answers the request as it stands), hence
        retried. Refusals are :class:`ServerRejected` (422 ``unknown_sessions``, ...).
        """
        payload = {
            "request_id": str(request_id),
            "notice_id": str(notice_id),
            "plate": plate,
            "session_ids": list(session_ids),
            "reason": reason,
            "lane": lane,
            "attendant": attendant or None,
        }
        call = _Call("POST", "/waiver-requests", "/waiver-requests", body=_encode(payload))
        answer = self._fetch_echoing(call, WaiverRequest, "request_id", request_id)[1]
        return answer

    def waiver_request(self, request_id: uuid.UUID) -> WaiverRequest:
        """``GET /waiver-requests/{request_id}``: the request and the supervisor's decision."""
        path = f"/waiver-requests/{quote(str(request_id), safe='')}"
        call = _Call("GET", path, "/waiver-requests/{request_id}")
        answer = self._fetch_echoing(call, WaiverRequest, "request_id", request_id)[1]
        return answer

    def cancel_waiver_request(self, request_id: uuid.UUID, reason: str) -> WaiverRequest:
        """``POST /waiver-requests/{request_id}/cancel``: withdraw a pending request.

        The answer is the request as it now stands: ``cancelled``, or ``approved`` /
        ``refused`` when a supervisor decided first. Idempotent, hence retried; an
        unknown request is :class:`ServerRejected` 404 ``unknown_waiver_request``.
        """
        path = f"/waiver-requests/{quote(str(request_id), safe='')}/cancel"
        call = _Call(
            "POST",
            path,
            "/waiver-requests/{request_id}/cancel",
            body=_encode({"reason": reason}),
        )
        answer = self._fetch_echoing(call, WaiverRequest, "request_id", request_id)[1]
        return answer

    # ----------------------------------------------------------------- machinery

    def _fetch(self, call: _Call, model: type[ModelT]) -> tuple[int, ModelT]:
        """Run ``call`` with retries (when retryable) and validate the answer into ``model``."""
        attempts = 1 + (self._retries if call.retryable else 0)
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(call, model)
            except ServerUnavailable as exc:
                # A busy server asked for quiet until Retry-After: the caller waits, not us.
                if attempt >= attempts or self._closed.is_set() or exc.busy:
                    raise
                delay = self._backoff(attempt)
                log.info(
                    "%s failed (%s); attempt %d/%d in %.2fs",
                    call.endpoint,
                    exc.message,
                    attempt + 1,
                    attempts,
                    delay,
                )
                if self._closed.wait(delay):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_echoing(
        self, call: _Call, model: type[ModelT], id_field: str, sent: object
    ) -> tuple[int, ModelT]:
        """:meth:`_fetch`, refusing as malformed an answer whose ``id_field`` is not the
        id ``sent`` (an answer meant for another request)."""
        status, answer = self._fetch(call, model)
        if not _same_id(sent, getattr(answer, id_field)):
            raise self._malformed(call, f"answer is for another {id_field}")
        return status, answer

    def _backoff(self, attempt: int) -> float:
        base = min(self._backoff_s * 2 ** (attempt - 1), _MAX_BACKOFF_S)
        return base * random.uniform(0.5, 1.0)  # jitter spreads booths' retries

    def _attempt(self, call: _Call, model: type[ModelT]) -> tuple[int, ModelT]:
        budget = call.timeout_s if call.timeout_s is not None else self._total_timeout_s
        deadline = time.monotonic() + budget
        read_timeout = budget if call.timeout_s is not None else self._read_timeout_s
        started = time.monotonic()
        with self._session() as session:
            try:
                response = session.request(
                    call.method,
                    self._base_url + call.path,
                    params=call.params,
                    data=call.body,
                    headers=self._request_headers(call),
                    auth=self._auth,
                    timeout=(min(self._connect_timeout_s, budget), min(read_timeout, budget)),
                    verify=self._verify,
                    stream=True,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise self._transport_error(call, exc) from None
            with response:
                try:
                    result = self._interpret(call, response, model, deadline)
                except (
                    requests.RequestException,
                    urllib3.exceptions.HTTPError,
                    http.client.HTTPException,
                ) as exc:
                    raise self._transport_error(call, exc) from None
        log.debug(
            "%s -> %d in %.0f ms", call.endpoint, result[0], (time.monotonic() - started) * 1000
        )
        return result

    @contextlib.contextmanager
    def _session(self) -> Iterator[requests.Session]:
        """This thread's own Session, or the caller's shared Session under the lock."""
        if self._closed.is_set():
            raise RuntimeError("ServerClient is closed")
        if self._shared_session is not None:
            with self._shared_lock:
                yield self._shared_session
            return
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            with self._sessions_lock:
                if self._closed.is_set():  # close() ran meanwhile: do not leak this one
                    session.close()
                    raise RuntimeError("ServerClient is closed")
                self._own_sessions.append(session)
            self._local.session = session
        yield session

    def _close_thread_session(self) -> None:
        """Close the Session this thread made (a helper thread about to end)."""
        session = getattr(self._local, "session", None)
        if session is None:
            return
        del self._local.session
        with self._sessions_lock:
            if session in self._own_sessions:
                self._own_sessions.remove(session)
        session.close()

    def _request_headers(self, call: _Call) -> dict[str, str]:
        if call.body is None:
            return self._headers
        return {**self._headers, "Content-Type": call.content_type}

    def _interpret(
        self, call: _Call, response: requests.Response, model: type[ModelT], deadline: float
    ) -> tuple[int, ModelT]:
        """Map one HTTP answer to a validated model or to the right exception."""
        status = response.status_code
        if call.raw_json and 200 <= status < 300:
            return status, self._validate_json(
                call, model, self._read_json_body(call, response, deadline)
            )
        if 200 <= status < 300 or status in call.extra_ok:
            data = self._read_json(call, response, deadline)
            if status >= 300 and isinstance(data, dict) and "detail" in data:
                raise self._rejected(call, status, data)
            return status, self._validate(call, model, data)
        if status in _RETRY_AFTER_STATUSES:
            raise self._try_later(call, response, deadline)
        if status >= 500 or status in _TRY_LATER:
            raise self._unavailable(call, f"server error HTTP {status}", status=status)
        if 400 <= status < 500:
            data = self._read_error_body(call, response, deadline)
            if status == 410:
                self._raise_if_resync(call, data)
            raise self._rejected(call, status, data)
        location = redact_url(response.headers.get("Location", ""))
        raise self._malformed(call, f"unexpected HTTP {status} (Location: {location or '-'})")

    # ----------------------------------------------------------------- bodies

    def _read_json(self, call: _Call, response: requests.Response, deadline: float) -> object:
        return self._parse_json(call, self._read_json_body(call, response, deadline))

    def _read_json_body(self, call: _Call, response: requests.Response, deadline: float) -> bytes:
        content_type = response.headers.get("Content-Type", "")
        if not _is_json_content_type(content_type):
            raise self._malformed(call, f"Content-Type {content_type or 'missing'!r} is not JSON")
        return self._read_body(call, response, self._max_body_bytes, deadline)

    def _parse_json(self, call: _Call, body: bytes) -> object:
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise self._malformed(call, f"body is not valid JSON: {exc}") from None

    def _read_error_body(self, call: _Call, response: requests.Response, deadline: float) -> object:
        """The JSON of a 4xx answer, or None when it is not (small, valid) JSON."""
        if not _is_json_content_type(response.headers.get("Content-Type", "")):
            return None
        try:
            body = self._read_body(call, response, _ERROR_BODY_LIMIT, deadline, quiet=True)
            return json.loads(body, parse_constant=_reject_constant)
        except (MalformedResponse, ValueError, RecursionError):
            return None

    def _read_body(
        self,
        call: _Call,
        response: requests.Response,
        limit: int,
        deadline: float,
        *,
        quiet: bool = False,
    ) -> bytes:
        """Stream the body, stopping as soon as it exceeds ``limit`` or the deadline passes."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._malformed(
                call, f"body of {declared} bytes exceeds {limit} bytes", quiet=quiet
            )
        body = bytearray()
        for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
            body += chunk
            if len(body) > limit:
                raise self._malformed(call, f"body exceeds {limit} bytes", quiet=quiet)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._unavailable(call, "answer not complete within the time allowed")
            _limit_socket_wait(response, min(remaining, self._read_timeout_s))
        return bytes(body)

    def _validate(self, call: _Call, model: type[ModelT], data: object) -> ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise self._malformed(call, _summarize_validation(exc)) from None

    def _validate_json(self, call: _Call, model: type[ModelT], body: bytes) -> ModelT:
        """``body`` parsed and validated into ``model`` in one pass, as strictly as
        :meth:`_parse_json` then :meth:`_validate`."""
        if model is _PageBytes:
            # Downloaded ahead: validated when its turn comes (blacklist_snapshot_pages).
            return model.model_construct(body=body)
        if b"NaN" in body or b"Infinity" in body:
            # pydantic's parser accepts these constants where the model ignores the field;
            # json.loads refuses them anywhere (and a lot name may spell them harmlessly).
            return self._validate(call, model, self._parse_json(call, body))
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            if errors and errors[0]["type"] == "json_invalid":
                reason = errors[0].get("msg", "invalid JSON")
                raise self._malformed(call, f"body is not valid JSON: {reason}") from None
            raise self._malformed(call, _summarize_validation(exc)) from None

    # ----------------------------------------------------------------- errors

    def _scrub(self, text: str) -> str:
        """Short, single-line text with the token removed (a server may echo it)."""
        return _shorten(text.replace(self._token, "<token>"))

    def _malformed(self, call: _Call, reason: str, *, quiet: bool = False) -> MalformedResponse:
        return malformed_answer(call.endpoint, self._scrub(reason), quiet=quiet)

    def _unavailable(
        self,
        call: _Call,
        reason: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        code: str | None = None,
    ) -> ServerUnavailable:
        reason = self._scrub(reason)
        return ServerUnavailable(
            f"server unavailable for {call.endpoint}: {reason}",
            endpoint=call.endpoint,
            status=status,
            retry_after_s=retry_after_s,
            code=None if code is None else self._scrub(code),
        )

    def _try_later(
        self, call: _Call, response: requests.Response, deadline: float
    ) -> ServerUnavailable:
        """429 or 503: unavailable, with the server's Retry-After and error code if any."""
        status = response.status_code
        retry_after_s = parse_retry_after(response.headers.get("Retry-After", ""))
        code, _detail = _error_detail(self._read_error_body(call, response, deadline))
        reason = f"server error HTTP {status}" + (f" {code}" if code else "")
        if retry_after_s is not None:
            reason += f", retry after {retry_after_s:g} s"
        return self._unavailable(
            call, reason, status=status, retry_after_s=retry_after_s, code=code
        )

    def _transport_error(self, call: _Call, exc: BaseException) -> ServerError:
        """Classify a requests/urllib3 exception (connect, TLS, timeout, broken body)."""
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return self._malformed(call, f"body cannot be decoded: {_root_cause(exc)}")
        if isinstance(exc, requests.exceptions.SSLError):
            reason = f"TLS failure: {_root_cause(exc)}"
        elif isinstance(exc, requests.exceptions.ConnectTimeout):
            reason = f"no connection within {self._connect_timeout_s:g}s"
        elif isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc):
            reason = "no answer within the read timeout"
        elif "Connection refused" in str(exc):
            reason = "connection refused (is the server running?)"
        elif "Name or service not known" in str(exc) or "getaddrinfo failed" in str(exc):
            reason = "server name not found"
        else:
            reason = f"{type(exc).__name__}: {_root_cause(exc)}"
        return self._unavailable(call, reason)

    def _rejected(self, call: _Call, status: int, data: object) -> ServerRejected:
        code, detail = _error_detail(data)
        if status in (401, 403):
            what = "unknown or missing" if status == 401 else "not allowed here"
            text = f"the server rejected the booth token ({what}); check the booth's token"
        else:
            text = detail or f"HTTP {status}"
        text = self._scrub(text if not code else f"{code}: {text}")
        log.warning("Server rejected %s: HTTP %d %s", call.endpoint, status, text)
        return ServerRejected(
            f"{call.endpoint} rejected (HTTP {status}): {text}",
            endpoint=call.endpoint,
            status=status,
            code=code,
        )

    def _raise_if_resync(self, call: _Call, data: object) -> None:
        detail = data.get("detail") if isinstance(data, dict) else None
        if not isinstance(detail, dict) or detail.get("code") != "resync_required":
            return
        latest = detail.get("latest_seq")
        if isinstance(latest, bool) or not isinstance(latest, int) or latest < 0:
            raise self._malformed(call, f"resync_required without a valid latest_seq: {latest!r}")
        log.info("%s: server requires a full resync (latest_seq=%d)", call.endpoint, latest)
        raise ResyncRequired(
            f"full resync required (latest_seq={latest})", endpoint=call.endpoint, latest_seq=latest
        )


# --------------------------------------------------------------------------- module helpers


def _check_settings(
    token: str, *, timeouts: tuple[float, ...], max_body_bytes: int, retries: int, backoff_s: float
) -> None:
    """Reject settings that would make the client unsafe or useless."""
    if not token or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise ValueError("token must be a non-empty string without spaces or control characters")
    if min(timeouts) <= 0:
        raise ValueError("timeouts must be positive")
    if max_body_bytes < 1 or retries < 0 or backoff_s < 0:
        raise ValueError("max_body_bytes must be >= 1, retries and backoff_s >= 0")


def _prepare_base_url(base_url: str) -> tuple[str, str]:
    """Return (URL to use, URL safe to log): credentials stripped, ``/api/v1`` appended."""
    parts = urlsplit(base_url.strip())
    safe = redact_url(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"server URL must look like https://host[:port], got {safe!r}")
    host = parts.netloc.rpartition("@")[2]
    if "@" in parts.netloc:
        log.warning("Ignoring credentials in the server URL %s; the booth uses its token", safe)
    path = parts.path.rstrip("/")
    if not path.endswith(API_PREFIX):
        path += API_PREFIX
    url = urlunsplit((parts.scheme, host, path, "", ""))
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        log.warning("Server URL %s is plain HTTP: the booth token travels unencrypted", url)
    return url, url


def _verify_setting(verify_tls: bool, ca_bundle: Path | None, safe_url: str) -> bool | str:
    """The ``verify=`` argument for requests; warns once when verification is off."""
    if not verify_tls:
        log.warning("TLS certificate verification is DISABLED for %s", safe_url)
        return False
    if ca_bundle is None:
        return True
    if not Path(ca_bundle).is_file():
        raise FileNotFoundError(f"CA bundle not found: {ca_bundle}")
    return str(ca_bundle)


def _limit_socket_wait(response: requests.Response, seconds: float) -> None:
    """Shrink the socket's timeout so the next read cannot outlast the attempt's deadline.

    Best effort: urllib3 keeps the connection on the raw response while the body streams.
    """
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, _MIN_SOCKET_TIMEOUT_S))


def parse_retry_after(value: str, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date).

    None when the header is missing or unreadable; never negative, at most a day.
    """
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # an HTTP date is always GMT
            when = when.replace(tzinfo=dt.UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(
        dict(payload), default=_json_default, allow_nan=False, ensure_ascii=False
    ).encode("utf-8")


def _require_key(payload: Mapping[str, Any], key: str) -> object:
    """The idempotency key of a POST; retrying is only safe when it is there."""
    value = payload.get(key)
    if value in (None, ""):
        raise ValueError(f"payload needs {key!r}: it makes the request safe to repeat")
    return value


def _same_id(sent: object, received: uuid.UUID) -> bool:
    try:
        return uuid.UUID(str(sent)) == received
    except ValueError:
        return False


class _PageBytes(BaseModel):
    """A blacklist page's body, downloaded ahead and not yet validated."""

    body: bytes


# A page's own fields follow its entries: its last bytes name the next page, if any.
_PAGE_TAIL_BYTES = 1024
_NEXT_AFTER_FIELD = re.compile(rb'"next_after"\s*:\s*("(?:[^"\\]|\\.)*")')
_HAS_MORE_FIELD = re.compile(rb'"has_more"\s*:\s*(true|false)')


def _snapshot_call(after: str | None, limit: int) -> _Call:
    if not 1 <= limit <= SNAPSHOT_MAX_LIMIT:
        raise ValueError(f"limit must be within 1..{SNAPSHOT_MAX_LIMIT}")
    params: dict[str, str | int] = {"limit": limit}
    if after is not None:
        params["after"] = after
    return _Call("GET", "/blacklist", "/blacklist", params=params, raw_json=True)


def _next_after_hint(body: bytes) -> str | None:
    """The plate the page after this one starts after, as the page's last bytes say (a
    guess to download ahead with, never trusted), or None."""
    tail = body[-_PAGE_TAIL_BYTES:]
    more = _HAS_MORE_FIELD.findall(tail)
    after = _NEXT_AFTER_FIELD.findall(tail)
    if not more or more[-1] != b"true" or not after:
        return None
    try:
        value = json.loads(after[-1])
    except ValueError:
        return None
    return value if isinstance(value, str) and value else None


def _changes_problem(page: ChangesPage, since: int) -> str | None:
    """Why a change page breaks the feed's ordering promise, or None when it keeps it."""
    previous = since
    for change in page.changes:
        if change.seq <= previous:
            return f"change seq {change.seq} is not after {previous}"
        previous = change.seq
    if page.next_since < previous:
        return f"next_since {page.next_since} is before the last change {previous}"
    return None


def _error_detail(data: object) -> tuple[str | None, str]:
    """(``detail.code``, a human message) from a FastAPI-style error body."""
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, str):
        return None, detail
    if isinstance(detail, dict):
        code = detail.get("code")
        message = detail.get("message")
        return (
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else "",
        )
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = ".".join(str(part) for part in first.get("loc", []) or [])
        return None, f"{loc}: {first.get('msg', '')}".strip(": ")
    return None, ""
