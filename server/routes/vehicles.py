"""``GET /vehicles/{plate}/history``: a vehicle's sessions and arrears."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.booths import BoothIdentity
from server.deps import BoothCaller, SettingsDep
from server.models import BlacklistEntry
from server.plates import normalize_plate
from server.routes.common import PlateParam, api_router
from server.schemas import HistoryOut
from server.vehicles import open_sessions, session_out, sessions_for_plate, vehicle_status

router = api_router("/vehicles", tags=["vehicles"])


@router.get("/{plate}/history", response_model=HistoryOut)
async def history(plate: PlateParam, caller: BoothCaller, settings: SettingsDep) -> HistoryOut:
    """All sessions of a plate (normalized first); an unknown plate is ``clear``."""
    normalized = normalize_plate(plate)

    def work(session: Session, _booth: BoothIdentity) -> HistoryOut:
        rows = sessions_for_plate(session, plate=normalized) if normalized else []
        entry = session.get(BlacklistEntry, normalized) if normalized else None
        return HistoryOut(
            plate=normalized,
            currency=settings.currency,
            unpaid_cents=sum(row.unpaid_cents for row in open_sessions(rows)),
            blacklisted=entry is not None,
            status=vehicle_status(rows),  # type: ignore[arg-type]
            sessions=[session_out(row) for row in rows],
        )

    return await caller.read(work)
