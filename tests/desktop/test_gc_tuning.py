"""fewer_collections: thresholds raised for a bulk load, the process's own ones after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from desktop.gc_tuning import BULK_THRESHOLDS, fewer_collections


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def test_thresholds_are_raised_meanwhile_and_come_back_after_a_failure(
    thresholds: tuple[int, int, int],
) -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(OSError), fewer_collections():
        assert gc.get_threshold() == BULK_THRESHOLDS
        raise OSError("disk full")
    assert gc.get_threshold() == (700, 10, 10)


def test_higher_thresholds_someone_set_are_not_lowered(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(500_000, 10, 1_000)
    with fewer_collections():
        assert gc.get_threshold() == (500_000, 100, 1_000)
    assert gc.get_threshold() == (500_000, 10, 1_000)
