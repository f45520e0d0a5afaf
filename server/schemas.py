"""Pydantic shapes of the HTTP API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from server.plates import normalize_plate


def _normalized(value: str) -> str:
    plate = normalize_plate(value)
    if not plate:
        raise ValueError("plate has no letters or digits")
    return plate


Plate = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_normalized)]
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
    lane: str = Field(min_length=1, max_length=100)
    seen_at: datetime
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
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
    lane: str = Field(min_length=1, max_length=100)
    kind: OutcomeKind
    method: Literal["cash", "card", "qr"] | None = None
    amount_cents: int = Field(ge=0)
    session_ids: list[int] = Field(default_factory=list, max_length=200)
    reason: str | None = Field(default=None, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)
    attendant: str | None = Field(default=None, max_length=100)
    recorded_at: datetime

    @model_validator(mode="after")
    def _check_kind(self) -> OutcomeIn:
        if self.kind == "paid" and self.method is None:
            raise ValueError("a paid outcome needs a method (cash, card or qr)")
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
    session_ids: list[int] = Field(min_length=1, max_length=200)
    amount_cents: int = Field(ge=0)

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


class ErrorCode(BaseModel):
    """Machine-readable error detail the client must act on."""

    code: str
    message: str
    latest_seq: int | None = None


class ErrorOut(BaseModel):
    """FastAPI's error shape with an object ``detail``."""

    detail: ErrorCode
