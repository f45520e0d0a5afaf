"""Pydantic shapes of the HTTP API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from server.plates import normalize_plate

#: Integers are stored in 32-bit columns on PostgreSQL: every integer a request carries is
#: bounded by this before it reaches the database.
INT32_MAX = 2**31 - 1
SEQ_MAX = INT32_MAX
CENTS_MAX = INT32_MAX
PLATE_MAX = 32


def normalize_checked(value: str) -> str:
    """The normalized plate; ValueError when nothing is left or it grew past 32 characters
    (NFKC expands some characters, e.g. U+FDFA into 18)."""
    plate = normalize_plate(value)
    if not plate:
        raise ValueError("plate has no letters or digits")
    if len(plate) > PLATE_MAX:
        raise ValueError(f"plate is longer than {PLATE_MAX} letters and digits once normalized")
    return plate


Plate = Annotated[
    str,
    # No pattern: "a letter or digit somewhere" in JSON Schema's regexes means an ASCII
    # one, and plates of other scripts are valid; normalize_checked refuses the rest.
    Field(min_length=1, max_length=PLATE_MAX),
    AfterValidator(normalize_checked),
]
#: No NUL character: PostgreSQL text cannot hold one (the database would refuse the row).
NO_NUL = r"^[^\x00]*$"


def _not_bool(value: object) -> object:
    """Refuse true and false where a number is due (pydantic would read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")
    return value


SessionId = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=INT32_MAX)]
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _iso_text(value: object) -> object:
    """Refuse numbers, which pydantic would read as Unix times: the contract says ISO 8601."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value.strip())
    ):
        raise ValueError("expected a date and time in ISO 8601, e.g. 2026-12-07T10:00:00Z")
    return value


#: A date and time with its UTC offset, written in ISO 8601 (never a bare number).
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
Cents = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=CENTS_MAX)]
#: A recognizer's confidence, 0 to 1.
Confidence = Annotated[float, BeforeValidator(_not_bool), Field(ge=0.0, le=1.0)]
SessionStatus = Literal["unpaid", "paid", "disputed", "waived"]
EntryStatus = Literal["active", "disputed"]
VehicleStatus = Literal["active", "disputed", "clear"]


class SessionOut(BaseModel):
    """One parking session as the booth sees it."""

    id: int
    lot_id: str
    lot_name: str
    entered_at: datetime
    exited_at: datetime | None
    fee_cents: int
    paid_cents: int
    unpaid_cents: int
    status: SessionStatus


class EntryOut(BaseModel):
    """A blacklist entry: the plate, whether notices are raised, what it owes and why."""

    plate: str
    status: EntryStatus
    unpaid_cents: int
    currency: str
    sessions: list[SessionOut]
    updated_at: datetime


class PingOut(BaseModel):
    """Answer of ``GET /ping``."""

    booth_id: str
    server_time: datetime
    latest_seq: int


class HistoryOut(BaseModel):
    """A vehicle's parking history with its arrears."""

    plate: str
    currency: str
    unpaid_cents: int
    blacklisted: bool
    status: VehicleStatus
    sessions: list[SessionOut]


class ChangeOut(BaseModel):
    """One change of the blacklist feed."""

    seq: int
    plate: str
    action: Literal["upsert", "remove"]
    entry: EntryOut | None


class ChangesPage(BaseModel):
    """A page of blacklist changes after ``since``."""

    changes: list[ChangeOut]
    next_since: int
    has_more: bool
    latest_seq: int


class SnapshotPage(BaseModel):
    """A page of the full blacklist, keyset-paged by plate."""

    entries: list[EntryOut]
    as_of_seq: int
    next_after: str | None
    has_more: bool


class ReadIn(BaseModel):
    """A plate read reported by a booth."""

    model_config = ConfigDict(extra="forbid")

    read_id: uuid.UUID
    plate: Plate
    lane: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    seen_at: IsoDateTime
    confidence: Confidence | None = None
    source: Literal["camera", "manual"]


class ReadOut(BaseModel):
    """Answer to a plate read."""

    read_id: uuid.UUID
    plate: str
    owes: bool
    entry: EntryOut | None


OutcomeKind = Literal["paid", "disputed", "waived", "left_unpaid"]


class OutcomeIn(BaseModel):
    """What happened at the booth after a recovery notice (idempotent by ``outcome_id``)."""

    model_config = ConfigDict(extra="forbid")

    outcome_id: uuid.UUID
    notice_id: uuid.UUID | None = None
    plate: Plate
    lane: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    kind: OutcomeKind
    method: Literal["cash", "card", "qr"] | None = None
    amount_cents: Cents
    session_ids: list[SessionId] = Field(default_factory=list, max_length=200)
    reason: str | None = Field(default=None, max_length=1000, pattern=NO_NUL)
    reference: str | None = Field(default=None, max_length=200, pattern=NO_NUL)
    attendant: str | None = Field(default=None, max_length=100, pattern=NO_NUL)
    recorded_at: IsoDateTime
    approved_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=NO_NUL,
        description="waived only: the supervisor who approved the waiver (required)",
    )
    waiver_request_id: uuid.UUID | None = Field(
        default=None,
        description="waived only: the approved waiver request; absent when a supervisor "
        "approved at the booth with the offline PIN",
    )

    @model_validator(mode="after")
    def _check_kind(self) -> OutcomeIn:
        if self.kind == "paid" and self.method is None:
            raise ValueError("a paid outcome needs a method (cash, card or qr)")
        if self.kind == "waived" and self.approved_by is None:
            raise ValueError("a waiver needs a supervisor: approved_by is required")
        if self.kind != "waived" and (
            self.approved_by is not None or self.waiver_request_id is not None
        ):
            raise ValueError("approved_by and waiver_request_id belong to waived outcomes")
        if self.kind in ("paid", "disputed", "waived") and not self.session_ids:
            raise ValueError(f"a {self.kind} outcome needs at least one session id")
        if len(set(self.session_ids)) != len(self.session_ids):
            raise ValueError("session_ids contains duplicates")
        return self


class OutcomeOut(BaseModel):
    """Answer to an outcome (200 recorded, 409 already paid)."""

    outcome_id: uuid.UUID
    status: Literal["recorded", "already_paid"]
    collected_cents: int
    settled_session_ids: list[int]
    already_paid_session_ids: list[int]
    message: str


IntentStatus = Literal["pending", "paid", "expired", "cancelled"]


class PaymentIntentIn(BaseModel):
    """A booth asks for a QR payment of sessions (idempotent by ``intent_id``)."""

    model_config = ConfigDict(extra="forbid")

    intent_id: uuid.UUID
    notice_id: uuid.UUID
    plate: Plate
    session_ids: list[SessionId] = Field(min_length=1, max_length=200)
    amount_cents: Cents

    @model_validator(mode="after")
    def _check_sessions(self) -> PaymentIntentIn:
        if len(set(self.session_ids)) != len(self.session_ids):
            raise ValueError("session_ids contains duplicates")
        return self


class PaymentIntentOut(BaseModel):
    """A QR payment intent and its current status; ``pay_url`` goes into the QR code."""

    intent_id: uuid.UUID
    status: IntentStatus
    plate: str
    amount_cents: int
    currency: str
    pay_url: str
    expires_at: datetime
    paid_at: datetime | None


# -- supervisor API --------------------------------------------------------------------

#: A reason a person typed: trimmed, 1 to 1000 characters.
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NO_NUL)
]
FlagStatus = Literal["active", "disputed", "waived", "cleared"]
WaiverStatus = Literal["pending", "approved", "refused", "cancelled"]
EvidenceKind = Literal["snapshot", "crop"]
AuditAction = Literal[
    "login",
    "logout",
    "dismiss_flag",
    "resolve_dispute",
    "decide_waiver",
    "view_evidence",
    "cancel_waiver",
    "approve_waiver_offline",
    "payment_over_waiver",
    "login_failed",
    "login_locked",
]


def _unique_ids(ids: list[SessionId]) -> list[SessionId]:
    if len(set(ids)) != len(ids):
        raise ValueError("session_ids contains duplicates")
    return ids


SessionIds = Annotated[
    list[SessionId], Field(min_length=1, max_length=200), AfterValidator(_unique_ids)
]


class LoginIn(BaseModel):
    """A supervisor's credentials."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    """A supervisor login: the bearer token and the PIN hash the booth caches for offline use."""

    token: str
    username: str
    role: Literal["supervisor"]
    expires_at: datetime
    offline_pin_hash: str = Field(description="scrypt$n$r$p$salt_b64$hash_b64 of the PIN")
    failed_logins: int = Field(
        default=0, description="failed logins of this account since its previous login"
    )
    last_failed_login_at: datetime | None = None
    last_failed_login_from: str | None = Field(
        default=None, description="the address the last failed login came from"
    )


class FlagOut(BaseModel):
    """A flagged vehicle: listed now (active, disputed) or a decided flag (waived, cleared)."""

    plate: str
    status: FlagStatus
    unpaid_cents: int = Field(description="owed now; for waived/cleared: what the flag covered")
    currency: str
    sessions: int
    session_ids: list[int]
    lots: list[str]
    first_unpaid_at: datetime | None
    last_seen_at: datetime | None
    last_seen_lane: str | None
    updated_at: datetime = Field(description="listed or last changed; for history: decided")
    reason: str | None = None
    decided_by: str | None = None


class FlagsPage(BaseModel):
    """A page of flags, newest change first."""

    items: list[FlagOut]
    total: int
    limit: int
    offset: int
    next_after: str | None = Field(
        default=None,
        description="send as `after` for the next page (null on the last page)",
    )


class ReasonIn(BaseModel):
    """A decision's reason (required, not blank)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class DismissOut(BaseModel):
    """A flag dismissed as a false positive: its sessions are never listed again."""

    plate: str
    status: Literal["cleared"]
    session_ids: list[int]
    unpaid_cents: int
    audit_id: int


class ResolveIn(BaseModel):
    """A supervisor's decision on a dispute."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["upheld", "rejected"]
    reason: Reason


class ResolveOut(BaseModel):
    """A resolved dispute and the blacklist entry afterwards (None: not listed)."""

    plate: str
    decision: Literal["upheld", "rejected"]
    session_ids: list[int]
    entry: EntryOut | None
    audit_id: int


class WaiverRequestIn(BaseModel):
    """A booth asks a supervisor to waive sessions (idempotent by ``request_id``)."""

    model_config = ConfigDict(extra="forbid")

    request_id: uuid.UUID
    notice_id: uuid.UUID | None = None
    plate: Plate
    session_ids: SessionIds
    reason: Reason
    lane: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    attendant: str | None = Field(default=None, max_length=100, pattern=NO_NUL)


class WaiverRequestOut(BaseModel):
    """A waiver request and its decision (``pending`` until a supervisor decides)."""

    request_id: uuid.UUID
    status: WaiverStatus
    plate: str
    session_ids: list[int]
    notice_id: uuid.UUID | None
    reason: str
    lane: str
    attendant: str | None
    booth_id: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    waived_session_ids: list[int]


class WaiverRequestsPage(BaseModel):
    """A page of waiver requests, oldest first (the queue order)."""

    items: list[WaiverRequestOut]
    total: int
    limit: int
    offset: int


class WaiverCancelIn(BaseModel):
    """The booth withdraws its request (another outcome was recorded, or the attendant)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class WaiverDecisionIn(BaseModel):
    """Approve (waive the sessions still open) or refuse (change nothing)."""

    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: Reason


class EvidenceOut(BaseModel):
    """A stored evidence image (fetch its bytes at ``/supervisor/evidence/{evidence_id}``)."""

    evidence_id: uuid.UUID
    kind: EvidenceKind
    plate: str
    read_id: uuid.UUID | None
    notice_id: uuid.UUID | None
    booth_id: str
    content_type: str
    size_bytes: int
    sha256: str
    received_at: datetime


class SightingOut(BaseModel):
    """A plate read reported by a booth, with its evidence."""

    read_id: uuid.UUID
    plate: str
    lane: str
    booth_id: str
    seen_at: IsoDateTime
    confidence: float | None
    source: str
    owes: bool
    evidence: list[EvidenceOut]


class OutcomeRecordOut(BaseModel):
    """An outcome as a booth reported it, with the server's verdict."""

    outcome_id: uuid.UUID
    notice_id: uuid.UUID | None
    kind: OutcomeKind
    method: str | None
    amount_cents: int
    session_ids: list[int]
    reason: str | None
    attendant: str | None
    booth_id: str
    lane: str
    recorded_at: datetime
    received_at: datetime
    status: Literal["recorded", "already_paid"]
    evidence: list[EvidenceOut]


class AuditOut(BaseModel):
    """One audit row: who did what, when, to what, and the state before and after.

    ``supervisor`` is None for a booth's own action (``cancel_waiver``); ``booth_id``
    names the booth for booth actions and for approvals given offline at a booth.
    """

    id: int
    at: datetime
    supervisor: str | None
    booth_id: str | None = None
    action: AuditAction
    plate: str | None
    target: str | None
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    """A page of audit rows, newest first."""

    items: list[AuditOut]
    total: int
    limit: int
    offset: int


class VehicleFileOut(BaseModel):
    """Everything known about one vehicle, for a supervisor's review.

    ``sightings``, ``outcomes``, ``waiver_requests``, ``evidence`` and ``audit`` are
    newest first and capped at the request's ``limit``; ``totals`` gives their full counts.
    """

    plate: str
    currency: str
    status: VehicleStatus
    unpaid_cents: int
    flag: FlagOut | None
    sessions: list[SessionOut]
    sightings: list[SightingOut]
    outcomes: list[OutcomeRecordOut]
    waiver_requests: list[WaiverRequestOut]
    evidence: list[EvidenceOut]
    flag_history: list[FlagOut]
    audit: list[AuditOut]
    totals: dict[str, int]


class FieldError(BaseModel):
    """One reason a request broke the schema (its input is never echoed)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorCode(BaseModel):
    """Machine-readable error detail the client must act on; some codes add fields."""

    code: str
    message: str
    latest_seq: int | None = Field(default=None, description="resync_required")
    errors: list[FieldError] | None = Field(default=None, description="invalid_request")
    session_ids: list[int] | None = Field(
        default=None, description="unknown_sessions, already_paid"
    )
    expected_cents: int | None = Field(default=None, description="amount_mismatch")
    retry_after_s: int | None = Field(default=None, description="too_many_attempts")
    status: str | None = Field(default=None, description="already_decided")


class ErrorOut(BaseModel):
    """FastAPI's error shape with an object ``detail``."""

    detail: ErrorCode
