"""Blacklist feed: delta changes since a seq, and the full snapshot for resyncs.

Both answers splice the entry JSON text stored with each row (validated when it was
published) into the page as it is: a page of thousands of entries is one query and a
join of strings, nothing decoded or encoded again.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from server.blacklist import changes_after, entries_after, read_state
from server.booths import BoothIdentity
from server.deps import BoothCaller
from server.routes.common import api_router
from server.schemas import NO_NUL, SEQ_MAX, ChangesPage, ErrorOut, SnapshotPage

router = api_router("/blacklist", tags=["blacklist"])

CHANGES_LIMIT_MAX = 1000
SNAPSHOT_LIMIT_MAX = 5000


#: A snapshot page stops early past this many bytes of entries (the booth refuses answers
#: over 8 MiB; an entry with many sessions is several kilobytes).
SNAPSHOT_MAX_BYTES = 4 * 1024 * 1024


def _page(items_key: str, items: list[bytes], fields: dict[str, Any]) -> Response:
    """``{items_key: [items...], **fields}`` from items that are JSON text already."""
    head = b'{"' + items_key.encode() + b'":[' + b",".join(items) + b"],"
    tail = orjson.dumps(fields)[1:]  # the fields' object without its opening brace
    return Response(head + tail, media_type="application/json")


def _text(value: str | None) -> bytes:
    return b"null" if value is None else value.encode("utf-8")


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

    def work(session: Session, _booth: BoothIdentity) -> Response:
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
        changes = [
            orjson.dumps({"seq": row.seq, "plate": row.plate, "action": row.action})[:-1]
            + b',"entry":'
            + _text(row.entry_json)
            + b"}"
            for row in rows
        ]
        return _page(
            "changes",
            changes,
            {
                "next_since": rows[-1].seq if rows else since,
                "has_more": has_more,
                "latest_seq": max(state.latest_seq, rows[-1].seq if rows else 0),
            },
        )

    return await caller.read(work)


@router.get("", response_model=SnapshotPage)
async def snapshot(
    caller: BoothCaller,
    after: Annotated[
        str, Query(max_length=32, pattern=NO_NUL, description="last plate of the previous page")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=SNAPSHOT_LIMIT_MAX, description="page size")] = 500,
) -> Response:
    """The full blacklist, keyset-paged by plate; ``as_of_seq`` is read before the rows.

    A page may hold fewer than ``limit`` entries (then ``has_more`` is true) when they
    pass ``SNAPSHOT_MAX_BYTES``.
    """

    def work(session: Session, _booth: BoothIdentity) -> Response:
        as_of_seq = read_state(session).latest_seq
        rows = entries_after(session, after=after, limit=limit + 1)
        entries: list[bytes] = []
        size = 0
        for row in rows[:limit]:
            if entries and size > SNAPSHOT_MAX_BYTES:
                break
            entries.append(_text(row.entry_json))
            size += len(entries[-1])
        has_more = len(rows) > len(entries)
        last = rows[len(entries) - 1].plate if entries else None
        return _page(
            "entries",
            entries,
            {"as_of_seq": as_of_seq, "next_after": last, "has_more": has_more},
        )

    return await caller.read(work)
