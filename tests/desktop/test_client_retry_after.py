"""A busy server (429 or 503 with Retry-After / ``overloaded``) as the client reports it.

Against a real HTTP server on 127.0.0.1: the client must not retry a busy answer on its
own (the server asked for quiet), and must hand the wait to its caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from desktop.client import ServerClient, ServerUnavailable, parse_retry_after
from tests.desktop.booth_support import CHANGES_PATH, OUTCOMES_PATH, TOKEN
from tests.desktop.hostile_server import HostileServer, json_answer, raw

OVERLOADED = {"detail": {"code": "overloaded", "message": "212 requests are waiting"}}


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def client(server: HostileServer) -> Iterator[ServerClient]:
    """A client that retries twice, as the booth's does."""
    with ServerClient(server.url, TOKEN, retries=2, backoff_s=0.01) as c:
        yield c


def outcome_payload() -> dict[str, object]:
    return {
        "outcome_id": str(uuid.uuid4()),
        "notice_id": str(uuid.uuid4()),
        "plate": "ABC123",
        "lane": "Exit 1",
        "kind": "paid",
        "method": "cash",
        "amount_cents": 1850,
        "session_ids": [7],
        "reason": None,
        "reference": None,
        "attendant": "alice",
        "recorded_at": "2025-03-01T08:00:00+00:00",
    }


def test_an_overloaded_503_is_busy_with_its_retry_after_and_is_not_retried(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "POST",
        OUTCOMES_PATH,
        json_answer(OVERLOADED, status=503, headers={"Retry-After": "12"}),
    )

    with pytest.raises(ServerUnavailable) as caught:
        client.post_outcome(outcome_payload())

    busy = caught.value
    assert busy.busy and busy.status == 503 and busy.code == "overloaded"
    assert busy.retry_after_s == 12
    assert "retry after 12 s" in str(busy)
    assert server.count("POST", OUTCOMES_PATH) == 1  # the keyed POST is not retried


def test_a_429_with_an_http_date_is_busy_until_that_date(
    server: HostileServer, client: ServerClient
) -> None:
    later = datetime.now(UTC).timestamp() + 90
    header = format_datetime(datetime.fromtimestamp(later, UTC), usegmt=True)
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer({"detail": "slow down"}, status=429, headers={"Retry-After": header}),
    )

    with pytest.raises(ServerUnavailable) as caught:
        client.blacklist_changes(0)

    assert caught.value.busy and caught.value.status == 429
    assert caught.value.retry_after_s is not None and 0 < caught.value.retry_after_s <= 90
    assert server.count("GET", CHANGES_PATH) == 1


def test_an_overloaded_503_without_retry_after_is_busy_too(
    server: HostileServer, client: ServerClient
) -> None:
    server.on("GET", CHANGES_PATH, json_answer(OVERLOADED, status=503))

    with pytest.raises(ServerUnavailable) as caught:
        client.blacklist_changes(0)

    assert caught.value.busy and caught.value.retry_after_s is None
    assert server.count("GET", CHANGES_PATH) == 1


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (503, b"no healthy upstream", {}),  # a proxy: nothing said about when
        (500, b'{"detail": "Internal Server Error"}', {"Retry-After": "12"}),
    ],
    ids=["plain 503", "500 with Retry-After"],
)
def test_other_server_errors_are_not_busy_and_are_retried(
    server: HostileServer,
    client: ServerClient,
    status: int,
    body: bytes,
    headers: dict[str, str],
) -> None:
    server.on("GET", CHANGES_PATH, raw(status, body, headers=headers))

    with pytest.raises(ServerUnavailable) as caught:
        client.blacklist_changes(0)

    assert not caught.value.busy and caught.value.retry_after_s is None
    assert server.count("GET", CHANGES_PATH) == 3  # one attempt and two retries


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("12", 12.0),
        (" 0 ", 0.0),
        ("Sun, 01 Mar 2026 08:01:30 GMT", 90.0),
        ("Sun, 01 Mar 2026 07:59:00 GMT", 0.0),  # already passed
        ("9999999999", 86400.0),  # capped at a day
        ("", None),
        ("-5", None),
        ("soon", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header: str, seconds: float | None) -> None:
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(header, now=now) == seconds
