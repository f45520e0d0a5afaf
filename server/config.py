"""Typed settings of the reference operator server (environment prefix ``RECOUP_SERVER_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServerSettings(BaseSettings):
    """Settings of the reference server; every field can come from ``RECOUP_SERVER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RECOUP_SERVER_", extra="forbid")

    database_url: str = Field(
        default="sqlite:///recoup-server.sqlite3",
        description=(
            "SQLAlchemy database URL: 'sqlite:///path/to/file.sqlite3' or "
            "'postgresql+psycopg://user:password@host:5432/dbname'."
        ),
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "How many server processes share the database ('serve --workers N' sets it); "
            "each process gets its share of database_connections."
        ),
    )
    database_connections: int = Field(
        default=8,
        ge=2,
        le=1000,
        description=(
            "Database connections of all server processes together: each of the 'workers' "
            "processes gets max(2, database_connections // workers) connections and as many "
            "database threads (keep the total under PostgreSQL's max_connections). A few per "
            "process are enough: the threads of one process share one interpreter lock."
        ),
    )
    max_queued_requests: int = Field(
        default=64,
        ge=0,
        description=(
            "Requests one server process lets wait for a database thread; beyond that it "
            "answers 503 overloaded with Retry-After at once."
        ),
    )
    max_queue_wait_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description=(
            "A request that waited this long for a database thread is answered 503 "
            "overloaded (with Retry-After) instead of being served late."
        ),
    )
    api_docs: bool = Field(
        default=True,
        description=(
            "Serve the API documentation (/docs, /redoc) and the OpenAPI document "
            "(/openapi.json); turn off on a server reachable from outside."
        ),
    )
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 currency code of every amount the server reports.",
    )
    change_log_keep: int = Field(
        default=100_000,
        ge=1,
        description=(
            "How many blacklist change rows to keep (up to 1% more between prunes); older "
            "ones are pruned and booths whose cursor is older get 410 resync_required."
        ),
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest accepted request body in bytes; larger bodies get 413.",
    )
    payment_intent_lifetime_s: int = Field(
        default=600,
        ge=0,
        description=(
            "How long a QR payment intent can be paid, in seconds, counted from its "
            "creation; afterwards it reads as 'expired'. 0 makes intents expire at once "
            "(tests)."
        ),
    )
    sandbox_payments: bool = Field(
        default=True,
        description=(
            "Serve the SANDBOX payment page /sandbox/pay/{intent_id} that a driver's phone "
            "opens from the QR code: it marks the intent paid without moving real money. "
            "When false, the sandbox pages answer 404 and new intents get 503 "
            "qr_unavailable (the reference server has no other payment provider)."
        ),
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description=(
            "Base URL a driver's phone can reach this server at (e.g. "
            "'https://pay.example.com'), the only source of the pay_url in a QR code. "
            "Unset: QR payments are refused (503 qr_unavailable)."
        ),
    )
    supervisor_token_lifetime_s: int = Field(
        default=12 * 3600,
        ge=0,
        description=(
            "How long a supervisor's login token is valid, in seconds (default 12 h); "
            "afterwards requests get 401 token_expired. 0 makes tokens expire at once (tests)."
        ),
    )
    supervisor_login_max_failures: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed logins for one username from one address within "
            "supervisor_login_window_s after which that address gets 429 too_many_attempts "
            "(with Retry-After) for that username, without a password check, until the "
            "oldest of those failures leaves the window. Other addresses are not affected."
        ),
    )
    supervisor_login_max_failures_per_source: int = Field(
        default=20,
        ge=1,
        description=(
            "Failed logins from one address, whatever the usernames, within "
            "supervisor_login_window_s after which that address gets 429 for every username."
        ),
    )
    supervisor_login_window_s: int = Field(
        default=15 * 60,
        ge=1,
        description="The window of the supervisor login rate limit, in seconds (default 15 min).",
    )
    evidence_dir: Path | None = Field(
        default=None,
        description=(
            "Folder where evidence JPEGs are stored; default: an 'evidence' folder next to "
            "the SQLite database file, or the user data folder of 'recoup-server' otherwise."
        ),
    )
    evidence_max_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Largest accepted evidence upload in bytes; larger ones get 413.",
    )
    evidence_retention_days: int = Field(
        default=90,
        ge=1,
        description=(
            "Evidence older than this many days (counted from its upload) is deleted, files "
            "and rows, at start-up and by 'python -m server.maintenance purge-evidence'."
        ),
    )
