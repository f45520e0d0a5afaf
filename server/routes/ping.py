"""``GET /ping``: who am I, server time and the latest feed seq."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.blacklist import read_state
from server.booths import BoothIdentity
from server.db import utcnow
from server.deps import BoothCaller
from server.routes.common import api_router
from server.schemas import PingOut

router = api_router(tags=["ping"])


@router.get("/ping", response_model=PingOut)
async def ping(caller: BoothCaller) -> PingOut:
    """Check the token and the connection; tells the booth the latest change seq."""

    def work(session: Session, booth: BoothIdentity) -> PingOut:
        return PingOut(
            booth_id=booth.id, server_time=utcnow(), latest_seq=read_state(session).latest_seq
        )

    return await caller.read(work)
