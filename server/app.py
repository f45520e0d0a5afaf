"""The FastAPI application of the reference operator server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from server.config import ServerSettings
from server.db import make_engine, make_session_factory
from server.evidence import evidence_root, purge_expired
from server.limits import BodySizeLimit
from server.migrate import upgrade_to_head
from server.routes import (
    audit,
    blacklist,
    evidence,
    outcomes,
    payments,
    ping,
    reads,
    sandbox,
    supervisor_auth,
    supervisor_flags,
    supervisor_vehicles,
    vehicles,
    waivers,
)
from server.schemas import ErrorOut

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(settings: ServerSettings) -> FastAPI:
    """Build the app: migrate the database to head, purge expired evidence, mount the
    routers under ``/api/v1``.

    ``app.state`` holds ``settings``, ``engine`` and ``session_factory``; the engine is
    disposed when the app shuts down.
    """
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    session_factory = make_session_factory(engine)
    with session_factory() as session:
        purge_expired(
            session,
            root=evidence_root(settings),
            retention_days=settings.evidence_retention_days,
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Recoup reference server",
        version="1",
        description=(
            "Parking history, blacklist feed, plate reads, recovery outcomes, QR "
            "payment intents (with a SANDBOX payment page), evidence images, waiver "
            "requests and the supervisor review API (flags, disputes, waivers, audit)."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    api = APIRouter(
        prefix=API_PREFIX,
        responses={401: {"model": ErrorOut, "description": "missing or unknown token"}},
    )
    for module in (ping, vehicles, blacklist, reads, outcomes, payments):
        api.include_router(module.router)
    for router in (
        waivers.booth_router,
        evidence.booth_router,
        supervisor_auth.router,
        supervisor_flags.router,
        supervisor_vehicles.router,
        waivers.supervisor_router,
        evidence.supervisor_router,
        audit.router,
    ):
        api.include_router(router)
    app.include_router(api)
    if settings.sandbox_payments:
        app.include_router(sandbox.router)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        path_limits={API_PREFIX + evidence.EVIDENCE_PATH: settings.evidence_max_bytes},
    )
    return app
