"""The SQLite file itself: pragmas, schema in step with the models, indexed queries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, UniqueConstraint, event, inspect
from sqlalchemy.dialects import sqlite

from desktop.store import HEAD_VERSION, Store
from desktop.store.database import create_store_engine
from desktop.store.migrations import migrate
from desktop.store.models import Base
from tests.desktop.store.conftest import T0, remove, upsert


def test_file_is_in_wal_mode_with_foreign_keys_and_full_sync(store: Store) -> None:
    with store.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    assert pragma["journal_mode"] == "wal"
    assert pragma["foreign_keys"] == 1
    assert pragma["synchronous"] == 2  # FULL: a commit survives a power cut
    assert pragma["busy_timeout"] > 0
    assert store.schema_version() == HEAD_VERSION


def _describe(engine: Engine) -> dict[str, Any]:
    inspector = inspect(engine)
    described = {}
    for table in inspector.get_table_names():
        if table.startswith("sqlite_"):
            continue
        described[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], bool(c["primary_key"]))
                for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in inspector.get_foreign_keys(table)
            ),
        }
    return described


def _describe_models() -> dict[str, Any]:
    dialect = sqlite.dialect()
    described = {}
    for table in Base.metadata.sorted_tables:
        described[table.name] = {
            "columns": [
                (c.name, c.type.compile(dialect=dialect), c.nullable, c.primary_key)
                for c in table.columns
            ],
            "indexes": sorted(
                (i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes
            ),
            "unique": sorted(
                tuple(c.name for c in u.columns)
                for u in table.constraints
                if isinstance(u, UniqueConstraint)
            ),
            "foreign_keys": sorted(
                (
                    tuple(c.name for c in f.columns),
                    f.referred_table.name,
                    tuple(e.column.name for e in f.elements),
                )
                for f in table.foreign_key_constraints
            ),
        }
    return described


def test_migrated_schema_matches_the_models(store: Store) -> None:
    assert _describe(store.engine) == _describe_models()
    with store.engine.connect() as connection:
        near_sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'blacklist_near_keys'"
        ).scalar_one()
    assert "WITHOUT ROWID" in near_sql


def _captured_statements(engine: Engine, work: Callable[[], object]) -> list[tuple[str, Any]]:
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, executemany) -> None:  # type: ignore[no-untyped-def]
        captured.append((statement, parameters[0] if executemany else parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return [
        (sql, params)
        for sql, params in captured
        if sql.lstrip().split()[0].upper() in {"SELECT", "DELETE", "UPDATE"}
    ]


def test_every_lookup_and_sync_query_uses_an_index(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123"), upsert(2, "XYZ789")], cursor=2)

    def work() -> None:
        for read in ("ABC123", "A8C123", "ABC12", "ABC1234", "QQQ999"):
            store.blacklist.lookup(read)
        store.blacklist.get("ABC123")
        store.blacklist.apply_changes([remove(3, "XYZ789"), upsert(4, "ABC123")], cursor=4)
        store.settled_session_ids("ABC123")
        store.outbox.due(T0, limit=10)

    statements = _captured_statements(store.engine, work)
    assert len(statements) >= 10
    with store.engine.connect() as connection:
        for sql, parameters in statements:
            plan = [
                row[-1]
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
            ]
            # Scanning a partial index of pending rows only is what it is for.
            scans = [
                line
                for line in plan
                if line.startswith("SCAN") and "USING INDEX ix_outbox_pending" not in line
            ]
            assert not scans, (sql, plan)
            assert any("INDEX" in line or "PRIMARY KEY" in line for line in plan), (sql, plan)


def test_store_reopens_an_existing_file(store_path: Path) -> None:
    with Store(store_path) as first:
        first.blacklist.apply_changes([upsert(5, "ABC123")], cursor=5)
    with Store(store_path) as second:
        assert second.blacklist.cursor() == 5
        assert second.blacklist.get("abc-123") is not None


def test_migrate_is_idempotent(store_path: Path) -> None:
    engine = create_store_engine(store_path)
    try:
        assert migrate(engine) == HEAD_VERSION
        assert migrate(engine) == HEAD_VERSION
    finally:
        engine.dispose()
