"""A full resync through the real server: a fresh booth, an old cache, an older server."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.blacklist_fill import BOOTH_ID, FillResult, fill_blacklist
from desktop.client import ServerClient
from desktop.plates import MatchTier
from desktop.store import Store
from desktop.sync import LEGACY_SNAPSHOT_PAGE_SIZE, SNAPSHOT_PAGE_SIZE, SyncWorker
from server.cli import ServerThread
from tests.desktop.booth_support import CHANGES_PATH, SNAPSHOT_PATH, make_client
from tests.desktop.hostile_server import Behaviour, HostileServer, json_answer
from tests.desktop.store.conftest import upsert
from tests.desktop.test_sync import entry_json, page, resync_required

ENTRIES = 12_000  # three snapshot pages


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FillResult, Path]]:
    """A real server over a database of 12,000 listed vehicles (feed pruned: resync)."""
    path = tmp_path_factory.mktemp("hub") / "hub.sqlite3"
    filled = fill_blacklist(f"sqlite:///{path}", ENTRIES, seed=7, changes_kept=50)
    with ServerThread(database_url=f"sqlite:///{path}") as server:
        yield server.url, filled, path


def _listed(path: Path, count: int) -> list[tuple[str, int]]:
    """Some plates the server lists, with what they owe."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT plate, unpaid_cents FROM blacklist_entries ORDER BY last_seq DESC LIMIT ?",
            (count,),
        ).fetchall()
    return [(plate, cents) for plate, cents in rows]


def _sync(store: Store, url: str, token: str) -> SyncWorker:
    client = ServerClient(url, token, booth_id=BOOTH_ID, read_timeout_s=30.0)
    worker = SyncWorker(store, client)
    worker.sync_once()
    client.close()
    return worker


def test_a_fresh_booth_gets_every_listed_vehicle_from_the_real_server(
    hub: tuple[str, FillResult, Path], store: Store
) -> None:
    url, filled, path = hub
    status = _sync(store, url, filled.booth_token).status

    assert status.online and status.last_error == ""
    assert status.cache_entries == ENTRIES
    assert status.cursor == filled.latest_seq
    for plate, cents in _listed(path, 25):
        strongest = store.blacklist.lookup(plate)[0]
        assert (strongest.entry.plate, strongest.match.tier) == (plate, MatchTier.EXACT)
        assert (strongest.entry.unpaid_cents, strongest.seq) == (cents, filled.latest_seq)
    plate = _listed(path, 1)[0][0]
    assert plate in {h.entry.plate for h in store.blacklist.lookup(plate[:-1])}  # near tier


def test_a_booth_with_an_outdated_cache_ends_up_with_the_servers_list(
    hub: tuple[str, FillResult, Path], store: Store
) -> None:
    url, filled, _path = hub
    store.blacklist.apply_changes([upsert(1, "GONE111"), upsert(2, "GONE222")], cursor=2)

    status = _sync(store, url, filled.booth_token).status

    assert status.cache_entries == ENTRIES
    assert store.blacklist.get("GONE111") is None
    assert store.blacklist.lookup("GONE222") == []


def test_a_server_refusing_big_snapshot_pages_is_asked_for_smaller_ones(store: Store) -> None:
    with HostileServer() as server:
        server.on(
            "GET",
            CHANGES_PATH,
            json_answer(resync_required(9), status=410),
            json_answer(page([], 9)),
        )
        server.on(
            "GET",
            SNAPSHOT_PATH,
            json_answer({"detail": [{"loc": ["query", "limit"], "msg": "too big"}]}, status=422),
            json_answer(
                {
                    "entries": [entry_json("ABC123")],
                    "as_of_seq": 9,
                    "next_after": "ABC123",
                    "has_more": False,
                }
            ),
        )
        with make_client(server.url) as client:
            status = SyncWorker(store, client).sync_once()

        limits = [
            parse_qs(urlsplit(seen.path).query)["limit"]
            for seen in server.seen("GET", SNAPSHOT_PATH)
        ]
    assert limits == [[str(SNAPSHOT_PAGE_SIZE)], [str(LEGACY_SNAPSHOT_PAGE_SIZE)]]
    assert status.online and status.cache_entries == 1 and status.cursor == 9


def _answer_by_after(pages: dict[str | None, dict[str, object]]) -> Behaviour:
    """A snapshot endpoint that answers each ``after`` with its own page."""

    def behave(handler: Any) -> None:
        after = parse_qs(urlsplit(handler.path).query).get("after", [None])[0]
        json_answer(pages[after])(handler)

    return behave


def test_a_page_whose_last_bytes_mislead_the_download_ahead_is_still_followed_right(
    store: Store,
) -> None:
    # The first page ends with a decoy (an ignored field inside its last entry) naming
    # another next page; the booth downloads that one ahead, then follows the page's own
    # next_after, and caches exactly the two real pages.
    decoy = {**entry_json("ABC123"), "x": {"next_after": "DECOY", "has_more": True}}
    first = {"as_of_seq": 9, "next_after": "ABC123", "has_more": True, "entries": [decoy]}
    pages = {
        None: first,
        "ABC123": {
            "entries": [entry_json("XYZ789")],
            "as_of_seq": 9,
            "next_after": "XYZ789",
            "has_more": False,
        },
        "DECOY": {
            "entries": [entry_json("EVIL666")],
            "as_of_seq": 9,
            "next_after": "EVIL666",
            "has_more": False,
        },
    }
    with HostileServer() as server:
        server.on(
            "GET",
            CHANGES_PATH,
            json_answer(resync_required(9), status=410),
            json_answer(page([], 9)),
        )
        server.on("GET", SNAPSHOT_PATH, _answer_by_after(pages))
        with make_client(server.url) as client:
            status = SyncWorker(store, client).sync_once()
        asked = sorted(
            parse_qs(urlsplit(seen.path).query).get("after", [""])[0]
            for seen in server.seen("GET", SNAPSHOT_PATH)
        )

    assert asked == ["", "ABC123", "DECOY"]
    assert status.online and status.cache_entries == 2
    assert store.blacklist.get("EVIL666") is None
    assert store.blacklist.get("XYZ789") is not None
    assert not [t for t in threading.enumerate() if t.name.startswith("snapshot-ahead")]
