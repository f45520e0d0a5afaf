"""A full resync loads the snapshot beside the live cache in batches and swaps it in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.domain import BlacklistEntry
from desktop.plates import MatchTier, deletion_keys, equivalence_key
from desktop.store import Store, blacklist_load, near_key_runs
from desktop.store.blacklist import entry_row, store_time
from desktop.store.times import to_db_time
from tests.desktop.store.conftest import make_entry, remove, upsert

OLD = ("OLD1111", "ABC123", "京A12345")


def _tiers(store: Store, read: str) -> dict[str, MatchTier]:
    return {hit.entry.plate: hit.match.tier for hit in store.blacklist.lookup(read)}


def _plates(count: int, prefix: str = "N") -> list[str]:
    return [f"{prefix}{number:06d}" for number in range(count)]


def _table_names(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 3 entries, near-key runs of 5 entries, chunks of 7 rows: many commits
    and several runs to merge in every test."""
    monkeypatch.setattr(blacklist_load, "BATCH", 3)
    monkeypatch.setattr(near_key_runs, "RUN", 5)
    monkeypatch.setattr(near_key_runs, "CHUNK", 7)


@pytest.fixture
def listed(store: Store) -> Store:
    """A store whose cache holds the OLD plates at cursor 5."""
    store.blacklist.apply_changes([upsert(seq, p) for seq, p in enumerate(OLD, 1)], cursor=5)
    return store


@pytest.mark.usefixtures("small_batches")
def test_a_snapshot_failing_on_a_later_page_keeps_the_old_cache_and_cursor(listed: Store) -> None:
    def pages() -> Iterator[BlacklistEntry]:
        for plate in _plates(20):  # several batches committed before the failure
            yield make_entry(plate)
        raise ConnectionError("page 3 failed")

    with pytest.raises(ConnectionError, match="page 3 failed"):
        listed.blacklist.replace_all(pages(), cursor=99)

    assert listed.blacklist.cursor() == 5
    assert listed.blacklist.count() == len(OLD)
    assert _tiers(listed, "ABC123") == {"ABC123": MatchTier.EXACT}
    assert _tiers(listed, "京A1234") == {"京A12345": MatchTier.NEAR}
    assert listed.blacklist.lookup("N000003") == []
    assert not any(name.endswith(("_stage", "_old")) for name in _table_names(listed))


@pytest.mark.usefixtures("small_batches")
def test_lookups_read_the_old_cache_until_the_swap(listed: Store) -> None:
    seen_while_loading: list[tuple[int, dict[str, MatchTier], list[object]]] = []

    def pages() -> Iterator[BlacklistEntry]:
        for number, plate in enumerate(_plates(30)):
            if number == 20:  # six batches of the new cache are committed by now
                seen_while_loading.append(
                    (
                        listed.blacklist.count(),
                        _tiers(listed, "0LD1111"),
                        listed.blacklist.lookup("N000003"),
                    )
                )
            yield make_entry(plate)

    assert listed.blacklist.replace_all(pages(), cursor=77) == 30

    assert seen_while_loading == [(len(OLD), {"OLD1111": MatchTier.OCR_EQUIVALENT}, [])]
    assert listed.blacklist.cursor() == 77
    assert listed.blacklist.count() == 30
    assert listed.blacklist.lookup("OLD1111") == []
    assert _tiers(listed, "N000003")["N000003"] is MatchTier.EXACT


def test_every_tier_and_later_changes_work_on_the_swapped_in_cache(listed: Store) -> None:
    listed.blacklist.replace_all(
        (make_entry(plate) for plate in sorted(("XYZ789", "AB8O0D", "粤B12345", "7XYZ042"))),
        cursor=40,
    )
    assert _tiers(listed, "XYZ789") == {"XYZ789": MatchTier.EXACT}
    assert _tiers(listed, "A8BO0D") == {"AB8O0D": MatchTier.OCR_EQUIVALENT}
    assert _tiers(listed, "粤B1234") == {"粤B12345": MatchTier.NEAR}
    assert [hit.seq for hit in listed.blacklist.lookup("7XYZ042")] == [40]

    listed.blacklist.apply_changes([remove(41, "XYZ789"), upsert(42, "KLM456")], cursor=42)
    assert listed.blacklist.lookup("XYZ78") == []
    assert _tiers(listed, "KLM4S6") == {"KLM456": MatchTier.OCR_EQUIVALENT}
    assert listed.blacklist.count() == 4


def test_an_empty_snapshot_empties_the_cache(listed: Store) -> None:
    assert listed.blacklist.replace_all(iter(()), cursor=12) == 0
    assert listed.blacklist.count() == 0
    assert listed.blacklist.cursor() == 12
    assert listed.blacklist.lookup("ABC123") == []


def test_a_plate_listed_twice_in_a_snapshot_keeps_its_last_entry(store: Store) -> None:
    entries = [make_entry("ABC123", 100), make_entry("abc-123", 250), make_entry("XYZ789")]
    assert store.blacklist.replace_all(entries, cursor=3) == 2
    assert [hit.entry.unpaid_cents for hit in store.blacklist.lookup("ABC123")] == [250]


def test_a_resync_after_one_that_was_cut_off_starts_clean(listed: Store) -> None:
    # A booth switched off mid-resync leaves a half-filled stage (and possibly the old
    # tables of a finished swap) behind; the next resync must not trip over them.
    with listed.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE blacklist_entries_stage AS SELECT * FROM blacklist_entries"
        )
        connection.exec_driver_sql("CREATE TABLE blacklist_near_keys_old (key, plate)")
    assert listed.blacklist.replace_all([make_entry("XYZ789")], cursor=9) == 1
    assert listed.blacklist.get("ABC123") is None
    assert _tiers(listed, "XYZ78") == {"XYZ789": MatchTier.NEAR}
    assert not any(name.endswith(("_stage", "_old")) for name in _table_names(listed))


def test_the_wal_holds_a_batch_not_the_whole_snapshot(
    monkeypatch: pytest.MonkeyPatch, store: Store, store_path: Path
) -> None:
    monkeypatch.setattr(blacklist_load, "BATCH", 500)
    monkeypatch.setattr(blacklist_load, "BULK_CHECKPOINT_PAGES", 500)  # 2 MB
    monkeypatch.setattr(near_key_runs, "RUN", 4_000)
    monkeypatch.setattr(near_key_runs, "CHUNK", 5_000)
    wal = store_path.with_name(store_path.name + "-wal")
    largest_wal = 0

    def pages() -> Iterator[BlacklistEntry]:
        nonlocal largest_wal
        for plate in _plates(20_000):
            largest_wal = max(largest_wal, wal.stat().st_size if wal.exists() else 0)
            yield make_entry(plate)

    assert store.blacklist.replace_all(pages(), cursor=1) == 20_000
    largest_wal = max(largest_wal, wal.stat().st_size)
    # In one transaction the WAL would have grown past the whole file (about 11 MB).
    assert largest_wal < store_path.stat().st_size / 2


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_resync_rows_keep_the_stores_time_text(moment: datetime) -> None:
    # Outbox times compare as text in SQL: every writer must produce the same width.
    assert store_time(moment) == to_db_time(moment)


def test_resync_rows_refuse_a_time_without_offset_and_keep_the_entry_json() -> None:
    with pytest.raises(ValueError, match="naive"):
        store_time(datetime(2025, 3, 1, 8, 0))
    listed = make_entry("京A12345", 1850)
    row = entry_row(listed, 7)
    assert row["payload"] == listed.model_dump_json()
    assert BlacklistEntry.model_validate_json(row["payload"]) == listed
    assert (row["plate"], row["status"], row["seq"]) == ("京A12345", "active", 7)


@pytest.mark.usefixtures("small_batches")
def test_near_keys_merged_from_many_runs_are_exactly_the_python_rule(store: Store) -> None:
    plates = [*_plates(30, "Q"), "京A12345", "AB8O0D", "Q000003", "7XYZ042", "Q000011"]
    assert store.blacklist.replace_all((make_entry(p) for p in plates), cursor=3) == 33

    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT key, plate FROM blacklist_near_keys").all()
    expected = {(key, p) for p in plates for key in deletion_keys(equivalence_key(p))}
    assert sorted(map(tuple, rows)) == sorted(expected)  # each once, none missing


def test_after_a_resync_every_connection_syncs_each_commit_again(store: Store) -> None:
    # The load relaxes fsyncs on its own connections; an outcome recorded afterwards on
    # any pooled connection must survive a power cut as before.
    store.blacklist.replace_all((make_entry(plate) for plate in _plates(50)), cursor=1)
    connections = [store.engine.connect() for _ in range(4)]
    try:
        settings = {
            (
                c.exec_driver_sql("PRAGMA synchronous").scalar_one(),
                c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one(),
            )
            for c in connections
        }
    finally:
        for c in connections:
            c.close()
    assert settings == {(2, 1000)}  # FULL, the default checkpoint interval
