"""Plain data objects that cross layers in the booth: server answers, cache entries, reads.

Server data is validated into these pydantic models by :mod:`desktop.client`; the
store keeps and returns them; the UI receives them. They carry no behaviour that needs
a database or a network.
"""

from __future__ import annotations

import enum
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from desktop.plates import MatchTier, normalize

PlateText = Annotated[str, StringConstraints(min_length=1, max_length=16)]
Cents = Annotated[int, Field(ge=0, le=100_000_000)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class _Strict(BaseModel):
    """Validated server data: unknown fields are ignored, wrong types are rejected."""

    model_config = ConfigDict(extra="ignore", strict=False, frozen=True)


class _PlateField(_Strict):
    plate: PlateText

    @field_validator("plate")
    @classmethod
    def _normalized(cls, value: str) -> str:
        if value.isalnum() and value == value.upper() and unicodedata.is_normalized("NFKC", value):
            # Already normalized (as servers send plates): normalize() would return it
            # unchanged, at five times the cost, a million times in a full resync.
            return value
        plate = normalize(value)
        if not plate:
            raise ValueError("plate has no letters or digits")
        return plate


class EntryStatus(enum.StrEnum):
    """Whether a listed vehicle raises notices (active) or is on hold (disputed)."""

    ACTIVE = "active"
    DISPUTED = "disputed"


class UnpaidSession(_Strict):
    """One parking session that still owes money."""

    id: int
    lot_id: str
    lot_name: str
    entered_at: datetime
    exited_at: datetime | None = None
    fee_cents: Cents
    paid_cents: Cents = 0
    unpaid_cents: Cents
    status: Literal["unpaid", "paid", "disputed", "waived"] = "unpaid"


class BlacklistEntry(_PlateField):
    """A vehicle that owes money, as the server lists it and the booth caches it."""

    status: EntryStatus
    unpaid_cents: Cents
    currency: Currency
    sessions: list[UnpaidSession] = Field(default_factory=list, max_length=500)
    updated_at: datetime


class BlacklistChange(_PlateField):
    """One step of the blacklist's change feed."""

    seq: int = Field(ge=1)
    action: Literal["upsert", "remove"]
    entry: BlacklistEntry | None = None

    @field_validator("entry")
    @classmethod
    def _entry_matches_plate(cls, entry: BlacklistEntry | None, info) -> BlacklistEntry | None:
        plate = info.data.get("plate")
        if entry is not None and plate is not None and entry.plate != plate:
            raise ValueError("entry plate differs from change plate")
        return entry

    def model_post_init(self, _context: object) -> None:
        if self.action == "upsert" and self.entry is None:
            raise ValueError("an upsert change must carry its entry")


class ChangesPage(_Strict):
    """A page of blacklist changes after a cursor."""

    changes: list[BlacklistChange] = Field(max_length=1000)
    next_since: int = Field(ge=0)
    has_more: bool
    latest_seq: int = Field(ge=0)


# The most entries one snapshot page may carry (servers from issue 26 on allow 5000).
SNAPSHOT_MAX_LIMIT = 5000


class SnapshotPage(_Strict):
    """A page of the full blacklist, for a resync."""

    entries: list[BlacklistEntry] = Field(max_length=SNAPSHOT_MAX_LIMIT)
    as_of_seq: int = Field(ge=0)
    next_after: str | None = None
    has_more: bool


class VehicleHistory(_PlateField):
    """A vehicle's parking sessions and what it owes."""

    currency: Currency
    unpaid_cents: Cents
    blacklisted: bool
    status: Literal["active", "disputed", "clear"]
    sessions: list[UnpaidSession] = Field(default_factory=list, max_length=5000)


class ReadAnswer(_PlateField):
    """The server's decision on a reported plate read."""

    read_id: uuid.UUID
    owes: bool
    entry: BlacklistEntry | None = None


class OutcomeKind(enum.StrEnum):
    """What happened at the exit after a notice."""

    PAID = "paid"
    DISPUTED = "disputed"
    WAIVED = "waived"
    LEFT_UNPAID = "left_unpaid"


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    QR = "qr"


class EvidenceReceipt(_Strict):
    """The server's receipt for an evidence image (201 stored, 200 a replay)."""

    evidence_id: uuid.UUID
    kind: Literal["snapshot", "crop"]
    plate: str
    size_bytes: int
    sha256: str
    received_at: datetime


class OutcomeAnswer(_Strict):
    """The server's receipt for an outcome (first answer, also on replays)."""

    outcome_id: uuid.UUID
    status: Literal["recorded", "already_paid"]
    collected_cents: Cents
    settled_session_ids: list[int] = Field(default_factory=list)
    already_paid_session_ids: list[int] = Field(default_factory=list)
    message: str = ""


class PaymentIntentStatus(enum.StrEnum):
    """Where a QR payment stands; only ``pending`` may still change."""

    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class PaymentIntent(_PlateField):
    """A QR payment the server set up for a notice; ``pay_url`` is what the QR code holds."""

    intent_id: uuid.UUID
    status: PaymentIntentStatus
    amount_cents: Cents
    currency: Currency
    pay_url: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    expires_at: AwareDatetime
    paid_at: AwareDatetime | None = None

    @field_validator("pay_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        # A QR code that opens javascript:, file: or a bare path would be an attack or a bug.
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("pay_url must be an absolute http(s) URL")
        if any(ch.isspace() or not ch.isprintable() for ch in value):
            raise ValueError("pay_url contains spaces or control characters")
        return value

    @model_validator(mode="after")
    def _paid_has_time(self) -> PaymentIntent:
        if (self.status is PaymentIntentStatus.PAID) != (self.paid_at is not None):
            raise ValueError("paid_at must be given exactly when the status is paid")
        return self

    @property
    def settled(self) -> bool:
        """True once the driver paid: record the ``qr`` outcome."""
        return self.status is PaymentIntentStatus.PAID

    @property
    def final(self) -> bool:
        """True when the status can no longer change (stop polling)."""
        return self.status is not PaymentIntentStatus.PENDING


class Ping(_Strict):
    booth_id: str
    server_time: datetime
    latest_seq: int = Field(ge=0)


ReadSource = Literal["camera", "manual"]


@dataclass(frozen=True)
class PlateRead:
    """One plate acquired at a lane: by the camera (after consensus) or typed by the attendant."""

    plate: str
    lane: str
    confidence: float = 1.0
    source: ReadSource = "camera"
    seen_at: datetime = field(default_factory=utc_now)
    read_id: uuid.UUID = field(default_factory=uuid.uuid4)
    alternatives: tuple[str, ...] = ()
    snapshot_path: Path | None = None
    crop_path: Path | None = None

    def report_payload(self) -> dict[str, object]:
        """The body of ``POST /api/v1/reads`` for this read."""
        return {
            "read_id": str(self.read_id),
            "plate": self.plate,
            "lane": self.lane,
            "seen_at": self.seen_at.isoformat(),
            "confidence": round(self.confidence, 4),
            "source": self.source,
        }


NoticeSource = Literal["server", "cache"]


@dataclass(frozen=True)
class RecoveryNotice:
    """What the attendant is shown when a vehicle at the exit owes money."""

    read: PlateRead
    listed_plate: str
    tier: MatchTier
    unpaid_cents: int
    currency: str
    sessions: tuple[UnpaidSession, ...]
    source: NoticeSource
    cache_age_s: float | None
    entry_seq: int
    notice_id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: datetime = field(default_factory=utc_now)

    @property
    def session_ids(self) -> list[int]:
        return [session.id for session in self.sessions]


@dataclass(frozen=True)
class Outcome:
    """What happened after a notice, as recorded at the booth and queued for the server.

    ``created`` is False when the notice already had an outcome and this is that one.
    A ``waived`` outcome names the supervisor who approved it (``approved_by``) and the
    approved waiver request, or no request when the supervisor approved offline at the
    booth with their PIN.
    """

    outcome_id: uuid.UUID
    notice_id: uuid.UUID
    plate: str
    lane: str
    kind: OutcomeKind
    method: PaymentMethod | None
    amount_cents: int
    session_ids: tuple[int, ...]
    reason: str | None
    reference: str | None
    attendant: str
    recorded_at: datetime
    created: bool = True
    approved_by: str | None = None
    waiver_request_id: uuid.UUID | None = None

    def request_body(self) -> dict[str, object]:
        """The body of ``POST /api/v1/outcomes`` for this outcome."""
        body: dict[str, object] = {
            "outcome_id": str(self.outcome_id),
            "notice_id": str(self.notice_id),
            "plate": self.plate,
            "lane": self.lane,
            "kind": self.kind.value,
            "method": None if self.method is None else self.method.value,
            "amount_cents": self.amount_cents,
            "session_ids": list(self.session_ids),
            "reason": self.reason,
            "reference": self.reference,
            "attendant": self.attendant,
            "recorded_at": self.recorded_at.isoformat(),
        }
        if self.approved_by is not None:
            body["approved_by"] = self.approved_by
        if self.waiver_request_id is not None:
            body["waiver_request_id"] = str(self.waiver_request_id)
        return body
