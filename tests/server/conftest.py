"""Fixtures: a fresh database per test (SQLite file, or PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from starlette.exceptions import StarletteDeprecationWarning

from server.app import create_app
from server.config import ServerSettings
from server.seed import seed_demo

with warnings.catch_warnings():
    # Starlette 1.10 prefers httpx2 for its TestClient; httpx 0.28 (pinned) still works.
    warnings.filterwarnings(
        "ignore",
        message=r"Using `httpx` with `starlette\.testclient` is deprecated",
        category=StarletteDeprecationWarning,
    )
    from fastapi.testclient import TestClient

POSTGRES_ENV = "RECOUP_TEST_POSTGRES_URL"
TOKEN_A = "demo-booth-a-token"
TOKEN_B = "demo-booth-b-token"
INSUFFICIENT_PRIVILEGE = "42501"


def _drop_database(admin: Engine, name: str) -> None:
    """Drop ``name``, ending any connection a test left open.

    ``WITH (FORCE)`` refuses when an autovacuum worker happens to be on the
    database (it belongs to no role the test role may signal); a plain DROP
    stops autovacuum workers itself, so it is the fallback.
    """
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def _postgres_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named database next to ``admin_url``'s and drop it afterwards."""
    url = make_url(admin_url)
    name = f"recoup_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        _drop_database(admin, name)
    finally:
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV}")
    yield from _postgres_database(admin_url)


@pytest.fixture
def settings(database_url: str) -> ServerSettings:
    """Settings pointing at the fresh database (QR links on the TestClient's host)."""
    return ServerSettings(database_url=database_url, public_url="http://testserver")


@pytest.fixture
def app(settings: ServerSettings) -> Iterator[FastAPI]:
    """The app on a migrated database seeded with the demo data."""
    app = create_app(settings)
    with app.state.session_factory() as session:
        seed_demo(session, currency=settings.currency)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A TestClient (lifespan running, so the engine is disposed afterwards)."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth_a() -> dict[str, str]:
    """Headers of demo booth A."""
    return {"Authorization": f"Bearer {TOKEN_A}"}


@pytest.fixture
def auth_b() -> dict[str, str]:
    """Headers of demo booth B."""
    return {"Authorization": f"Bearer {TOKEN_B}"}
