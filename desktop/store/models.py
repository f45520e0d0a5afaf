"""ORM description of the current (head) schema.

The migrations in :mod:`desktop.store.migrations` create the tables with explicit SQL;
these models describe what they produce and give the queries typed column objects. A
test migrates a fresh file and compares it with ``Base.metadata`` so the two never drift.
Columns added by a later migration are declared last, where ``ALTER TABLE`` puts them.
"""

from __future__ import annotations

import logging

from sqlalchemy import REAL, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Declarative base of the booth's local store."""


class BlacklistEntryRow(Base):
    """One cached blacklist entry; ``payload`` is the entry as JSON.

    No secondary index (schema version 5): lookups go through ``blacklist_near_keys``,
    which holds every equivalence key, and a full resync swaps in a freshly loaded copy
    of this table by renaming it, which a named index would not survive.
    """

    __tablename__ = "blacklist_entries"

    plate: Mapped[str] = mapped_column(Text, primary_key=True)
    equivalence_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    unpaid_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)


class BlacklistNearKeyRow(Base):
    """A listed plate's equivalence key or one of its deletions (schema version 2)."""

    __tablename__ = "blacklist_near_keys"
    __table_args__ = ({"sqlite_with_rowid": False},)

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    plate: Mapped[str] = mapped_column(Text, primary_key=True)


class SyncStateRow(Base):
    """Key/value sync state: the change cursor and the last sync time."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class PlateReadRow(Base):
    """A plate the booth read (camera) or the attendant typed (manual)."""

    __tablename__ = "plate_reads"
    __table_args__ = (Index("ix_plate_reads_seen_at", "seen_at"),)

    read_id: Mapped[str] = mapped_column(Text, primary_key=True)
    lane: Mapped[str] = mapped_column(Text)
    plate: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(REAL)
    source: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[str] = mapped_column(Text)
    snapshot_path: Mapped[str | None] = mapped_column(Text)
    crop_path: Mapped[str | None] = mapped_column(Text)  # version 2


class NoticeRow(Base):
    """A recovery notice shown to the attendant."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_read_id", "read_id"),
        Index("ix_notices_listed_plate", "listed_plate"),
    )

    notice_id: Mapped[str] = mapped_column(Text, primary_key=True)
    read_id: Mapped[str | None] = mapped_column(Text, ForeignKey("plate_reads.read_id"))
    lane: Mapped[str] = mapped_column(Text)
    read_plate: Mapped[str] = mapped_column(Text)
    listed_plate: Mapped[str] = mapped_column(Text)
    tier: Mapped[str] = mapped_column(Text)
    unpaid_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(Text)
    sessions: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    cache_age_s: Mapped[float | None] = mapped_column(REAL)
    created_at: Mapped[str] = mapped_column(Text)
    entry_seq: Mapped[int | None] = mapped_column(Integer)  # version 2


class OutcomeRow(Base):
    """What happened after a notice; at most one per notice."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("notice_id", name="uq_outcomes_notice_id"),
        Index("ix_outcomes_plate", "plate"),
    )

    outcome_id: Mapped[str] = mapped_column(Text, primary_key=True)
    notice_id: Mapped[str] = mapped_column(Text, ForeignKey("notices.notice_id"))
    plate: Mapped[str] = mapped_column(Text)
    lane: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(Text)
    amount_cents: Mapped[int] = mapped_column(Integer)
    session_ids: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    attendant: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(Text)  # version 4: a waiver's supervisor
    waiver_request_id: Mapped[str | None] = mapped_column(Text)  # version 4


class OutboxRow(Base):
    """A request waiting to reach the server exactly once (idempotent by ``key``)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_outbox_kind_key"),
        # Partial: only undelivered rows, in id order, so due() never walks the history.
        Index(
            "ix_outbox_pending",
            "id",
            sqlite_where=text("delivered_at IS NULL AND dead_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[str] = mapped_column(Text)
    next_attempt_at: Mapped[str] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    dead_at: Mapped[str | None] = mapped_column(Text)
