"""Database tables of the reference server."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, utcnow

SESSION_STATUSES = ("unpaid", "paid", "disputed", "waived")
ENTRY_STATUSES = ("active", "disputed")
CHANGE_ACTIONS = ("upsert", "remove")
#: Stored states of a payment intent; "expired" is derived from ``expires_at`` when read.
INTENT_STATUSES = ("pending", "paid", "cancelled")
SUPERVISOR_ROLES = ("supervisor",)
#: Stored states of a flag's history row (current flags are the blacklist entries).
HISTORY_STATUSES = ("cleared", "waived")
HISTORY_SOURCES = ("supervisor", "booth")
WAIVER_STATUSES = ("pending", "approved", "refused", "cancelled")
EVIDENCE_KINDS = ("snapshot", "crop")
STATE_ROW_ID = 1
#: Declared empty on SQLite (``WHERE 0``): see ``plate_search_index``.
_NOWHERE = text("0")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Lot(Base):
    """A car park run by the operator."""

    __tablename__ = "lots"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Booth(Base):
    """An exit booth; only the SHA-256 hex digest of its bearer token is stored."""

    __tablename__ = "booths"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lot_id: Mapped[str | None] = mapped_column(ForeignKey("lots.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ParkingSession(Base):
    """One stay of a vehicle in a lot, with its fee and what was paid."""

    __tablename__ = "parking_sessions"
    __table_args__ = (
        CheckConstraint(_in("status", SESSION_STATUSES), name="ck_parking_sessions_status"),
        CheckConstraint("fee_cents >= 0 AND paid_cents >= 0", name="ck_parking_sessions_cents"),
        Index("ix_parking_sessions_plate", "plate"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(32))
    lot_id: Mapped[str] = mapped_column(ForeignKey("lots.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fee_cents: Mapped[int] = mapped_column(Integer)
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="unpaid")

    lot: Mapped[Lot] = relationship(lazy="joined", innerjoin=True)

    @property
    def unpaid_cents(self) -> int:
        """What is still owed on this session (0 once paid or waived)."""
        if self.status in ("unpaid", "disputed"):
            return max(self.fee_cents - self.paid_cents, 0)
        return 0


def plate_search_index(name: str) -> Index:
    """The supervisor's plate search on PostgreSQL: a ``pg_trgm`` GIN index on ``plate``
    (migration 0008), which serves ``LIKE '%AB1%'``. SQLite has no trigram index type
    (there plates are searched through ``flag_plate_grams``), so the same name is an
    empty partial index there and the schema matches these models on both databases."""
    return Index(
        name,
        "plate",
        postgresql_using="gin",
        postgresql_ops={"plate": "gin_trgm_ops"},
        sqlite_where=_NOWHERE,
    )


def lot_token(lot_id: str) -> str:
    """``lot_id`` as it stands in ``BlacklistEntry.lots``, framed by ``|``: ``|north|``.

    ``%`` and ``|`` inside an id are percent-escaped, so a frame never occurs inside an
    id and a token is found in ``lots`` only where that very lot is listed (never as a
    part of another lot's id).
    """
    return "|" + lot_id.replace("%", "%25").replace("|", "%7C") + "|"


class BlacklistEntry(Base):
    """A plate that owes money; ``entry`` holds the JSON entry object last published.

    ``lots`` repeats the entry's lots as text (``|north|south|``, see ``lot_token``),
    written since migration 0006; the lot filter reads ``flag_lots`` since 0008.
    """

    __tablename__ = "blacklist_entries"
    __table_args__ = (
        CheckConstraint(_in("status", ENTRY_STATUSES), name="ck_blacklist_entries_status"),
        # The supervisor's flag list (migration 0006): its order, newest change first; the
        # order within one status; and the count of the amount filter, which scans a
        # small index instead of the table (whose rows carry the entry's JSON).
        Index("ix_blacklist_entries_updated_at_plate", "updated_at", "plate"),
        Index("ix_blacklist_entries_status_updated_at_plate", "status", "updated_at", "plate"),
        Index("ix_blacklist_entries_unpaid_cents", "unpaid_cents"),
        plate_search_index("ix_blacklist_entries_plate_trgm"),
    )

    plate: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    unpaid_cents: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seq: Mapped[int] = mapped_column(Integer)
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)
    lots: Mapped[str] = mapped_column(Text)

    @staticmethod
    def lots_text(lot_ids: Iterable[str]) -> str:
        """The ``lots`` value for these lot ids: each once, sorted, ``|north|south|``."""
        return "".join(lot_token(lot)[:-1] for lot in sorted(set(lot_ids))) + "|"


class BlacklistChange(Base):
    """One append-only change of the blacklist feed, ordered by ``seq``."""

    __tablename__ = "blacklist_changes"
    __table_args__ = (
        CheckConstraint(_in("action", CHANGE_ACTIONS), name="ck_blacklist_changes_action"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plate: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    entry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServerState(Base):
    """The single counter row: latest allocated seq and the pruned watermark, and how
    many flags there are per status (migration 0008).

    ``active_flags`` / ``disputed_flags`` count the blacklist entries, kept in step by
    ``refresh_entry`` under this row's lock; ``waived_flags`` / ``cleared_flags`` count
    the ``flag_history`` rows, raised by ``add_history`` in the decision's transaction.
    They are the totals of the unfiltered flag list, which would otherwise count up to
    every entry for every page.
    """

    __tablename__ = "server_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    latest_seq: Mapped[int] = mapped_column(Integer, default=0)
    pruned_seq: Mapped[int] = mapped_column(Integer, default=0)
    active_flags: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disputed_flags: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waived_flags: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cleared_flags: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PlateRead(Base):
    """A plate read reported by a booth, with the answer it got (for replays)."""

    __tablename__ = "plate_reads"
    __table_args__ = (Index("ix_plate_reads_plate", "plate"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    read_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("booths.id"))
    plate: Mapped[str] = mapped_column(String(32))
    lane: Mapped[str] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confidence: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Outcome(Base):
    """A recovery outcome reported by a booth, with its first answer and HTTP status."""

    __tablename__ = "outcomes"
    __table_args__ = (Index("ix_outcomes_plate", "plate"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("booths.id"))
    plate: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(Integer)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    http_status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentIntent(Base):
    """A QR payment a booth asked for: which sessions, how much, until when, and its state."""

    __tablename__ = "payment_intents"
    __table_args__ = (
        CheckConstraint(_in("status", INTENT_STATUSES), name="ck_payment_intents_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intent_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    notice_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    booth_id: Mapped[str] = mapped_column(ForeignKey("booths.id"))
    plate: Mapped[str] = mapped_column(String(32))
    session_ids: Mapped[list[int]] = mapped_column(JSON)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The booth outcome that reported this payment (at most one may claim it).
    outcome_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Payment(Base):
    """Money collected for one session; UNIQUE(session_id) forbids collecting twice.

    It was collected either through a booth's outcome or through a paid QR intent.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(
            "outcome_id IS NOT NULL OR intent_id IS NOT NULL", name="ck_payments_source"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("parking_sessions.id"), unique=True)
    outcome_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("outcomes.outcome_id"))
    intent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_intents.intent_id"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Supervisor(Base):
    """A supervisor account: scrypt hashes of the password and of the offline PIN."""

    __tablename__ = "supervisors"
    __table_args__ = (CheckConstraint(_in("role", SUPERVISOR_ROLES), name="ck_supervisors_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    pin_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="supervisor")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupervisorToken(Base):
    """A supervisor's login; only the SHA-256 of the bearer token is stored."""

    __tablename__ = "supervisor_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("supervisors.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    supervisor: Mapped[Supervisor] = relationship(lazy="joined", innerjoin=True)


class AuditEntry(Base):
    """One supervisor (or booth) action with snapshots of what it changed (append-only)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_plate", "plate"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_supervisor_action_at", "supervisor_id", "action", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None for a booth's own action (a cancelled waiver request): see ``booth_id``.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("supervisors.id"))
    supervisor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    plate: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(1000))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The booth where it happened (migration 0004): a booth's action, or an offline approval.
    booth_id: Mapped[str | None] = mapped_column(ForeignKey("booths.id"))


class FlagHistory(Base):
    """A flag that ended by a decision: ``cleared`` (false positive) or ``waived``.

    The session ids of a ``cleared`` row are never listed on the blacklist again.
    """

    __tablename__ = "flag_history"
    __table_args__ = (
        CheckConstraint(_in("status", HISTORY_STATUSES), name="ck_flag_history_status"),
        CheckConstraint(_in("source", HISTORY_SOURCES), name="ck_flag_history_source"),
        Index("ix_flag_history_plate", "plate"),
        # The supervisor's flag list: newest decision first (id breaks ties), paged in SQL.
        Index("ix_flag_history_decided_at_plate_id", "decided_at", "plate", "id"),
        plate_search_index("ix_flag_history_plate_trgm"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    session_ids: Mapped[list[int]] = mapped_column(JSON)
    unpaid_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    lots: Mapped[list[str]] = mapped_column(JSON)
    first_unpaid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlagLot(Base):
    """One lot of one flag, current or decided (migration 0008): the supervisor's lot
    filter reads a lot's flags in the list's order from this table's key, and counts
    them over that range, instead of testing every flag's lots.

    ``row_id`` is 0 for a current flag (a blacklist entry, kept in step by
    ``refresh_entry``) and the ``flag_history`` id of a decided one (written by
    ``add_history``); ``changed_at`` is the entry's ``updated_at`` or the decision's
    ``decided_at``; ``status`` and ``unpaid_cents`` are the flag's. The key carries
    those two as well (PostgreSQL: INCLUDE; SQLite: the table is its key), so every
    filter is answered from the key without reading a row.
    """

    __tablename__ = "flag_lots"
    __table_args__ = (
        PrimaryKeyConstraint(
            "lot",
            "changed_at",
            "plate",
            "row_id",
            name="pk_flag_lots",
            postgresql_include=["status", "unpaid_cents"],
        ),
        CheckConstraint(
            _in("status", ENTRY_STATUSES + HISTORY_STATUSES), name="ck_flag_lots_status"
        ),
        {"sqlite_with_rowid": False},
    )

    lot: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    plate: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    unpaid_cents: Mapped[int] = mapped_column(Integer)


class FlagLotCount(Base):
    """How many flags of each status have a session in each lot (migration 0008): the
    total of the list filtered by a lot (and status) alone, kept with ``flag_lots``
    instead of counted over a lot's rows, of which one car park may hold most."""

    __tablename__ = "flag_lot_counts"

    lot: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    flags: Mapped[int] = mapped_column(Integer)


class PlateGram(Base):
    """The plate search on SQLite (migration 0008): each three-character piece of every
    plate that has a blacklist entry or a decided flag. A plate contains ``AB12`` only if
    it has the pieces ``AB1`` and ``B12``, found through this table's key instead of
    testing every plate. Kept on SQLite only; PostgreSQL's ``pg_trgm`` indexes do the
    same there (``plate_search_index``) and this table stays empty.
    """

    __tablename__ = "flag_plate_grams"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(3), primary_key=True)
    plate: Mapped[str] = mapped_column(String(32), primary_key=True)


class WaiverRequest(Base):
    """A booth asks a supervisor to waive sessions (idempotent by ``request_id``)."""

    __tablename__ = "waiver_requests"
    __table_args__ = (
        CheckConstraint(_in("status", WAIVER_STATUSES), name="ck_waiver_requests_status"),
        Index("ix_waiver_requests_plate", "plate"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("booths.id"))
    notice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    plate: Mapped[str] = mapped_column(String(32))
    session_ids: Mapped[list[int]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(1000))
    lane: Mapped[str] = mapped_column(String(100))
    attendant: Mapped[str | None] = mapped_column(String(100))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("supervisors.id"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    waived_session_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class Evidence(Base):
    """A JPEG a booth uploaded for a read or a notice; the bytes live in ``evidence_dir``."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(_in("kind", EVIDENCE_KINDS), name="ck_evidence_kind"),
        CheckConstraint("read_id IS NOT NULL OR notice_id IS NOT NULL", name="ck_evidence_subject"),
        Index("ix_evidence_plate", "plate"),
        Index("ix_evidence_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    booth_id: Mapped[str] = mapped_column(ForeignKey("booths.id"))
    plate: Mapped[str] = mapped_column(String(32))
    read_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    notice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """One failed supervisor login (wrong password, unknown or disabled user): the
    normalized username tried and the address it came from (migration 0007). Counted for
    the login rate limit per (username, source) and per source; a success from a source
    deletes that source's failures for the username."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_username_source_at", "username", "source", "at"),
        Index("ix_login_failures_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(64), default="", server_default="")
