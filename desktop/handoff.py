"""Produce on this thread while a helper thread consumes: downloads beside disk writes.

A full resync fetches pages from the server and writes them to the store. Done in turn,
the booth idles while the server prepares a page and the server idles while the booth
writes one; :func:`consume_beside` overlaps the two with a small bounded queue between
them, so memory holds at most ``depth`` items besides the two being worked on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_POLL_S = 0.1  # how often a blocked producer checks whether the consumer gave up


class ProducerFailed(Exception):  # noqa: N818 - it is what the consumer sees, not an error
    """Raised inside the consumer's iterator when the producer failed (to roll back)."""


class _End:
    """Sent after the last item; ``error`` is the producer's failure, if any."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def consume_beside(
    consume: Callable[[Iterator[T]], R],
    items: Iterable[T],
    *,
    depth: int = 2,
    name: str = "consumer",
) -> R:
    """Run ``consume(iterator)`` on a helper thread while this thread iterates ``items``.

    Returns what ``consume`` returns. If producing fails, the consumer's iterator raises
    :class:`ProducerFailed` (from the producer's exception) so it can clean up, and the
    producer's exception is raised here once the consumer has finished. If ``consume``
    fails, producing stops and its exception is raised here.
    """
    handoff: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
    finished = threading.Event()
    outcome: dict[str, object] = {}

    def feed() -> Iterator[T]:
        while True:
            item = handoff.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise ProducerFailed(str(item.error)) from item.error
                return
            yield item

    def work() -> None:
        try:
            outcome["result"] = consume(feed())
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            finished.set()

    helper = threading.Thread(target=work, name=name, daemon=True)
    helper.start()
    try:
        for item in items:
            if not _put(handoff, item, finished):
                break
        else:
            _put(handoff, _End(), finished)
    except BaseException as exc:
        _put(handoff, _End(exc), finished)
        helper.join()
        raise
    helper.join()
    if "error" in outcome:
        error = outcome["error"]
        assert isinstance(error, BaseException)
        raise error
    return outcome["result"]  # type: ignore[return-value]


def _put(handoff: queue.Queue[T | _End], item: T | _End, finished: threading.Event) -> bool:
    """Queue ``item``; False when the consumer finished (or failed) and takes no more."""
    while not finished.is_set():
        try:
            handoff.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False
