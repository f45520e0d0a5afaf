"""Shared pieces of the booth-core tests: a hand-moved clock, API paths, a client."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from desktop.client import ServerClient
from desktop.store import Store

TOKEN = "tok-9b1e5c3a7d2f4e6a8c0b1d3f5a7c9e2b"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
READS_PATH = "/api/v1/reads"
OUTCOMES_PATH = "/api/v1/outcomes"
CHANGES_PATH = "/api/v1/blacklist/changes"
SNAPSHOT_PATH = "/api/v1/blacklist"


class ManualClock:
    """A clock the test moves by hand (shared by the store and the services)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def make_client(url: str) -> ServerClient:
    """A booth client with short timeouts and no retries, so failures show at once."""
    return ServerClient(
        url,
        TOKEN,
        booth_id="booth-a",
        connect_timeout_s=1.0,
        read_timeout_s=2.0,
        retries=0,
        backoff_s=0.01,
    )


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: the server is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def record_camera_read(store: Store, plate: str, seen_at: datetime) -> uuid.UUID:
    """Record a camera read of ``plate`` at Exit 1 seen at ``seen_at``; returns its id."""
    read_id = uuid.uuid4()
    assert store.record_read(
        read_id=read_id,
        lane="Exit 1",
        plate=plate,
        confidence=0.9,
        source="camera",
        seen_at=seen_at,
    )
    return read_id


def rows(store: Store, sql: str, **params: object) -> list[dict[str, object]]:
    """What the booth's SQLite file really holds."""
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql), params)]


def session_json(session_id: int, cents: int) -> dict[str, object]:
    """An unpaid parking session as the server sends it."""
    return {
        "id": session_id,
        "lot_id": "north",
        "lot_name": "North Garage",
        "entered_at": "2025-02-26T08:00:00+00:00",
        "exited_at": "2025-02-26T10:00:00+00:00",
        "fee_cents": cents,
        "paid_cents": 0,
        "unpaid_cents": cents,
        "status": "unpaid",
    }


def recorded(request: dict) -> dict[str, object]:
    """The server's answer to an outcome it records: everything asked for is settled."""
    return {
        "outcome_id": request["outcome_id"],
        "status": "recorded",
        "collected_cents": request["amount_cents"],
        "settled_session_ids": request["session_ids"],
        "message": "recorded",
    }
