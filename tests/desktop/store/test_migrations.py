"""Upgrading a file written by an older booth, in place, without losing rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.plates import MatchTier, deletion_keys, equivalence_key
from desktop.store import HEAD_VERSION, SchemaTooNewError, Store
from desktop.store.blacklist import entry_row
from desktop.store.database import create_store_engine
from desktop.store.migrations import migrate
from tests.desktop.store.conftest import T0, make_entry

OLD_PLATES = ("ABC123", "京A12345", "7XYZ042", "AB8O0D")


def _make_version_1_file(path: Path) -> None:
    engine = create_store_engine(path)
    try:
        assert migrate(engine, target=1) == 1
        with engine.begin() as connection:
            for seq, plate in enumerate(OLD_PLATES, start=1):
                connection.execute(
                    text(
                        "INSERT INTO blacklist_entries (plate, equivalence_key, status,"
                        " unpaid_cents, currency, seq, updated_at, payload) VALUES"
                        " (:plate, :equivalence_key, :status, :unpaid_cents, :currency,"
                        " :seq, :updated_at, :payload)"
                    ),
                    entry_row(make_entry(plate), seq),
                )
            connection.execute(
                text("INSERT INTO sync_state (key, value) VALUES ('blacklist_cursor', '4')")
            )
            connection.execute(
                text(
                    "INSERT INTO plate_reads (read_id, lane, plate, confidence, source, seen_at)"
                    " VALUES ('r1', 'Exit 1', 'ABC123', 0.9, 'camera', '2025-03-01T08:00:00+00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO notices (notice_id, read_id, lane, read_plate, listed_plate, tier,"
                    " unpaid_cents, currency, sessions, source, cache_age_s, created_at) VALUES"
                    " ('n1', 'r1', 'Exit 1', 'ABC123', 'ABC123', 'exact', 1850, 'USD', '[]',"
                    " 'cache', 12.5, '2025-03-01T08:00:01+00:00')"
                )
            )
    finally:
        engine.dispose()


def test_a_version_1_file_is_upgraded_with_its_rows(store_path: Path) -> None:
    _make_version_1_file(store_path)
    with Store(store_path) as store:
        assert store.schema_version() == HEAD_VERSION
        assert store.blacklist.cursor() == 4
        assert store.blacklist.count() == len(OLD_PLATES)
        near = store.blacklist.lookup("ABC1234")
        assert [(h.entry.plate, h.match.tier, h.seq) for h in near] == [
            ("ABC123", MatchTier.NEAR, 1)
        ]
        assert [h.entry.plate for h in store.blacklist.lookup("京A1234")] == ["京A12345"]
        with store.engine.connect() as connection:
            read = connection.execute(
                text("SELECT plate, crop_path FROM plate_reads WHERE read_id = 'r1'")
            ).one()
            notice = connection.execute(
                text("SELECT listed_plate, cache_age_s, entry_seq FROM notices")
            ).one()
        assert tuple(read) == ("ABC123", None)
        assert tuple(notice) == ("ABC123", 12.5, None)


def test_the_sql_backfill_builds_the_same_near_keys_as_the_python_rule(
    store_path: Path,
) -> None:
    _make_version_1_file(store_path)
    with Store(store_path) as store, store.engine.connect() as connection:
        rows = connection.execute(text("SELECT key, plate FROM blacklist_near_keys")).all()
    expected = {
        (key, plate) for plate in OLD_PLATES for key in deletion_keys(equivalence_key(plate))
    }
    assert set(map(tuple, rows)) == expected


def test_rows_written_after_the_upgrade_sit_beside_the_old_ones(store_path: Path) -> None:
    _make_version_1_file(store_path)
    with Store(store_path) as store:
        store.blacklist.replace_all([make_entry("XYZ789", updated_at=T0)], cursor=9)
        assert store.blacklist.lookup("ABC123") == []
        assert [h.entry.plate for h in store.blacklist.lookup("XYZ78")] == ["XYZ789"]


def test_a_file_from_a_newer_booth_is_refused(store_path: Path) -> None:
    engine = create_store_engine(store_path)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"PRAGMA user_version = {HEAD_VERSION + 1}")
            connection.commit()
    finally:
        engine.dispose()
    with pytest.raises(SchemaTooNewError):
        Store(store_path)


def test_a_version_4_file_keeps_its_cache_and_finds_every_tier_without_the_key_index(
    store_path: Path,
) -> None:
    engine = create_store_engine(store_path)
    try:
        assert migrate(engine, target=4) == 4
        with engine.begin() as connection:
            for seq, plate in enumerate(OLD_PLATES, start=1):
                row = entry_row(make_entry(plate), seq)
                connection.execute(
                    text(
                        "INSERT INTO blacklist_entries (plate, equivalence_key, status,"
                        " unpaid_cents, currency, seq, updated_at, payload) VALUES"
                        " (:plate, :equivalence_key, :status, :unpaid_cents, :currency,"
                        " :seq, :updated_at, :payload)"
                    ),
                    row,
                )
                connection.execute(
                    text("INSERT INTO blacklist_near_keys (key, plate) VALUES (:key, :plate)"),
                    [{"key": key, "plate": plate} for key in deletion_keys(row["equivalence_key"])],
                )
            connection.execute(
                text("INSERT INTO sync_state (key, value) VALUES ('blacklist_cursor', '4')")
            )
    finally:
        engine.dispose()

    with Store(store_path) as store:
        with store.engine.connect() as connection:
            indexes = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                " AND tbl_name LIKE 'blacklist%'"
            ).all()
        assert indexes == []
        assert store.blacklist.cursor() == 4
        assert store.blacklist.count() == len(OLD_PLATES)
        tiers = {
            read: [(hit.entry.plate, hit.match.tier) for hit in store.blacklist.lookup(read)]
            for read in ("7XYZ042", "7XY2042", "A8O0D", "京A1234")
        }
        assert tiers == {
            "7XYZ042": [("7XYZ042", MatchTier.EXACT)],
            "7XY2042": [("7XYZ042", MatchTier.OCR_EQUIVALENT)],
            "A8O0D": [("AB8O0D", MatchTier.NEAR)],
            "京A1234": [("京A12345", MatchTier.NEAR)],
        }
        # A resync on the upgraded file swaps in new tables and keeps every tier.
        store.blacklist.replace_all([make_entry("XYZ789")], cursor=9)
        assert [h.match.tier for h in store.blacklist.lookup("XY2789")] == [
            MatchTier.OCR_EQUIVALENT
        ]
