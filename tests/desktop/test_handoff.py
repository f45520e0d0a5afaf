"""consume_beside: a producer on the calling thread, a consumer on a helper thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from desktop.handoff import ProducerFailed, consume_beside


def test_every_item_reaches_the_consumer_in_order_on_another_thread() -> None:
    consumer_threads: set[str] = set()

    def consume(items: Iterator[int]) -> list[int]:
        consumer_threads.add(threading.current_thread().name)
        return list(items)

    assert consume_beside(consume, range(1000), depth=2, name="loader") == list(range(1000))
    assert consumer_threads == {"loader"}


def test_a_producer_failure_reaches_the_consumer_and_then_the_caller() -> None:
    consumer_saw: list[BaseException] = []

    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("page 3 failed")

    def consume(items: Iterator[int]) -> int:
        total = 0
        try:
            for item in items:
                total += item
        except ProducerFailed as exc:
            consumer_saw.append(exc)  # the consumer rolls back here
            raise
        return total

    with pytest.raises(ConnectionError, match="page 3 failed"):
        consume_beside(consume, produce())
    assert len(consumer_saw) == 1
    assert isinstance(consumer_saw[0].__cause__, ConnectionError)


def test_a_consumer_failure_stops_the_producer_and_reaches_the_caller() -> None:
    produced: list[int] = []

    def produce() -> Iterator[int]:
        for item in range(10_000):
            produced.append(item)
            yield item

    def consume(items: Iterator[int]) -> None:
        for item in items:
            if item == 5:
                raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        consume_beside(consume, produce(), depth=2)
    # The producer stopped soon after: the item being handed over and the queue's depth.
    assert len(produced) < 20
