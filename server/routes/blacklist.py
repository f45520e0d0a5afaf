"""Blacklist feed: delta changes since a seq, and the full snapshot for resyncs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from server.blacklist import changes_after, entries_after, read_state
from server.deps import BoothDep, SessionDep
from server.schemas import ChangesPage, ErrorOut, SnapshotPage

router = APIRouter(prefix="/blacklist", tags=["blacklist"])

Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]


@router.get(
    "/changes",
    response_model=ChangesPage,
    responses={410: {"model": ErrorOut, "description": "cursor too old: resync_required"}},
)
def changes(
    _booth: BoothDep,
    session: SessionDep,
    since: Annotated[int, Query(ge=0, description="last seq the booth has applied")] = 0,
    limit: Limit = 500,
) -> dict[str, Any]:
    """Changes with seq > ``since`` in seq order; 410 when they were pruned."""
    state = read_state(session)
    if since < state.pruned_seq:
        raise HTTPException(
            status_code=status.HTTP_410_GONE,
            detail={
                "code": "resync_required",
                "message": (
                    f"changes up to seq {state.pruned_seq} were pruned; "
                    "fetch the full blacklist and continue from its as_of_seq"
                ),
                "latest_seq": state.latest_seq,
            },
        )
    rows = changes_after(session, since=since, limit=limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {
        "changes": [
            {"seq": row.seq, "plate": row.plate, "action": row.action, "entry": row.entry}
            for row in rows
        ],
        "next_since": rows[-1].seq if rows else since,
        "has_more": has_more,
        "latest_seq": max(state.latest_seq, rows[-1].seq if rows else 0),
    }


@router.get("", response_model=SnapshotPage)
def snapshot(
    _booth: BoothDep,
    session: SessionDep,
    after: Annotated[str, Query(max_length=32, description="last plate of the previous page")] = "",
    limit: Limit = 500,
) -> dict[str, Any]:
    """The full blacklist, keyset-paged by plate; ``as_of_seq`` is read before the rows."""
    as_of_seq = read_state(session).latest_seq
    rows = entries_after(session, after=after, limit=limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {
        "entries": [row.entry for row in rows],
        "as_of_seq": as_of_seq,
        "next_after": rows[-1].plate if rows else None,
        "has_more": has_more,
    }
