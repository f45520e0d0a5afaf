"""Flagged vehicles: the current blacklist entries plus the history of decided flags.

A flag is ``active`` or ``disputed`` while its plate is on the blacklist (the entry is
the flag). Decisions end a flag and leave a ``flag_history`` row: ``cleared`` (dismissed
as a false positive; its sessions are never listed again) or ``waived`` (the debt was
forgiven by a supervisor, or by a booth's ``waived`` outcome).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    and_,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from server.db import Base, utcnow
from server.models import BlacklistEntry, FlagHistory, ParkingSession, PlateRead, lot_token
from server.schemas import FlagOut

CURRENT = ("active", "disputed")
HISTORY = ("cleared", "waived")


@dataclass(frozen=True)
class FlagFilter:
    """Filters of ``GET /supervisor/flags``; ``statuses`` empty means active and disputed."""

    statuses: tuple[str, ...] = CURRENT
    lot: str | None = None
    min_cents: int | None = None
    since: datetime | None = None
    plate: str | None = None


@dataclass(frozen=True)
class FlagCursor:
    """Where a page ended in the list's order: the last flag's change time, plate and
    row id (the decision's id; 0 for a current flag). The next page starts after it,
    found through the order's index however deep it is (an offset counts every row
    before it)."""

    changed_at: datetime
    plate: str
    row_id: int

    def encode(self) -> str:
        """An opaque URL-safe text for the API."""
        raw = json.dumps([self.changed_at.isoformat(), self.plate, self.row_id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> FlagCursor:
        """The cursor ``encode`` wrote; ValueError for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            changed_at, plate, row_id = json.loads(raw)
            moment = datetime.fromisoformat(changed_at)
        except (ValueError, TypeError, UnicodeDecodeError) as error:
            raise ValueError(f"not a flag cursor: {text!r}") from error
        if moment.tzinfo is None or not isinstance(plate, str) or type(row_id) is not int:
            raise ValueError(f"not a flag cursor: {text!r}")
        return cls(moment, plate, row_id)


class FlagPage(NamedTuple):
    """One page of flags, the total matching the filter, and the next page's cursor
    (None on the last page)."""

    items: list[FlagOut]
    total: int
    next_after: FlagCursor | None


def dismissed_session_ids(session: Session, *, plate: str) -> set[int]:
    """Sessions of ``plate`` dismissed as false positives (never listed again)."""
    rows = session.scalars(
        select(FlagHistory.session_ids).where(
            FlagHistory.plate == plate, FlagHistory.status == "cleared"
        )
    )
    return {int(i) for ids in rows for i in ids}


def add_history(
    session: Session,
    *,
    plate: str,
    status: str,
    rows: Sequence[ParkingSession],
    currency: str,
    decided_by: str,
    source: str,
    reason: str | None,
    now: datetime | None = None,
) -> FlagHistory:
    """Record that the flag over ``rows`` ended as ``status`` (cleared or waived)."""
    item = FlagHistory(
        plate=plate,
        status=status,
        session_ids=[row.id for row in rows],
        unpaid_cents=sum(max(row.fee_cents - row.paid_cents, 0) for row in rows),
        currency=currency,
        lots=sorted({row.lot_id for row in rows}),
        first_unpaid_at=min((row.entered_at for row in rows), default=None),
        reason=reason,
        decided_by=decided_by,
        source=source,
        decided_at=now or utcnow(),
    )
    session.add(item)
    session.flush()
    return item


def entry_flag(entry: BlacklistEntry) -> dict[str, Any]:
    """The flag fields of a current blacklist entry (last sighting not filled in)."""
    sessions = entry.entry.get("sessions", [])
    starts = [datetime.fromisoformat(s["entered_at"]) for s in sessions]
    return {
        "plate": entry.plate,
        "status": entry.status,
        "unpaid_cents": entry.unpaid_cents,
        "currency": entry.entry.get("currency"),
        "sessions": len(sessions),
        "session_ids": [s["id"] for s in sessions],
        "lots": sorted({s["lot_id"] for s in sessions}),
        "first_unpaid_at": min(starts, default=None),
        "last_seen_at": None,
        "last_seen_lane": None,
        "updated_at": entry.updated_at,
    }


def history_flag(row: FlagHistory) -> dict[str, Any]:
    """The flag fields of a decided flag (last sighting not filled in)."""
    return {
        "plate": row.plate,
        "status": row.status,
        "unpaid_cents": row.unpaid_cents,
        "currency": row.currency,
        "sessions": len(row.session_ids),
        "session_ids": list(row.session_ids),
        "lots": list(row.lots),
        "first_unpaid_at": row.first_unpaid_at,
        "last_seen_at": None,
        "last_seen_lane": None,
        "updated_at": row.decided_at,
        "reason": row.reason,
        "decided_by": row.decided_by,
    }


class TextPosition(FunctionElement[int]):
    """Where ``needle`` starts in ``text`` (from 1; 0 when absent): ``TextPosition(text,
    needle)``. Case-sensitive on every database, unlike SQLite's ``LIKE``."""

    type = Integer()
    inherit_cache = True


@compiles(TextPosition)
def _strpos(element: TextPosition, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(TextPosition, "sqlite")
def _instr(element: TextPosition, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


class JsonListHas(FunctionElement[bool]):
    """True when the JSON list ``column`` holds the string ``value`` as one of its items:
    ``JsonListHas(column, value)`` (exact: ``north`` is not found in ``["north-2"]``)."""

    type = Boolean()
    inherit_cache = True


@compiles(JsonListHas)
def _jsonb_has(element: JsonListHas, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({column} AS JSONB) ? {value})"


@compiles(JsonListHas, "sqlite")
def _json_each_has(element: JsonListHas, compiler: SQLCompiler, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"


@dataclass(frozen=True)
class _Source:
    """One table the list draws from: current flags (entries) or decided ones (history)."""

    model: type[BlacklistEntry] | type[FlagHistory]
    statuses: tuple[str, ...]
    changed_at: InstrumentedAttribute[datetime]
    #: The history row's id; a literal 0 for entries, whose plate is already unique.
    row_id: ColumnElement[int]
    #: Statuses that only a few rows have.
    few: tuple[str, ...] = ()

    def conditions(self, flt: FlagFilter) -> list[ColumnElement[bool]] | None:
        """The WHERE terms of ``flt`` on this table; None when no wanted status lives here."""
        statuses = self._statuses(flt)
        if not statuses:
            return None
        return [*self._status_terms(statuses), *self._filters(flt)]

    def _statuses(self, flt: FlagFilter) -> list[str]:
        return [s for s in flt.statuses if s in self.statuses]

    def _status_terms(self, statuses: list[str]) -> list[ColumnElement[bool]]:
        # Every status of the table wanted: no term at all (a CHECK constraint allows no
        # other), so the order's index serves the page and the count is a plain count.
        if set(statuses) == set(self.statuses):
            return []
        return [self.model.status.in_(statuses)]

    def _filters(self, flt: FlagFilter) -> list[ColumnElement[bool]]:
        model = self.model
        terms: list[ColumnElement[bool]] = []
        if flt.plate:
            terms.append(model.plate.contains(flt.plate, autoescape=True))
        if flt.min_cents is not None:
            terms.append(model.unpaid_cents >= flt.min_cents)
        if flt.since is not None:
            terms.append(self.changed_at >= flt.since)
        if flt.lot:
            terms.append(self.has_lot(flt.lot))
        return terms

    def has_lot(self, lot: str) -> ColumnElement[bool]:
        """One of the flag's sessions is in ``lot`` (exactly that lot id)."""
        if self.model is BlacklistEntry:
            return TextPosition(BlacklistEntry.lots, lot_token(lot)) > 0
        return JsonListHas(FlagHistory.lots, lot)

    def after(self, cursor: FlagCursor) -> ColumnElement[bool]:
        """Rows that come after ``cursor`` in the list's order (the order's index seeks
        to them): (changed_at, plate, row_id) below the cursor's, all descending."""
        model = self.model
        if model is FlagHistory:
            return tuple_(FlagHistory.decided_at, FlagHistory.plate, FlagHistory.id) < tuple_(
                cursor.changed_at, cursor.plate, cursor.row_id
            )
        # An entry's row id is 0: after a decision of its own plate at the same instant
        # (row id > 0) it still comes, after an entry it does not.
        mine = tuple_(BlacklistEntry.updated_at, BlacklistEntry.plate)
        theirs = tuple_(cursor.changed_at, cursor.plate)
        return mine <= theirs if cursor.row_id > 0 else mine < theirs

    def keys(self, terms: list[ColumnElement[bool]]) -> Select[Any]:
        """The sort keys of the rows passing ``terms`` (an index covers them)."""
        return select(
            self.model.plate.label("plate"),
            self.changed_at.label("changed_at"),
            self.row_id.label("row_id"),
        ).where(*terms)

    def count(self, flt: FlagFilter) -> ColumnElement[int]:
        """How many rows pass ``flt`` (``conditions`` gave terms for it)."""
        statuses, terms = self._statuses(flt), self._filters(flt)
        unwanted = [s for s in self.statuses if s not in statuses]
        if unwanted and set(unwanted) <= set(self.few) and not terms:
            # Few rows have the statuses left out (disputes are the exception): count all
            # rows less those, a plain count and a short range of the status index,
            # rather than nearly every row of that index. Not with other filters: a plan
            # for them without the status may have to read far more rows.
            less = self.model.status.in_(unwanted)
            return _count(self.model, []) - _count(self.model, [less])
        return _count(self.model, [*self._status_terms(statuses), *terms])


def _count(model: type[Base], terms: list[ColumnElement[bool]]) -> ScalarSelect[int]:
    return select(func.count()).select_from(model).where(*terms).scalar_subquery()


_SOURCES = (
    _Source(BlacklistEntry, CURRENT, BlacklistEntry.updated_at, literal(0, Integer), ("disputed",)),
    _Source(FlagHistory, HISTORY, FlagHistory.decided_at, FlagHistory.id),
)


def _page_query(
    wanted: list[tuple[_Source, list[ColumnElement[bool]]]],
    *,
    limit: int,
    offset: int,
    after: FlagCursor | None,
) -> Select[Any]:
    """The page's rows, newest change first: the sort keys of both tables (UNION ALL)
    ordered, cut to the page, then joined to their entry or history row."""
    branches = [
        source.keys(terms if after is None else [*terms, source.after(after)])
        for source, terms in wanted
    ]
    keys = branches[0] if len(branches) == 1 else union_all(*branches)
    cols = keys.selected_columns
    order = [cols.changed_at.desc(), cols.plate.desc()]
    if any(source.model is FlagHistory for source, _ in wanted):
        order.append(cols.row_id.desc())  # one plate may have two decisions at one instant
    page = keys.order_by(*order).limit(limit).offset(offset).subquery("page")
    is_entry = page.c.row_id == 0
    return (
        select(page.c.changed_at, page.c.plate, page.c.row_id, BlacklistEntry, FlagHistory)
        .select_from(page)
        .outerjoin(BlacklistEntry, and_(is_entry, BlacklistEntry.plate == page.c.plate))
        .outerjoin(FlagHistory, and_(~is_entry, FlagHistory.id == page.c.row_id))
        .order_by(page.c.changed_at.desc(), page.c.plate.desc(), page.c.row_id.desc())
    )


def _total(session: Session, sources: list[_Source], flt: FlagFilter) -> int:
    counts = [source.count(flt) for source in sources]
    total = counts[0] if len(counts) == 1 else counts[0] + counts[1]
    return int(session.scalar(select(total)) or 0)


def last_sightings(session: Session, plates: Iterable[str]) -> dict[str, tuple[datetime, str]]:
    """The newest read of each plate: ``plate -> (seen_at, lane)``."""
    wanted = sorted(set(plates))
    if not wanted:
        return {}
    newest = (
        select(PlateRead.plate, func.max(PlateRead.seen_at).label("seen_at"))
        .where(PlateRead.plate.in_(wanted))
        .group_by(PlateRead.plate)
        .subquery()
    )
    rows = session.execute(
        select(PlateRead.plate, PlateRead.seen_at, PlateRead.lane)
        .join(
            newest,
            and_(PlateRead.plate == newest.c.plate, PlateRead.seen_at == newest.c.seen_at),
        )
        .order_by(PlateRead.id)
    )
    return {plate: (seen_at, lane) for plate, seen_at, lane in rows}


def with_sightings(session: Session, items: list[dict[str, Any]]) -> list[FlagOut]:
    """Fill in ``last_seen_at`` / ``last_seen_lane`` and validate the API shape."""
    seen = last_sightings(session, (item["plate"] for item in items))
    out = []
    for item in items:
        when, lane = seen.get(item["plate"], (None, None))
        out.append(FlagOut.model_validate({**item, "last_seen_at": when, "last_seen_lane": lane}))
    return out


def page_flags(
    session: Session,
    flt: FlagFilter,
    *,
    limit: int,
    offset: int = 0,
    after: FlagCursor | None = None,
) -> FlagPage:
    """One page of flags matching ``flt``, newest change first, the total count and the
    cursor of the next page. ``after`` starts the page after that cursor (``offset``
    then skips rows from there).

    Filters, order, paging and the count all run in SQL, over the current flags and
    the decided ones at once (UNION ALL); only the page's rows are read in full.
    """
    wanted = [
        (source, terms) for source in _SOURCES if (terms := source.conditions(flt)) is not None
    ]
    if not wanted:
        return FlagPage([], 0, None)
    query = _page_query(wanted, limit=limit, offset=offset, after=after)
    items, last = [], None
    for changed_at, plate, row_id, entry, history in session.execute(query):
        if entry is not None:
            items.append(entry_flag(entry))
        elif history is not None:
            items.append(history_flag(history))
        last = FlagCursor(changed_at, plate, row_id)
    next_after = last if len(items) == limit else None
    total = _total(session, [source for source, _terms in wanted], flt)
    return FlagPage(with_sightings(session, items), total, next_after)


def list_flags(
    session: Session, flt: FlagFilter, *, limit: int, offset: int
) -> tuple[list[FlagOut], int]:
    """One page of flags matching ``flt``, newest change first, and the total count."""
    page = page_flags(session, flt, limit=limit, offset=offset)
    return page.items, page.total
