"""Blacklist feed: delta changes since a seq, and the full snapshot for resyncs.

Both answers are assembled from the entry JSON stored with each row (it was validated
when it was published), so a page costs one query and one ``orjson.dumps``.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from server.blacklist import changes_after, entries_after, read_state
from server.booths import BoothIdentity
from server.deps import BoothCaller
from server.schemas import NO_NUL, SEQ_MAX, ChangesPage, ErrorOut, SnapshotPage

router = APIRouter(prefix="/blacklist", tags=["blacklist"])

CHANGES_LIMIT_MAX = 1000
SNAPSHOT_LIMIT_MAX = 5000


def _json(content: dict[str, Any]) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


@router.get(
    "/changes",
    response_model=ChangesPage,
    responses={410: {"model": ErrorOut, "description": "cursor too old: resync_required"}},
)
async def changes(
    caller: BoothCaller,
    since: Annotated[
        int, Query(ge=0, le=SEQ_MAX, description="last seq the booth has applied")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=CHANGES_LIMIT_MAX, description="page size")] = 500,
) -> Response:
    """Changes with seq > ``since`` in seq order; 410 when they were pruned."""

    def work(session: Session, _booth: BoothIdentity) -> dict[str, Any]:
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

    return _json(await caller.read(work))


@router.get("", response_model=SnapshotPage)
async def snapshot(
    caller: BoothCaller,
    after: Annotated[
        str, Query(max_length=32, pattern=NO_NUL, description="last plate of the previous page")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=SNAPSHOT_LIMIT_MAX, description="page size")] = 500,
) -> Response:
    """The full blacklist, keyset-paged by plate; ``as_of_seq`` is read before the rows."""

    def work(session: Session, _booth: BoothIdentity) -> dict[str, Any]:
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

    return _json(await caller.read(work))
