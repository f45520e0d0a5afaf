"""Validated answers of the supervisor API (docs/design/contracts.md, "Supervisor API").

The booth validates every supervisor answer into these frozen models; unknown fields are
ignored, wrong types are rejected (as :class:`desktop.client.MalformedResponse`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from desktop.domain import UnpaidSession

FlagStatus = Literal["active", "disputed", "waived", "cleared"]
WaiverStatus = Literal["pending", "approved", "refused", "cancelled"]
FLAG_STATUSES: tuple[str, ...] = ("active", "disputed", "waived", "cleared")
WAIVER_STATUSES: tuple[str, ...] = ("pending", "approved", "refused", "cancelled")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SupervisorLogin(_Answer):
    """A successful login: the bearer token (never logged) and the offline PIN hash.

    ``failed_logins`` counts the failed logins on this account since its previous login,
    the last one at ``last_failed_login_at`` from ``last_failed_login_from`` (an address);
    a server that does not report them gives 0 and None.
    """

    token: str = Field(min_length=1, repr=False)
    username: str = Field(min_length=1)
    role: Literal["supervisor"] = "supervisor"
    expires_at: AwareDatetime
    offline_pin_hash: str = Field(min_length=1, repr=False)
    failed_logins: int = Field(default=0, ge=0)
    last_failed_login_at: AwareDatetime | None = None
    last_failed_login_from: str | None = None


class Flag(_Answer):
    """One flagged vehicle as the review table shows it."""

    plate: str
    status: FlagStatus
    unpaid_cents: int = Field(ge=0)
    currency: str
    sessions: int = Field(ge=0)
    session_ids: list[int]
    lots: list[str]
    first_unpaid_at: datetime | None = None
    last_seen_at: datetime | None = None
    last_seen_lane: str | None = None
    updated_at: datetime
    reason: str | None = None
    decided_by: str | None = None


class FlagPage(_Answer):
    """One page of flags and the total that matches the filter."""

    items: list[Flag]
    total: int = Field(ge=0)
    limit: int
    offset: int


class DismissAnswer(_Answer):
    """A flag dismissed as a false positive."""

    plate: str
    status: Literal["cleared"]
    session_ids: list[int]
    unpaid_cents: int
    audit_id: int


class ResolveAnswer(_Answer):
    """A dispute decided; ``entry`` is the blacklist entry after it (None: removed)."""

    plate: str
    decision: Literal["upheld", "rejected"]
    session_ids: list[int]
    entry: dict[str, Any] | None
    audit_id: int


class WaiverRequest(_Answer):
    """A booth's request to waive sessions, and the supervisor's decision once made."""

    request_id: uuid.UUID
    status: WaiverStatus
    plate: str
    session_ids: list[int]
    notice_id: uuid.UUID | None = None
    reason: str
    lane: str
    attendant: str | None = None
    booth_id: str
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    waived_session_ids: list[int] = Field(default_factory=list)


class WaiverRequestPage(_Answer):
    """One page of waiver requests, oldest first."""

    items: list[WaiverRequest]
    total: int = Field(ge=0)
    limit: int
    offset: int


class Evidence(_Answer):
    """An evidence image the server holds (a snapshot or a plate crop)."""

    evidence_id: uuid.UUID
    kind: Literal["snapshot", "crop"]
    plate: str
    read_id: uuid.UUID | None = None
    notice_id: uuid.UUID | None = None
    booth_id: str
    content_type: str
    size_bytes: int
    received_at: datetime


class Sighting(_Answer):
    """A plate read a booth reported."""

    read_id: uuid.UUID
    plate: str
    lane: str
    booth_id: str
    seen_at: datetime
    confidence: float | None = None
    source: str
    owes: bool
    evidence: list[Evidence] = Field(default_factory=list)


class OutcomeRecord(_Answer):
    """An outcome a booth recorded for this vehicle."""

    outcome_id: uuid.UUID
    notice_id: uuid.UUID | None = None
    kind: Literal["paid", "disputed", "waived", "left_unpaid"]
    method: str | None = None
    amount_cents: int
    session_ids: list[int]
    reason: str | None = None
    attendant: str | None = None
    booth_id: str
    lane: str
    recorded_at: datetime
    status: Literal["recorded", "already_paid"]
    evidence: list[Evidence] = Field(default_factory=list)


class AuditEntry(_Answer):
    """One supervisor action: who, when, what, to what, and the state before and after."""

    id: int
    at: datetime
    supervisor: str | None = None  # None: the booth's own action (see booth_id)
    booth_id: str | None = None
    action: str
    plate: str | None = None
    target: str | None = None
    reason: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class AuditPage(_Answer):
    """One page of the audit log, newest first, and the total that matches the filter."""

    items: list[AuditEntry]
    total: int = Field(ge=0)
    limit: int
    offset: int


class VehicleFile(_Answer):
    """Everything the server knows about one vehicle, for the detail pane."""

    plate: str
    currency: str
    status: Literal["active", "disputed", "clear"]
    unpaid_cents: int
    flag: Flag | None = None
    sessions: list[UnpaidSession]
    sightings: list[Sighting] = Field(default_factory=list)
    outcomes: list[OutcomeRecord] = Field(default_factory=list)
    waiver_requests: list[WaiverRequest] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    flag_history: list[Flag] = Field(default_factory=list)
    audit: list[AuditEntry] = Field(default_factory=list)
    totals: dict[str, int] = Field(default_factory=dict)


class NoContent(_Answer):
    """The empty answer of a 204 (logout)."""
