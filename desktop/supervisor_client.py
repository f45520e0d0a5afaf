"""The booth's client for the supervisor API (``/api/v1/supervisor/...``); no Qt.

:class:`SupervisorClient` reuses :class:`desktop.client.ServerClient`'s machinery (per-thread
Sessions, streamed and size-capped bodies, timeouts, TLS settings, validation into strict
models) and its error mapping: :class:`ServerUnavailable` (unreachable, 5xx),
:class:`ServerRejected` (4xx, with the server's ``detail.code``) and
:class:`MalformedResponse`. The difference: it starts without a token; :meth:`login`
obtains one and :meth:`logout` revokes it. The token is never logged nor shown in
``repr``; server text echoing it is scrubbed.

Decisions (dismiss, resolve, decide, login) are not idempotent, so they are never retried.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import requests
from pydantic import BaseModel

from desktop.client import (
    DEFAULT_TOTAL_TIMEOUT_S,
    USER_AGENT,
    ServerClient,
    ServerRejected,
    _BearerAuth,
    _Call,
    _encode,
    _error_detail,
    _shorten,
)
from desktop.client import ModelT as _ModelT
from desktop.config import ServerConfig
from desktop.plates import normalize
from desktop.supervisor_models import (
    FLAG_STATUSES,
    WAIVER_STATUSES,
    AuditPage,
    DismissAnswer,
    FlagPage,
    NoContent,
    ResolveAnswer,
    SupervisorLogin,
    VehicleFile,
    WaiverRequest,
    WaiverRequestPage,
)

log = logging.getLogger(__name__)

# ServerClient refuses an empty token; this stand-in is replaced before any request is sent.
_NO_TOKEN = "no-supervisor-token"
JPEG_TYPE = "image/jpeg"
#: Largest evidence image the booth accepts from the server.
EVIDENCE_MAX_BYTES = 8 * 1024 * 1024


class NotLoggedIn(RuntimeError):  # noqa: N818 - reads as what happened
    """A supervisor call was made before :meth:`SupervisorClient.login` (or after logout)."""


class LoginRateLimited(ServerRejected):
    """429 on login: too many failed attempts from this booth's address; ``retry_after_s``
    says when the server lets it try again (None when it did not say)."""

    def __init__(self, message: str, *, endpoint: str, retry_after_s: int | None) -> None:
        super().__init__(message, endpoint=endpoint, status=429, code="too_many_attempts")
        self.retry_after_s = retry_after_s


class _JpegBody(BaseModel):
    """Internal: the bytes of an image answer (evidence)."""

    data: bytes


class SupervisorClient(ServerClient):
    """Typed client for the supervisor endpoints; log in first."""

    def __init__(
        self,
        base_url: str,
        *,
        verify_tls: bool = True,
        ca_bundle: Path | None = None,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 10.0,
        total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S,
        retries: int = 1,
        backoff_s: float = 0.25,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(
            base_url,
            _NO_TOKEN,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            total_timeout_s=total_timeout_s,
            verify_tls=verify_tls,
            ca_bundle=ca_bundle,
            retries=retries,
            backoff_s=backoff_s,
            session=session,
        )
        self._headers["User-Agent"] = f"{USER_AGENT} (supervisor)"
        self._token = ""
        self._auth = None
        self._login: SupervisorLogin | None = None
        self._login_lock = threading.Lock()

    def __repr__(self) -> str:
        who = self._login.username if self._login else "-"
        return f"SupervisorClient({self._safe_url!r}, supervisor={who!r})"

    # ----------------------------------------------------------------- session

    @property
    def username(self) -> str | None:
        """Who is logged in, or None."""
        login = self._login
        return login.username if login else None

    @property
    def logged_in(self) -> bool:
        return self._login is not None

    def login(self, username: str, password: str) -> SupervisorLogin:
        """``POST /supervisor/login``; a wrong password is ``ServerRejected`` (401)."""
        body = _encode({"username": username, "password": password})
        call = _Call("POST", "/supervisor/login", "/supervisor/login", body=body, retryable=False)
        answer = self._fetch(call, SupervisorLogin)[1]
        with self._login_lock:
            self._login = answer
            self._token = answer.token
            self._auth = _BearerAuth(answer.token)
        log.info("supervisor %s logged in (token until %s)", answer.username, answer.expires_at)
        return answer

    def logout(self) -> None:
        """``POST /supervisor/logout``: revoke the token; forgotten locally in any case."""
        if self._login is None:
            return
        call = _Call("POST", "/supervisor/logout", "/supervisor/logout", retryable=False)
        try:
            self._fetch(call, NoContent)
        finally:
            with self._login_lock:
                self._login = None
                self._auth = None
                # self._token stays so a late echo of it is still scrubbed from messages.

    # ----------------------------------------------------------------- reads

    def flags(
        self,
        status: str | None = None,
        plate: str | None = None,
        lot: str | None = None,
        min_cents: int | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
    ) -> FlagPage:
        """``GET /supervisor/flags``: default status is active and disputed (listed now)."""
        if status is not None and status not in FLAG_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FLAG_STATUSES)}")
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        for key, value in (("status", status), ("plate", plate), ("lot", lot)):
            if value:
                params[key] = value
        if min_cents is not None:
            params["min_cents"] = min_cents
        call = _Call("GET", "/supervisor/flags", "/supervisor/flags", params=params)
        return self._authorized(call, FlagPage)

    def vehicle_file(self, plate: str) -> VehicleFile:
        """``GET /supervisor/vehicles/{plate}``: sessions, sightings, outcomes, audit."""
        path = f"/supervisor/vehicles/{self._plate_path(plate)}"
        call = _Call("GET", path, "/supervisor/vehicles/{plate}")
        return self._authorized(call, VehicleFile)

    def waiver_requests(
        self, status: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> WaiverRequestPage:
        """``GET /supervisor/waiver-requests``, oldest first; ``status`` None means all."""
        if status is not None and status not in WAIVER_STATUSES:
            raise ValueError(f"status must be one of {', '.join(WAIVER_STATUSES)}")
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        path = "/supervisor/waiver-requests"
        return self._authorized(_Call("GET", path, path, params=params), WaiverRequestPage)

    def audit_log(
        self,
        plate: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
    ) -> AuditPage:
        """``GET /supervisor/audit``: supervisor actions newest first, optionally of one
        plate (normalized), one action, or since a time."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        key = normalize(plate or "")
        if key:
            params["plate"] = key
        if action:
            params["action"] = action
        if since is not None:
            params["since"] = since.isoformat()
        path = "/supervisor/audit"
        return self._authorized(_Call("GET", path, path, params=params), AuditPage)

    def evidence_image(self, evidence_id: uuid.UUID | str) -> bytes:
        """``GET /supervisor/evidence/{id}``: the JPEG bytes (the server audits the view)."""
        eid = uuid.UUID(str(evidence_id))
        call = _Call("GET", f"/supervisor/evidence/{eid}", "/supervisor/evidence/{id}")
        return self._authorized(call, _JpegBody).data

    # ----------------------------------------------------------------- decisions

    def dismiss(self, plate: str, reason: str) -> DismissAnswer:
        """``POST /supervisor/flags/{plate}/dismiss``: a false positive, removed for every booth."""
        path = f"/supervisor/flags/{self._plate_path(plate)}/dismiss"
        call = _Call(
            "POST",
            path,
            "/supervisor/flags/{plate}/dismiss",
            body=_encode({"reason": _reason(reason)}),
            retryable=False,
        )
        return self._authorized(call, DismissAnswer)

    def resolve_dispute(self, plate: str, decision: str, reason: str) -> ResolveAnswer:
        """``POST /supervisor/disputes/{plate}/resolve``: ``upheld`` waives, ``rejected`` owes."""
        if decision not in ("upheld", "rejected"):
            raise ValueError("decision must be 'upheld' or 'rejected'")
        path = f"/supervisor/disputes/{self._plate_path(plate)}/resolve"
        body = _encode({"decision": decision, "reason": _reason(reason)})
        call = _Call(
            "POST", path, "/supervisor/disputes/{plate}/resolve", body=body, retryable=False
        )
        return self._authorized(call, ResolveAnswer)

    def decide_waiver(
        self, request_id: uuid.UUID | str, approve: bool, reason: str
    ) -> WaiverRequest:
        """``POST /supervisor/waiver-requests/{id}/decide``: approve or refuse a booth's request."""
        rid = uuid.UUID(str(request_id))
        path = f"/supervisor/waiver-requests/{rid}/decide"
        body = _encode({"approve": bool(approve), "reason": _reason(reason)})
        call = _Call(
            "POST", path, "/supervisor/waiver-requests/{id}/decide", body=body, retryable=False
        )
        answer = self._authorized(call, WaiverRequest)
        if answer.request_id != rid:
            raise self._malformed(call, "answer is for another request_id")
        return answer

    # ----------------------------------------------------------------- machinery

    def _authorized(self, call: _Call, model: type[_ModelT]) -> _ModelT:
        if self._login is None:
            raise NotLoggedIn("log in as a supervisor first")
        return self._fetch(call, model)[1]

    @staticmethod
    def _plate_path(plate: str) -> str:
        key = normalize(plate)
        if not key:
            raise ValueError("plate has no letters or digits")
        return quote(key, safe="")

    def _interpret(
        self, call: _Call, response: requests.Response, model: type[_ModelT], deadline: float
    ) -> tuple[int, _ModelT]:
        if response.status_code == 204 and model is NoContent:
            return 204, self._validate(call, model, {})
        if response.status_code == 429 and call.label == "/supervisor/login":
            raise self._rate_limited(call, response)
        if response.status_code == 200 and model is _JpegBody:
            declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if declared != JPEG_TYPE:
                raise self._malformed(call, f"Content-Type {declared or 'missing'!r} is not JPEG")
            data = self._read_body(call, response, EVIDENCE_MAX_BYTES, deadline)
            return 200, self._validate(call, model, {"data": data})
        return super()._interpret(call, response, model, deadline)

    def _rate_limited(self, call: _Call, response: requests.Response) -> LoginRateLimited:
        value = response.headers.get("Retry-After", "").strip()
        retry_after = int(value) if value.isdigit() else None
        log.warning("supervisor login refused for now: too many failed attempts")
        return LoginRateLimited(
            "too many failed logins from this address; try again later",
            endpoint=call.endpoint,
            retry_after_s=retry_after,
        )

    def _scrub(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "<token>")
        return _shorten(text)

    def _rejected(self, call: _Call, status: int, data: object) -> ServerRejected:
        """Like the booth client's, but worded for a supervisor (no "booth token")."""
        code, detail = _error_detail(data)
        if status == 401 and code == "invalid_credentials":
            text = detail or "wrong username or password"
        elif status == 401:
            text = "the supervisor session has ended; log in again"
        elif status == 403:
            text = "this account may not do that"
        else:
            text = detail or f"HTTP {status}"
        text = self._scrub(text)
        log.warning("Server rejected %s: HTTP %d %s", call.endpoint, status, code or "")
        return ServerRejected(text, endpoint=call.endpoint, status=status, code=code)


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ValueError("a reason is required")
    return text


def client_from_config(server: ServerConfig) -> SupervisorClient:
    """A client for the booth's ``[server]`` settings (url, TLS, timeouts)."""
    return SupervisorClient(
        server.url,
        verify_tls=server.verify_tls,
        ca_bundle=server.ca_bundle,
        connect_timeout_s=server.connect_timeout_s,
        read_timeout_s=server.read_timeout_s,
    )
