"""``GET /supervisor/vehicles/{plate}``: a vehicle's file for review."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, status
from sqlalchemy.orm import Session

from server.deps import SettingsDep, SupervisorCaller
from server.models import SupervisorToken
from server.plates import normalize_plate
from server.routes.common import SUPERVISOR_RESPONSES, PlateParam, api_router
from server.schemas import ErrorOut, VehicleFileOut
from server.settlement import api_error
from server.vehicle_file import vehicle_file

router = api_router("/supervisor", tags=["supervisor"], responses=SUPERVISOR_RESPONSES)


@router.get(
    "/vehicles/{plate}",
    response_model=VehicleFileOut,
    responses={404: {"model": ErrorOut, "description": "unknown_vehicle"}},
)
async def get_vehicle_file(
    plate: PlateParam,
    caller: SupervisorCaller,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=500, description="cap of each list")] = 100,
) -> VehicleFileOut:
    """Sessions, sightings with evidence, outcomes, waiver requests, flags and audit rows."""
    normalized = normalize_plate(plate)

    def work(session: Session, _login: SupervisorToken) -> VehicleFileOut | None:
        if not normalized:
            return None
        return vehicle_file(session, plate=normalized, currency=settings.currency, limit=limit)

    found = await caller.read(work)
    if found is None:
        raise api_error(
            "unknown_vehicle",
            f"nothing is known about {normalized or plate!r}",
            http_status=status.HTTP_404_NOT_FOUND,
        )
    return found
