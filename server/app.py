"""The FastAPI application of the reference operator server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from server.config import ServerSettings
from server.db import PoolLimits, make_engine, make_session_factory
from server.db_workers import Admission, DatabaseWorkers
from server.errors import install_error_handlers
from server.evidence import evidence_root, purge_expired
from server.heap import freeze_startup_objects
from server.limits import BodySizeLimit
from server.migrate import upgrade_to_head
from server.overload import OverloadGate
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
from server.routes.common import API_PREFIX

logger = logging.getLogger(__name__)

# Bounds of every database wait on the request path (PostgreSQL; SQLite's busy timeout
# is in server.db): a request stuck behind a lock ends in seconds with 503, and SIGTERM
# is honoured within seconds whatever the load.
STATEMENT_TIMEOUT_MS = 5_000
LOCK_TIMEOUT_MS = 3_000
IDLE_IN_TRANSACTION_MS = 30_000


def per_process_connections(settings: ServerSettings) -> int:
    """This process's share of ``database_connections`` (also its database threads)."""
    return max(2, settings.database_connections // settings.workers)


def _request_engine(settings: ServerSettings) -> Engine:
    """The engine of the request path: one connection per database thread, and every
    wait for a lock bounded (see ``PoolLimits``)."""
    connections = per_process_connections(settings)
    return make_engine(
        settings.database_url,
        limits=PoolLimits(
            size=connections,
            # Start-up, seeding and tests use the engine outside the database threads.
            overflow=2,
            wait_s=10.0,
            pre_ping=False,
            statement_timeout_ms=STATEMENT_TIMEOUT_MS,
            lock_timeout_ms=LOCK_TIMEOUT_MS,
            idle_in_transaction_ms=IDLE_IN_TRANSACTION_MS,
        ),
    )


def prepare_database(settings: ServerSettings) -> None:
    """Migrate the database to head and purge expired evidence (once, before serving).

    Runs on an engine of its own without the request path's statement timeouts, since a
    migration may rewrite large tables.
    """
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with make_session_factory(engine)() as session:
            purge_expired(
                session,
                root=evidence_root(settings),
                retention_days=settings.evidence_retention_days,
            )
    finally:
        engine.dispose()


def create_app(
    settings: ServerSettings, *, prepare: bool = True, freeze_heap: bool = False
) -> FastAPI:
    """Build the app: (with ``prepare``) migrate the database and purge expired evidence,
    then mount the routers under ``/api/v1``. ``freeze_heap`` (a process that only
    serves) keeps the garbage collector off what exists at start-up.

    ``app.state`` holds ``settings``, ``engine``, ``database`` (the database threads) and
    ``session_factory`` (for start-up work and tests); the threads stop and the engine is
    disposed when the app shuts down. ``serve --workers N`` prepares the database once
    in the parent and builds each worker's app with ``prepare=False``.
    """
    if prepare:
        prepare_database(settings)
    engine = _request_engine(settings)
    database = DatabaseWorkers(
        engine,
        Admission(
            threads=per_process_connections(settings),
            max_queue=settings.max_queued_requests,
            max_wait_s=settings.max_queue_wait_s,
        ),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if freeze_heap:
            freeze_startup_objects()
        try:
            yield
        finally:
            database.close()
            engine.dispose()

    docs = settings.api_docs
    app = FastAPI(
        title="Recoup reference server",
        version="1",
        description=(
            "Parking history, blacklist feed, plate reads, recovery outcomes, QR "
            "payment intents (with a SANDBOX payment page), evidence images, waiver "
            "requests and the supervisor review API (flags, disputes, waivers, audit)."
        ),
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.database = database
    app.state.session_factory = make_session_factory(engine)
    install_error_handlers(app)
    for router in (
        ping.router,
        vehicles.router,
        blacklist.router,
        reads.router,
        outcomes.router,
        payments.router,
        waivers.booth_router,
        evidence.booth_router,
        supervisor_auth.router,
        supervisor_flags.router,
        supervisor_vehicles.router,
        waivers.supervisor_router,
        evidence.supervisor_router,
        audit.router,
    ):
        app.router.routes.extend(router.routes)  # full paths already (see api_router)
    if settings.sandbox_payments:
        app.include_router(sandbox.router)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        path_limits={API_PREFIX + evidence.EVIDENCE_PATH: settings.evidence_max_bytes},
    )
    # Added last, so it is the outermost: a full queue is answered before any work.
    app.add_middleware(OverloadGate, database=database)
    if settings.public_url is None and settings.sandbox_payments:
        logger.warning(
            "public_url is not set: QR payments are refused until it names the address "
            "drivers' phones reach this server at"
        )
    return app
