"""App-level behaviour: body limit, OpenAPI, migrations, settings, seeding."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, inspect, select

from server.app import create_app
from server.config import ServerSettings
from server.models import BlacklistChange, ParkingSession
from server.plates import normalize_plate
from server.seed import seed_demo
from tests.server.helpers import API, read_body


def test_oversize_body_is_413(client: TestClient, auth_a: dict) -> None:
    body = read_body("ABC123", lane="x" * 70_000)
    response = client.post(f"{API}/reads", json=body, headers=auth_a)
    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "payload_too_large"


def test_chunked_oversize_body_is_413(client: TestClient, auth_a: dict) -> None:
    def chunks():
        for _ in range(20):
            yield b"x" * 4096

    response = client.post(
        f"{API}/reads",
        content=chunks(),
        headers={**auth_a, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_openapi_lists_the_paths(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["info"]["title"] == "Recoup reference server"
    assert set(doc["paths"]) >= {
        "/api/v1/ping",
        "/api/v1/vehicles/{plate}/history",
        "/api/v1/blacklist/changes",
        "/api/v1/blacklist",
        "/api/v1/reads",
        "/api/v1/outcomes",
    }
    assert "409" in doc["paths"]["/api/v1/outcomes"]["post"]["responses"]
    assert "410" in doc["paths"]["/api/v1/blacklist/changes"]["get"]["responses"]


def test_migrations_match_models_and_are_rerunnable(settings: ServerSettings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from server.models import Base

    first = create_app(settings)
    second = create_app(settings)  # running the migrations again is harmless
    engine = second.state.engine
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert tables >= {
            "lots",
            "booths",
            "parking_sessions",
            "blacklist_entries",
            "blacklist_changes",
            "server_state",
            "plate_reads",
            "outcomes",
            "payments",
            "alembic_version",
        }
        assert diff == []
    finally:
        first.state.engine.dispose()
        engine.dispose()


def test_seed_is_idempotent(app: FastAPI) -> None:
    with app.state.session_factory() as session:
        sessions = session.scalar(select(func.count()).select_from(ParkingSession))
        seed_demo(session)
        assert session.scalar(select(func.count()).select_from(ParkingSession)) == sessions
        assert session.scalar(select(func.count()).select_from(BlacklistChange)) == 2
    app.state.engine.dispose()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUP_SERVER_CURRENCY", "EUR")
    monkeypatch.setenv("RECOUP_SERVER_CHANGE_LOG_KEEP", "5")
    settings = ServerSettings()
    assert (settings.currency, settings.change_log_keep) == ("EUR", 5)
    assert all(f.description for f in ServerSettings.model_fields.values())
    with pytest.raises(ValidationError, match="surprise"):
        ServerSettings(surprise=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("abc-123", "ABC123"), ("ＡＢＣ　１２３", "ABC123"), ("京A·12345", "京A12345"), (" - ", "")],
)
def test_normalize_plate(raw: str, normalized: str) -> None:
    assert normalize_plate(raw) == normalized


def test_sqlite_commits_are_durable_across_a_power_cut(tmp_path) -> None:
    """WAL with synchronous=FULL: an acknowledged outcome is on disk, not only in the WAL
    cache that NORMAL may lose."""
    from server.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    try:
        with engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    finally:
        engine.dispose()
    assert (journal, synchronous) == ("wal", 2)  # 2 = FULL
