"""Blacklist pages are parsed and validated from their bytes, as strictly as any answer.

The snapshot and change pages go through pydantic's JSON parser in one pass (they are
the booth's biggest answers); these tests hold that path to the client's contract: it
validates what it receives and refuses what is not valid JSON of the right shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from desktop.client import MalformedResponse, ServerClient
from desktop.domain import SNAPSHOT_MAX_LIMIT
from tests.desktop.hostile_server import HostileServer, json_answer, raw
from tests.desktop.test_client import CHANGES_PATH, ENTRY, PING, PING_PATH, make_client

SNAPSHOT_PATH = "/api/v1/blacklist"


def snapshot_page(entries: list[dict[str, object]], **fields: object) -> dict[str, object]:
    plates = [str(entry["plate"]) for entry in entries]
    return {
        "entries": entries,
        "as_of_seq": 42,
        "next_after": plates[-1] if plates else None,
        "has_more": False,
        **fields,
    }


def entry(plate: str, **fields: object) -> dict[str, object]:
    return {**ENTRY, "plate": plate, **fields}


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        srv.on("GET", PING_PATH, json_answer(PING))
        yield srv


@pytest.fixture
def client(server: HostileServer) -> Iterator[ServerClient]:
    with make_client(server) as made:
        yield made


def test_a_full_snapshot_page_of_5000_entries_is_read(
    server: HostileServer, client: ServerClient
) -> None:
    entries = [entry(f"P{number:05d}") for number in range(SNAPSHOT_MAX_LIMIT)]
    server.on("GET", SNAPSHOT_PATH, json_answer(snapshot_page(entries, has_more=True)))

    page = client.blacklist_snapshot(limit=SNAPSHOT_MAX_LIMIT)

    assert len(page.entries) == SNAPSHOT_MAX_LIMIT
    assert page.entries[-1].plate == "P04999" and page.next_after == "P04999"
    assert server.seen("GET", SNAPSHOT_PATH)[0].path.endswith(f"?limit={SNAPSHOT_MAX_LIMIT}")


def test_plates_in_pages_are_normalized_like_everywhere_else(
    server: HostileServer, client: ServerClient
) -> None:
    server.on(
        "GET",
        SNAPSHOT_PATH,
        json_answer(snapshot_page([entry("ab-123"), entry("京a·12345"), entry("ＸＹＺ７８９")])),
    )
    assert [e.plate for e in client.blacklist_snapshot().entries] == [
        "AB123",
        "京A12345",
        "XYZ789",
    ]


def test_a_lot_that_spells_nan_or_infinity_is_just_a_name(
    server: HostileServer, client: ServerClient
) -> None:
    session = {**ENTRY["sessions"][0], "lot_name": "NaN Infinity Garage"}  # type: ignore[index]
    server.on(
        "GET", SNAPSHOT_PATH, json_answer(snapshot_page([entry("ABC123", sessions=[session])]))
    )
    assert client.blacklist_snapshot().entries[0].sessions[0].lot_name == "NaN Infinity Garage"


MALFORMED_SNAPSHOTS = {
    "NaN in a field the booth ignores": (
        raw(200, b'{"entries": [], "as_of_seq": 1, "has_more": false, "extra": NaN}'),
        "NaN",
    ),
    "Infinity as a number": (
        raw(200, b'{"entries": [], "as_of_seq": Infinity, "has_more": false}'),
        "Infinity",
    ),
    "truncated": (raw(200, json.dumps(snapshot_page([ENTRY])).encode()[:60]), "not valid JSON"),
    "trailing garbage": (
        raw(200, json.dumps(snapshot_page([ENTRY])).encode() + b" <!-- cached -->"),
        "not valid JSON",
    ),
    "not UTF-8": (raw(200, b'{"entries": [], "next_after": "\xff"}'), "not valid JSON"),
    "deep nesting": (raw(200, b"[" * 200_000 + b"]" * 200_000), "not valid JSON"),
    "empty body": (raw(200, b""), "not valid JSON"),
    "an entry with a bad time": (
        json_answer(snapshot_page([entry("ABC123", updated_at="yesterday")])),
        "entries.0.updated_at",
    ),
    "a plate without letters or digits": (
        json_answer(snapshot_page([entry(" ·- ")])),
        "entries.0.plate",
    ),
    "more entries than any page may hold": (
        json_answer(snapshot_page([entry(f"P{n:05d}") for n in range(SNAPSHOT_MAX_LIMIT + 1)])),
        "entries",
    ),
    "array instead of a page": (json_answer([ENTRY]), "<body>: Input should be an object"),
}


@pytest.mark.parametrize("case", list(MALFORMED_SNAPSHOTS))
def test_a_malformed_snapshot_page_is_refused(
    case: str, server: HostileServer, client: ServerClient
) -> None:
    behaviour, reason = MALFORMED_SNAPSHOTS[case]
    server.on("GET", SNAPSHOT_PATH, behaviour)

    with pytest.raises(MalformedResponse) as caught:
        client.blacklist_snapshot()

    assert reason in caught.value.reason
    assert client.ping().latest_seq == 12  # and the booth carries on


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"changes": [], "next_since": 3, "has_more": false, "latest_seq": NaN}', "NaN"),
        (
            b'{"changes": [{"seq": 4, "plate": "ABC123", "action": "upsert"}],'
            b' "next_since": 4, "has_more": false, "latest_seq": 4}',
            "upsert",
        ),
        (b'{"changes": [], "next_since": 3, "has_more": false', "not valid JSON"),
    ],
)
def test_a_malformed_change_page_is_refused(
    body: bytes, reason: str, server: HostileServer, client: ServerClient
) -> None:
    server.on("GET", CHANGES_PATH, raw(200, body))
    with pytest.raises(MalformedResponse) as caught:
        client.blacklist_changes(since=3)
    assert reason in caught.value.reason


def test_a_snapshot_page_larger_than_the_booth_asks_for_is_refused_by_the_client() -> None:
    with make_client_without_server() as client, pytest.raises(ValueError, match=r"1\.\.5000"):
        client.blacklist_snapshot(limit=SNAPSHOT_MAX_LIMIT + 1)


def make_client_without_server() -> ServerClient:
    return ServerClient("http://127.0.0.1:9", "tok-0123456789abcdef0123456789abcdef")
