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
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    ScalarSelect,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from server.db import utcnow
from server.feed_publication import Pending, pending
from server.models import (
    STATE_ROW_ID,
    BlacklistEntry,
    FlagHistory,
    FlagLot,
    FlagLotCount,
    ParkingSession,
    PlateGram,
    PlateRead,
    ServerState,
)
from server.schemas import INT32_MAX, PLATE_MAX, FlagOut

CURRENT = ("active", "disputed")
HISTORY = ("cleared", "waived")
#: How many flags of each status there are (``server_state``, migration 0008).
COUNTERS: dict[str, InstrumentedAttribute[int]] = {
    "active": ServerState.active_flags,
    "disputed": ServerState.disputed_flags,
    "waived": ServerState.waived_flags,
    "cleared": ServerState.cleared_flags,
}
#: The plate search's pieces (``flag_plate_grams``): shorter needles scan the plates.
GRAM = 3


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
        """The cursor ``encode`` wrote; ValueError for anything else (a client sends it,
        so every value is checked against what the columns hold)."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            changed_at, plate, row_id = json.loads(raw)
            moment = datetime.fromisoformat(changed_at)
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC)
        except (ValueError, TypeError, OverflowError) as error:
            raise ValueError(f"not a flag cursor: {text!r}") from error
        if (
            moment.tzinfo is None
            or not isinstance(plate, str)
            or not 0 < len(plate) <= PLATE_MAX
            or "\x00" in plate
            or type(row_id) is not int
            or not 0 <= row_id <= INT32_MAX
        ):
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


# -- keeping the counters, flag_lots and the plate pieces in step -------------------------


@dataclass(frozen=True)
class FlagKeys:
    """What the flag list's counters and side tables hold of one flag."""

    plate: str
    status: str
    changed_at: datetime
    unpaid_cents: int
    lots: tuple[str, ...]
    #: 0 for a current flag (an entry), the history row's id for a decided one.
    row_id: int = 0

    @classmethod
    def of_entry(cls, entry: BlacklistEntry) -> FlagKeys:
        """The keys of a blacklist entry as it stands (its lots: those of its sessions)."""
        lots = {session["lot_id"] for session in entry.entry.get("sessions", [])}
        return cls(entry.plate, entry.status, entry.updated_at, entry.unpaid_cents, tuple(lots))

    def lot_rows(self) -> list[dict[str, Any]]:
        """This flag's ``flag_lots`` rows."""
        return [
            {
                "lot": lot,
                "changed_at": self.changed_at,
                "plate": self.plate,
                "row_id": self.row_id,
                "status": self.status,
                "unpaid_cents": self.unpaid_cents,
            }
            for lot in sorted(set(self.lots))
        ]


def plate_grams(plate: str) -> list[str]:
    """The distinct three-character pieces of ``plate`` (none when it is shorter)."""
    return sorted({plate[i : i + GRAM] for i in range(len(plate) - GRAM + 1)})


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _add_grams(session: Session, plate: str) -> None:
    """Make ``plate`` findable by the SQLite plate search (PostgreSQL indexes it itself)."""
    grams = plate_grams(plate)
    if grams and _is_sqlite(session):
        session.execute(
            sqlite.insert(PlateGram.__table__).on_conflict_do_nothing(),
            [{"gram": gram, "plate": plate} for gram in grams],
        )


def _drop_grams(session: Session, plate: str) -> None:
    """Forget ``plate``'s pieces once it has no entry (gone now) and no decided flag."""
    grams = plate_grams(plate)
    if grams and _is_sqlite(session):
        session.execute(
            delete(PlateGram.__table__).where(
                PlateGram.gram.in_(grams),
                PlateGram.plate == plate,
                ~exists().where(FlagHistory.plate == plate),
            )
        )


def entry_changed(
    session: Session, todo: Pending, *, before: FlagKeys | None, after: FlagKeys | None
) -> None:
    """Keep ``flag_lots`` and the plate pieces in step with one entry created (``before``
    None), changed, or removed (``after`` None) now, and the flag counters at commit
    (``todo``: they sit on the feed lock's row, see :mod:`server.feed_publication`)."""
    if before is not None:
        todo.count(COUNTERS[before.status].key, -1)
        for lot in set(before.lots):
            todo.count_lot(lot, before.status, -1)
        lots = FlagLot.__table__.c
        session.execute(
            delete(FlagLot.__table__).where(
                lots.lot.in_(sorted(set(before.lots))),
                lots.changed_at == before.changed_at,
                lots.plate == before.plate,
                lots.row_id == 0,
            )
        )
    if after is not None:
        todo.count(COUNTERS[after.status].key, +1)
        for lot in set(after.lots):
            todo.count_lot(lot, after.status, +1)
        if rows := after.lot_rows():
            session.execute(insert(FlagLot.__table__), rows)
    if before is None and after is not None:
        _add_grams(session, after.plate)
    elif after is None and before is not None:
        _drop_grams(session, before.plate)


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
    """Record that the flag over ``rows`` ended as ``status`` (cleared or waived).

    Its lots and plate pieces are written now; the decided flags' counters go up when
    the decision commits (:mod:`server.feed_publication`).
    """
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
    todo = pending(session)
    todo.count(COUNTERS[status].key, +1)
    for lot in set(item.lots):
        todo.count_lot(lot, status, +1)
    keys = FlagKeys(plate, status, item.decided_at, item.unpaid_cents, tuple(item.lots), item.id)
    if lot_rows := keys.lot_rows():
        session.execute(insert(FlagLot.__table__), lot_rows)
    _add_grams(session, plate)
    return item


# Rebuilding what the counters and side tables hold from the flags themselves: migration
# 0008 does it once; a tool that writes entries or decided flags in bulk, bypassing
# refresh_entry and add_history (bench/blacklist_fill.py), does it afterwards.
_LOTS_SQL = {
    "sqlite": (
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT json_extract(s.value, '$.lot_id'), e.updated_at, e.plate, 0,"
        " e.status, e.unpaid_cents"
        " FROM blacklist_entries AS e, json_each(e.entry, '$.sessions') AS s",
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT l.value, h.decided_at, h.plate, h.id, h.status, h.unpaid_cents"
        " FROM flag_history AS h, json_each(h.lots) AS l",
    ),
    "postgresql": (
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT s ->> 'lot_id', e.updated_at, e.plate, 0, e.status,"
        " e.unpaid_cents FROM blacklist_entries AS e,"
        " jsonb_array_elements(CAST(e.entry AS JSONB) -> 'sessions') AS s",
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT l, h.decided_at, h.plate, h.id, h.status, h.unpaid_cents"
        " FROM flag_history AS h, jsonb_array_elements_text(CAST(h.lots AS JSONB)) AS l",
    ),
}
_LOT_COUNTS_SQL = (
    "INSERT INTO flag_lot_counts (lot, status, flags)"
    " SELECT lot, status, count(*) FROM flag_lots GROUP BY lot, status"
)
_GRAMS_SQL = (
    "INSERT OR IGNORE INTO flag_plate_grams (gram, plate)"
    " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :last),"
    " p(plate) AS (SELECT plate FROM blacklist_entries UNION SELECT plate FROM flag_history)"
    " SELECT substr(p.plate, n.i, 3), p.plate FROM p, n WHERE n.i <= length(p.plate) - 2"
    " ORDER BY 1, 2"
)


def rebuild_flag_index(connection: Connection) -> None:
    """Recount the flags per status and refill ``flag_lots`` and the plate pieces from
    the blacklist entries and the decided flags. The caller commits."""
    dialect = connection.dialect.name
    connection.execute(
        update(ServerState)
        .where(ServerState.id == STATE_ROW_ID)
        .values(
            {
                counter: select(func.count())
                .select_from(model)
                .where(model.status == status)
                .scalar_subquery()
                for status, counter in COUNTERS.items()
                for model in [BlacklistEntry if status in CURRENT else FlagHistory]
            }
        )
    )
    connection.execute(delete(FlagLot.__table__))
    for statement in _LOTS_SQL[dialect]:
        connection.execute(text(statement))
    connection.execute(delete(FlagLotCount.__table__))
    connection.execute(text(_LOT_COUNTS_SQL))
    connection.execute(delete(PlateGram.__table__))
    if dialect == "sqlite":
        connection.execute(text(_GRAMS_SQL), {"last": PLATE_MAX - GRAM + 1})


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


# -- the list's query -------------------------------------------------------------------


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


@dataclass(frozen=True)
class _PlateSearch:
    """The plate filter (the plate contains ``needle``) as each database finds it fast."""

    needle: str
    sqlite: bool

    @property
    def indexed(self) -> bool:
        """True when an index finds the few plates that contain the needle: it has a
        three-character piece (SQLite's ``flag_plate_grams``, PostgreSQL's pg_trgm)."""
        return len(self.needle) >= GRAM

    def term(self, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        """``column`` contains the needle."""
        if not self.sqlite:
            # LIKE, which the pg_trgm index serves (case-sensitive on PostgreSQL).
            return column.contains(self.needle, autoescape=True)
        found = TextPosition(column, self.needle) > 0
        if not self.indexed:  # one or two characters: every plate is read
            return found
        # Plates that have every piece of the needle, then the exact test on those few.
        grams = plate_grams(self.needle)
        having_all = (
            select(PlateGram.plate)
            .where(PlateGram.gram.in_(grams))
            .group_by(PlateGram.plate)
            .having(func.count() == len(grams))
        )
        return and_(column.in_(having_all), found)


@dataclass(frozen=True)
class _Source:
    """One table the list draws from: current flags (entries), decided ones (history),
    or both at once through ``flag_lots`` when a lot is asked for."""

    model: type[BlacklistEntry] | type[FlagHistory] | type[FlagLot]
    statuses: tuple[str, ...]
    changed_at: InstrumentedAttribute[datetime]
    #: The history row's id; a literal 0 for entries, whose plate is already unique.
    row_id: ColumnElement[int]

    def wanted(self, flt: FlagFilter) -> list[str]:
        """The statuses of ``flt`` that live in this table."""
        return [status for status in self.statuses if status in flt.statuses]

    def keys(
        self, flt: FlagFilter, search: _PlateSearch | None, after: FlagCursor | None
    ) -> Select[Any]:
        """The sort keys of the rows matching ``flt`` (after ``after``), in an order an
        index follows: (changed_at, plate, row_id)."""
        terms = [*self._status_terms(self.wanted(flt)), *self._filters(flt, search)]
        if after is not None:
            terms.append(self._after(after))
        return select(
            self.model.plate.label("plate"),
            self.changed_at.label("changed_at"),
            self.row_id.label("row_id"),
        ).where(*terms)

    def count(self, flt: FlagFilter, search: _PlateSearch | None) -> ScalarSelect[int]:
        """How many rows of this table match ``flt``."""
        terms = [*self._status_terms(self.wanted(flt)), *self._filters(flt, search)]
        return select(func.count()).select_from(self.model).where(*terms).scalar_subquery()

    def _status_terms(self, statuses: list[str]) -> list[ColumnElement[bool]]:
        # Every status of the table wanted: no term at all (a CHECK constraint allows no
        # other), so the order's index serves the page.
        if set(statuses) == set(self.statuses):
            return []
        return [self.model.status.in_(statuses)]

    def _filters(self, flt: FlagFilter, search: _PlateSearch | None) -> list[ColumnElement[bool]]:
        model = self.model
        terms: list[ColumnElement[bool]] = []
        if flt.lot:
            terms.append(FlagLot.lot == flt.lot if model is FlagLot else self._in_lot(flt.lot))
        if search is not None:
            terms.append(search.term(model.plate))
        if flt.min_cents is not None:
            terms.append(model.unpaid_cents >= flt.min_cents)
        if flt.since is not None:
            terms.append(self.changed_at >= flt.since)
        return terms

    def _in_lot(self, lot: str) -> ColumnElement[bool]:
        """One of the flag's sessions is in ``lot``: its ``flag_lots`` row, found by its
        whole key (for the few flags a plate search found)."""
        model = self.model
        return exists().where(
            FlagLot.lot == lot,
            FlagLot.changed_at == self.changed_at,
            FlagLot.plate == model.plate,
            FlagLot.row_id == self.row_id,
        )

    def _after(self, cursor: FlagCursor) -> ColumnElement[bool]:
        """Rows that come after ``cursor`` in the list's order (the order's index seeks
        to them): (changed_at, plate, row_id) below the cursor's, all descending."""
        if self.model is not BlacklistEntry:
            return tuple_(self.changed_at, self.model.plate, self.row_id) < tuple_(
                cursor.changed_at, cursor.plate, cursor.row_id
            )
        # An entry's row id is 0: after a decision of its own plate at the same instant
        # (row id > 0) it still comes, after an entry it does not.
        mine = tuple_(BlacklistEntry.updated_at, BlacklistEntry.plate)
        theirs = tuple_(cursor.changed_at, cursor.plate)
        return mine <= theirs if cursor.row_id > 0 else mine < theirs


_ENTRIES = _Source(BlacklistEntry, CURRENT, BlacklistEntry.updated_at, literal(0, Integer))
_HISTORY = _Source(FlagHistory, HISTORY, FlagHistory.decided_at, FlagHistory.id)
_LOTS = _Source(FlagLot, CURRENT + HISTORY, FlagLot.changed_at, FlagLot.row_id)


def _sources(flt: FlagFilter, search: _PlateSearch | None) -> list[_Source]:
    """The tables the list reads for ``flt``: the entries and the decided flags, or
    ``flag_lots`` for a lot, unless an indexed plate search finds fewer flags than the
    lot has (then each of those is looked up in ``flag_lots``)."""
    by_lot = bool(flt.lot) and not (search is not None and search.indexed)
    candidates = (_LOTS,) if by_lot else (_ENTRIES, _HISTORY)
    return [source for source in candidates if source.wanted(flt)]


def _page_query(
    branches: list[Select[Any]], *, row_ids: bool, limit: int, offset: int
) -> Select[Any]:
    """The page's rows, newest change first: the sort keys of every table (UNION ALL)
    ordered, cut to the page, then joined to their entry or history row. ``row_ids``:
    decided flags may be among them (one plate may have two decisions at one instant)."""
    keys = branches[0] if len(branches) == 1 else union_all(*branches)
    cols = keys.selected_columns
    order = [cols.changed_at.desc(), cols.plate.desc()]
    if row_ids:
        order.append(cols.row_id.desc())
    page = keys.order_by(*order).limit(limit).offset(offset).subquery("page")
    is_entry = page.c.row_id == 0
    return (
        select(page.c.changed_at, page.c.plate, page.c.row_id, BlacklistEntry, FlagHistory)
        .select_from(page)
        .outerjoin(BlacklistEntry, and_(is_entry, BlacklistEntry.plate == page.c.plate))
        .outerjoin(FlagHistory, and_(~is_entry, FlagHistory.id == page.c.row_id))
        .order_by(page.c.changed_at.desc(), page.c.plate.desc(), page.c.row_id.desc())
    )


def _total(
    session: Session, flt: FlagFilter, search: _PlateSearch | None, sources: list[_Source]
) -> int:
    """How many flags match ``flt``: the counters of its statuses when nothing else
    narrows the list (in its lot, when it names one), else counted in SQL."""
    statuses = list(dict.fromkeys(flt.statuses))
    narrowed = flt.plate or flt.min_cents is not None or flt.since is not None
    if not narrowed and not flt.lot:
        counters = [COUNTERS[status] for status in statuses]
        row = session.execute(select(*counters).where(ServerState.id == STATE_ROW_ID)).one()
        return sum(row)
    if not narrowed:
        in_lot = select(func.coalesce(func.sum(FlagLotCount.flags), 0)).where(
            FlagLotCount.lot == flt.lot, FlagLotCount.status.in_(statuses)
        )
        return int(session.scalar(in_lot) or 0)
    counts = [source.count(flt, search) for source in sources]
    return sum(session.execute(select(*counts)).one())


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

    Filters, order and paging run in SQL, over the current flags and the decided ones
    at once (UNION ALL), or over ``flag_lots`` for a lot; only the page's rows are read
    in full. The total is exact: the per-status counters of ``server_state`` (or of
    ``flag_lot_counts``, for a lot) when nothing else narrows the list, else a count in
    SQL.
    """
    search = _PlateSearch(flt.plate, _is_sqlite(session)) if flt.plate else None
    sources = _sources(flt, search)
    if not sources:
        return FlagPage([], 0, None)
    branches = [source.keys(flt, search, after) for source in sources]
    row_ids = any(source.model is not BlacklistEntry for source in sources)
    query = _page_query(branches, row_ids=row_ids, limit=limit, offset=offset)
    items, last = [], None
    for changed_at, plate, row_id, entry, history in session.execute(query):
        if entry is not None:
            items.append(entry_flag(entry))
        elif history is not None:
            items.append(history_flag(history))
        last = FlagCursor(changed_at, plate, row_id)
    next_after = last if len(items) == limit else None
    total = _total(session, flt, search, sources)
    return FlagPage(with_sightings(session, items), total, next_after)


def list_flags(
    session: Session, flt: FlagFilter, *, limit: int, offset: int
) -> tuple[list[FlagOut], int]:
    """One page of flags matching ``flt``, newest change first, and the total count."""
    page = page_flags(session, flt, limit=limit, offset=offset)
    return page.items, page.total
