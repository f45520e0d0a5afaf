"""``GET /ping``: who am I, server time and the latest feed seq."""

from __future__ import annotations

from fastapi import APIRouter

from server.blacklist import read_state
from server.db import utcnow
from server.deps import BoothDep, SessionDep
from server.schemas import PingOut

router = APIRouter(tags=["ping"])


@router.get("/ping", response_model=PingOut)
def ping(booth: BoothDep, session: SessionDep) -> PingOut:
    """Check the token and the connection; tells the booth the latest change seq."""
    return PingOut(
        booth_id=booth.id, server_time=utcnow(), latest_seq=read_state(session).latest_seq
    )
