"""The offline supervisor login cache: PIN checked against the cached hash, for a while."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.config import SupervisorSettings
from desktop.supervisor_pin import hash_pin
from desktop.supervisor_session import (
    CACHE_FILE,
    OfflineLoginRefused,
    SupervisorSessionCache,
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(tmp_path: Path, clock: Clock) -> SupervisorSessionCache:
    return SupervisorSessionCache(tmp_path / "booth", clock=clock)


def test_offline_hours_setting_defaults_to_twelve() -> None:
    assert SupervisorSettings().offline_hours == 12
    assert SupervisorSettings.model_fields["offline_hours"].description


def test_a_cached_supervisor_logs_in_offline_with_the_pin(
    cache: SupervisorSessionCache, clock: Clock
) -> None:
    cache.remember("Super", hash_pin("1234"))
    clock.now += timedelta(hours=11, minutes=59)
    who = cache.offline_login("super", "1234", max_age_hours=12)
    assert who.username == "super"
    assert who.valid_until == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert cache.cached_usernames() == ["super"]


def test_wrong_pin_unknown_user_and_expired_cache_are_refused(
    cache: SupervisorSessionCache, clock: Clock
) -> None:
    cache.remember("super", hash_pin("1234"))
    with pytest.raises(OfflineLoginRefused) as wrong:
        cache.offline_login("super", "9999", max_age_hours=12)
    assert wrong.value.reason == "wrong_pin"
    with pytest.raises(OfflineLoginRefused) as unknown:
        cache.offline_login("nobody", "1234", max_age_hours=12)
    assert unknown.value.reason == "unknown"
    clock.now += timedelta(hours=12)
    with pytest.raises(OfflineLoginRefused) as expired:
        cache.offline_login("super", "1234", max_age_hours=12)
    assert expired.value.reason == "expired"
    assert cache.offline_login("super", "1234", max_age_hours=24).username == "super"


def test_a_new_online_login_renews_the_cache_and_it_survives_a_restart(
    tmp_path: Path, clock: Clock
) -> None:
    first = SupervisorSessionCache(tmp_path, clock=clock)
    first.remember("super", hash_pin("1234"))
    clock.now += timedelta(hours=20)
    first.remember("super", hash_pin("5678"))
    clock.now += timedelta(hours=1)
    again = SupervisorSessionCache(tmp_path, clock=clock)
    assert again.offline_login("super", "5678", max_age_hours=12).username == "super"
    with pytest.raises(OfflineLoginRefused):
        again.offline_login("super", "1234", max_age_hours=12)
    stored = json.loads((tmp_path / CACHE_FILE).read_text(encoding="utf-8"))
    assert set(stored["super"]) == {"offline_pin_hash", "cached_at"}
    assert "5678" not in (tmp_path / CACHE_FILE).read_text(encoding="utf-8")


def test_a_damaged_cache_file_lets_nobody_in(tmp_path: Path, clock: Clock) -> None:
    (tmp_path / CACHE_FILE).write_text("{not json", encoding="utf-8")
    cache = SupervisorSessionCache(tmp_path, clock=clock)
    with pytest.raises(OfflineLoginRefused) as refused:
        cache.offline_login("super", "1234", max_age_hours=12)
    assert refused.value.reason == "unknown"
    cache.remember("super", hash_pin("1234"))
    assert cache.offline_login("super", "1234", max_age_hours=12).username == "super"
