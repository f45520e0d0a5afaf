"""The blacklist cache: change pages with their cursor, resyncs, three-tier lookup."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.domain import BlacklistChange, BlacklistEntry, EntryStatus
from desktop.plates import MatchTier, match
from desktop.store import Store
from tests.desktop.store.conftest import T0, make_entry, remove, upsert


def _tiers(store: Store, read: str) -> dict[str, MatchTier]:
    return {hit.entry.plate: hit.match.tier for hit in store.blacklist.lookup(read)}


def test_new_store_has_no_cursor_and_no_sync_time(store: Store) -> None:
    assert store.blacklist.cursor() == 0
    assert store.blacklist.last_synced_at() is None
    assert store.blacklist.count() == 0


def test_changes_are_applied_with_their_cursor(store: Store) -> None:
    applied = store.blacklist.apply_changes(
        [upsert(1, "ABC123"), upsert(2, "XYZ789", unpaid_cents=500), remove(3, "ABC123")],
        cursor=3,
    )
    assert applied == 3
    assert store.blacklist.cursor() == 3
    assert store.blacklist.get("ABC123") is None
    listed = store.blacklist.get("xyz-789")
    assert listed is not None
    assert listed.unpaid_cents == 500
    assert listed.sessions[0].lot_name == "North Garage"
    assert store.blacklist.count() == 1


def test_a_failure_mid_page_keeps_the_old_rows_and_cursor(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123")], cursor=1)

    def page() -> Iterator[BlacklistChange]:
        yield remove(2, "ABC123")
        yield upsert(3, "XYZ789")
        raise ConnectionError("page fetch failed")

    with pytest.raises(ConnectionError):
        store.blacklist.apply_changes(page(), cursor=3)
    assert store.blacklist.cursor() == 1
    assert store.blacklist.get("ABC123") is not None
    assert store.blacklist.get("XYZ789") is None
    assert [hit.entry.plate for hit in store.blacklist.lookup("ABC12")] == ["ABC123"]


def test_an_invalid_change_rolls_the_page_back(store: Store) -> None:
    broken = upsert(2, "XYZ789").model_copy(update={"entry": None})  # skips validation
    with pytest.raises(ValueError, match="carries no entry"):
        store.blacklist.apply_changes([upsert(1, "ABC123"), broken], cursor=2)
    assert store.blacklist.cursor() == 0
    assert store.blacklist.count() == 0


def test_a_replayed_page_is_skipped_and_the_cursor_never_goes_back(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123"), remove(2, "ABC123")], cursor=2)
    assert store.blacklist.apply_changes([upsert(1, "ABC123")], cursor=1) == 0
    assert store.blacklist.get("ABC123") is None
    assert store.blacklist.cursor() == 2


def test_an_upsert_replaces_the_entry_and_its_seq(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123", unpaid_cents=100)], cursor=1)
    store.blacklist.apply_changes(
        [upsert(5, "ABC123", unpaid_cents=900, status=EntryStatus.DISPUTED)], cursor=5
    )
    (hit,) = store.blacklist.lookup("ABC123")
    assert hit.seq == 5
    assert hit.entry.unpaid_cents == 900
    assert hit.entry.status is EntryStatus.DISPUTED


def test_replace_all_swaps_the_whole_cache(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "OLD111"), upsert(2, "ABC123")], cursor=2)
    stored = store.blacklist.replace_all(
        (make_entry(plate) for plate in ("ABC123", "京A12345", "7XYZ042")), cursor=40
    )
    assert stored == 3
    assert store.blacklist.cursor() == 40
    assert store.blacklist.count() == 3
    assert store.blacklist.get("OLD111") is None
    assert store.blacklist.lookup("OLD11") == []
    assert [hit.seq for hit in store.blacklist.lookup("京A12345")] == [40]


def test_replace_all_changes_nothing_when_the_snapshot_fails(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123")], cursor=1)

    def pages() -> Iterator[BlacklistEntry]:
        yield make_entry("XYZ789")
        yield make_entry("7XYZ042")
        raise ConnectionError("page 2 failed")

    with pytest.raises(ConnectionError):
        store.blacklist.replace_all(pages(), cursor=99)
    assert store.blacklist.cursor() == 1
    assert store.blacklist.count() == 1
    assert _tiers(store, "ABC123") == {"ABC123": MatchTier.EXACT}
    assert store.blacklist.get("XYZ789") is None


def test_sync_time_round_trips_in_utc(store: Store) -> None:
    store.blacklist.record_sync(T0 + timedelta(minutes=5))
    assert store.blacklist.last_synced_at() == T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("read", "tier"),
    [
        ("ABC123", MatchTier.EXACT),
        ("abc 123", MatchTier.EXACT),
        ("A8C123", MatchTier.OCR_EQUIVALENT),
        ("A8C1Z3", MatchTier.OCR_EQUIVALENT),
        ("ABC12", MatchTier.NEAR),
        ("ABC1234", MatchTier.NEAR),
        ("ABX123", MatchTier.NEAR),
        ("A8C1234", MatchTier.NEAR),
    ],
)
def test_lookup_finds_each_tier_and_reports_it(store: Store, read: str, tier: MatchTier) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123"), upsert(2, "XYZ789")], cursor=2)
    hits = store.blacklist.lookup(read)
    assert [(hit.entry.plate, hit.match.tier) for hit in hits] == [("ABC123", tier)]
    assert hits[0].seq == 1
    assert hits[0].match.needs_check is (tier is not MatchTier.EXACT)


@pytest.mark.parametrize(
    "read", ["QWE987", "ABD", "XBC12Z", "", "---", "ABC12345", "BAC123", "ABC"]
)
def test_unrelated_plates_are_not_found(store: Store, read: str) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123"), upsert(2, "XYZ")], cursor=2)
    assert store.blacklist.lookup(read) == []


def test_hits_come_strongest_tier_first(store: Store) -> None:
    store.blacklist.apply_changes(
        [upsert(1, "ABC1234"), upsert(2, "A8C123"), upsert(3, "ABC123")], cursor=3
    )
    hits = store.blacklist.lookup("ABC123")
    assert [(h.entry.plate, h.match.tier) for h in hits] == [
        ("ABC123", MatchTier.EXACT),
        ("A8C123", MatchTier.OCR_EQUIVALENT),
        ("ABC1234", MatchTier.NEAR),
    ]


def test_a_removed_entry_is_not_found_in_any_tier(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "ABC123")], cursor=1)
    store.blacklist.apply_changes([remove(2, "ABC123")], cursor=2)
    for read in ("ABC123", "A8C123", "ABC12", "ABC1234"):
        assert store.blacklist.lookup(read) == []
    with store.engine.connect() as connection:
        left = connection.exec_driver_sql(
            "SELECT count(*) FROM blacklist_near_keys WHERE plate = 'ABC123'"
        ).scalar_one()
    assert left == 0


def test_cjk_plates_match_in_all_tiers(store: Store) -> None:
    store.blacklist.apply_changes([upsert(1, "京A12345")], cursor=1)
    assert _tiers(store, "京A12345") == {"京A12345": MatchTier.EXACT}
    assert _tiers(store, "京A1234S") == {"京A12345": MatchTier.OCR_EQUIVALENT}
    assert _tiers(store, "京A1234") == {"京A12345": MatchTier.NEAR}
    assert _tiers(store, "A12345") == {"京A12345": MatchTier.NEAR}


plates = st.text(alphabet=string.ascii_uppercase + string.digits + "京沪", min_size=1, max_size=10)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plate=plates)
def test_any_applied_entry_is_found_exactly_by_its_own_plate(store: Store, plate: str) -> None:
    seq = store.blacklist.cursor() + 1
    store.blacklist.apply_changes([upsert(seq, plate)], cursor=seq)
    hits = store.blacklist.lookup(plate)
    assert hits[0].entry.plate == plate
    assert hits[0].match.tier is MatchTier.EXACT
    assert hits[0].seq == seq


# A small alphabet full of look-alikes, so reads often sit near several listed plates.
confusable = st.text(alphabet="AB8O0DQ1IS5Z2", min_size=3, max_size=8)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    listed=st.sets(confusable, min_size=1, max_size=25),
    reads=st.lists(confusable, min_size=1, max_size=10),
)
def test_lookup_agrees_with_matching_every_listed_plate(
    store: Store, listed: set[str], reads: list[str]
) -> None:
    seq = store.blacklist.cursor() + 1
    store.blacklist.replace_all((make_entry(plate) for plate in sorted(listed)), cursor=seq)
    for read in reads:
        expected = {}
        for plate in listed:
            found = match(read, plate)
            if found is not None:
                expected[plate] = found.tier
        assert _tiers(store, read) == expected, read
