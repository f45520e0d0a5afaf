"""Run the reference server (``serve``, ``ServerThread``) and its admin tasks.

Admin tasks: ``create_supervisor`` (also ``python -m server.supervisors add``) and
``purge_evidence`` (also ``python -m server.maintenance purge-evidence``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from server.accounts import create_supervisor_account
from server.app import create_app, prepare_database
from server.config import ServerSettings
from server.db import make_engine, make_session_factory
from server.evidence import evidence_root, purge_expired
from server.migrate import upgrade_to_head
from server.seed import seed_demo as seed_demo_data

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 15.0
POLL_S = 0.01
#: After SIGTERM, requests in flight get this long to finish; then connections are
#: closed, so the server stops within seconds whatever its load.
GRACEFUL_SHUTDOWN_S = 3
#: How ``serve --workers N`` hands its settings to the worker processes.
WORKER_SETTINGS_ENV = "RECOUP_HUB_WORKER_SETTINGS"


def seed_demo_database(settings: ServerSettings) -> None:
    """Add the idempotent demo data to the (migrated) database."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            seed_demo_data(session, currency=settings.currency)
    finally:
        engine.dispose()


def build_app(settings: ServerSettings, *, seed_demo: bool = False) -> FastAPI:
    """``create_app`` plus, when asked, the idempotent demo data."""
    app = create_app(settings)
    if seed_demo:
        with app.state.session_factory() as session:
            seed_demo_data(session, currency=settings.currency)
    return app


def create_supervisor(database_url: str, username: str, password: str, pin: str) -> None:
    """Create an active supervisor in the database (migrated first).

    ValueError for a taken username, a password under 8 characters or a PIN that is not
    4 to 12 digits.
    """
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine)
        with make_session_factory(engine)() as session:
            create_supervisor_account(session, username=username, password=password, pin=pin)
            session.commit()
    finally:
        engine.dispose()


def purge_evidence(settings: ServerSettings) -> int:
    """Delete evidence older than ``evidence_retention_days``; returns how many."""
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with make_session_factory(engine)() as session:
            return purge_expired(
                session,
                root=evidence_root(settings),
                retention_days=settings.evidence_retention_days,
            )
    finally:
        engine.dispose()


def serve(
    host: str,
    port: int,
    database_url: str,
    seed_demo: bool,
    *,
    workers: int = 1,
    public_url: str | None = None,
    access_log: bool = False,
) -> None:
    """Serve the API on ``host:port`` with ``workers`` processes until SIGTERM or Ctrl+C.

    The database is migrated (and seeded) once, here; each worker process then builds
    its own app and shares nothing with the others but the database. Other settings come
    from ``RECOUP_SERVER_*`` environment variables.
    """
    overrides: dict[str, object] = {"database_url": database_url, "workers": workers}
    if public_url is not None:
        overrides["public_url"] = public_url
    settings = ServerSettings(**overrides)  # type: ignore[arg-type]
    prepare_database(settings)
    if seed_demo:
        seed_demo_database(settings)
    logger.info(
        "Recoup arrears hub on http://%s:%d/api/v1 (%d worker process%s)",
        host,
        port,
        workers,
        "" if workers == 1 else "es",
    )
    options = {
        "host": host,
        "port": port,
        "log_level": "info",
        "ws": "none",
        "lifespan": "on",
        "access_log": access_log,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
    }
    if workers == 1:
        uvicorn.run(create_app(settings, prepare=False, freeze_heap=True), **options)  # type: ignore[arg-type]
        return
    os.environ[WORKER_SETTINGS_ENV] = settings.model_dump_json()
    uvicorn.run("server.cli:worker_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def worker_app() -> FastAPI:
    """The app of one ``serve --workers N`` process (the parent prepared the database)."""
    settings = ServerSettings.model_validate_json(os.environ[WORKER_SETTINGS_ENV])
    return create_app(settings, prepare=False, freeze_heap=True)


class ServerThread:
    """The server on a background thread (demo and tests); port 0 picks a free port."""

    def __init__(
        self,
        settings: ServerSettings | None = None,
        *,
        database_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed_demo: bool = False,
    ) -> None:
        """Build the app (migrating the database) and bind the socket; ``start`` serves.

        Pass either full ``settings`` or just a ``database_url``.
        """
        if settings is None:
            if database_url is None:
                raise TypeError("ServerThread needs settings or a database_url")
            settings = ServerSettings(database_url=database_url)
        elif database_url is not None:
            settings = settings.model_copy(update={"database_url": database_url})
        self._host = host
        self._socket = socket.create_server((host, port))
        self._port = self._socket.getsockname()[1]
        if settings.public_url is None:
            # QR codes on a local server point at the server itself (demo, tests).
            settings = settings.model_copy(update={"public_url": self.url})
        self.app = build_app(settings, seed_demo=seed_demo)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            ws="none",
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="recoup-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``http://127.0.0.1:54321`` (API under /api/v1)."""
        return f"http://{self._host}:{self._port}"

    def start(self) -> None:
        """Start serving and wait until uvicorn reports it has started."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("server thread died while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("server did not start in time")
            time.sleep(POLL_S)
        logger.info("reference server thread at %s", self.url)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread; the socket is closed."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=START_TIMEOUT_S)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
