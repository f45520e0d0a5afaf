"""``/supervisor/flags`` and ``/supervisor/disputes``: review flags and decide on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from server.decisions import dismiss_flag, resolve_dispute
from server.deps import SettingsDep, SupervisorCaller
from server.flags import CURRENT, FlagCursor, FlagFilter, page_flags
from server.models import SupervisorToken
from server.plates import normalize_plate
from server.routes.common import SUPERVISOR_RESPONSES, Limit, Offset, PlateParam, api_router
from server.schemas import (
    CENTS_MAX,
    NO_NUL,
    DismissOut,
    EntryOut,
    ErrorOut,
    FlagsPage,
    FlagStatus,
    IsoDateTime,
    ReasonIn,
    ResolveIn,
    ResolveOut,
)

router = api_router("/supervisor", tags=["supervisor"], responses=SUPERVISOR_RESPONSES)

#: A page's ``next_after``: where the next page starts.
AfterParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=512,  # a cursor of a 32-character CJK plate is about 340
        pattern="^[A-Za-z0-9_-]+$",
        description="the `next_after` of the page before: the next page, however deep",
    ),
]


def _cursor(after: str | None) -> FlagCursor | None:
    """The decoded ``after``; 422 ``invalid_request`` (as any bad query) when it is not a
    ``next_after`` this server wrote."""
    if after is None:
        return None
    try:
        return FlagCursor.decode(after)
    except ValueError as error:
        problem = {"loc": ("query", "after"), "msg": "not a next_after", "type": "value_error"}
        raise RequestValidationError([problem]) from error


@router.get("/flags", response_model=FlagsPage)
async def flags(
    *,
    caller: SupervisorCaller,
    lot: Annotated[
        str | None, Query(max_length=64, pattern=NO_NUL, description="a session in this lot")
    ] = None,
    min_cents: Annotated[
        int | None, Query(ge=0, le=CENTS_MAX, description="unpaid_cents at least")
    ] = None,
    since: Annotated[
        IsoDateTime | None, Query(description="changed (listed, decided) at or after")
    ] = None,
    status: Annotated[
        FlagStatus | None, Query(description="default: active and disputed (listed now)")
    ] = None,
    plate: Annotated[str | None, Query(max_length=32, description="plate contains")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    after: AfterParam = None,
) -> FlagsPage:
    """Flagged vehicles, newest change first; ``waived`` / ``cleared`` are decided flags.
    ``after`` (a page's ``next_after``) starts after that page, ``offset`` skips rows."""
    flt = FlagFilter(
        statuses=(status,) if status else CURRENT,
        lot=lot or None,
        min_cents=min_cents,
        since=since,
        plate=normalize_plate(plate or "") or None,
    )
    cursor = _cursor(after)

    def work(session: Session, _login: SupervisorToken) -> FlagsPage:
        page = page_flags(session, flt, limit=limit, offset=offset, after=cursor)
        return FlagsPage(
            items=page.items,
            total=page.total,
            limit=limit,
            offset=offset,
            next_after=None if page.next_after is None else page.next_after.encode(),
        )

    return await caller.read(work)


@router.post(
    "/flags/{plate}/dismiss",
    response_model=DismissOut,
    responses={
        404: {"model": ErrorOut, "description": "no_flag: the plate is not listed"},
        409: {"model": ErrorOut, "description": "already_cleared"},
    },
)
async def dismiss(
    plate: PlateParam, body: ReasonIn, caller: SupervisorCaller, settings: SettingsDep
) -> DismissOut:
    """Dismiss a flag as a false positive: sessions untouched, entry removed for every booth."""
    normalized = normalize_plate(plate)

    def work(session: Session, login: SupervisorToken) -> DismissOut:
        history, row = dismiss_flag(
            session,
            plate=normalized,
            reason=body.reason,
            supervisor=login.supervisor,
            settings=settings,
        )
        session.commit()
        return DismissOut(
            plate=normalized,
            status="cleared",
            session_ids=history.session_ids,
            unpaid_cents=history.unpaid_cents,
            audit_id=row.id,
        )

    return await caller.write(work)


@router.post(
    "/disputes/{plate}/resolve",
    response_model=ResolveOut,
    responses={409: {"model": ErrorOut, "description": "no_dispute"}},
)
async def resolve(
    plate: PlateParam, body: ResolveIn, caller: SupervisorCaller, settings: SettingsDep
) -> ResolveOut:
    """Upheld: the disputed sessions are waived. Rejected: they owe again (entry active)."""
    normalized = normalize_plate(plate)

    def work(session: Session, login: SupervisorToken) -> ResolveOut:
        ids, entry, row = resolve_dispute(
            session,
            plate=normalized,
            decision=body.decision,
            reason=body.reason,
            supervisor=login.supervisor,
            settings=settings,
        )
        session.commit()
        return ResolveOut(
            plate=normalized,
            decision=body.decision,
            session_ids=ids,
            entry=None if entry is None else EntryOut.model_validate(entry.entry),
            audit_id=row.id,
        )

    return await caller.write(work)
