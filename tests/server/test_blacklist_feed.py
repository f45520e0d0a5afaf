"""Blacklist feed: change paging, pruning with 410, snapshot paging."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.blacklist import change_count, prune_change_log
from tests.server.helpers import API, all_changes, read_body

OWING = ["ABC123", "7XYZ042", "TUV246", "WXY135", "LMN802"]


def _sight_all(client: TestClient, headers: dict) -> None:
    for plate in OWING:
        assert client.post(f"{API}/reads", json=read_body(plate), headers=headers).json()["owes"]


def test_seed_publishes_prelisted_plates(client: TestClient, auth_a: dict) -> None:
    changes = all_changes(client, auth_a)
    assert [(c["seq"], c["plate"], c["action"]) for c in changes] == [
        (1, "PQR789", "upsert"),
        (2, "B0LT123", "upsert"),
    ]
    assert changes[0]["entry"]["unpaid_cents"] == 900
    assert changes[1]["entry"]["unpaid_cents"] == 1500


def test_changes_are_paged(client: TestClient, auth_a: dict) -> None:
    _sight_all(client, auth_a)  # seqs 3..7
    since, seen, pages = 0, [], 0
    while True:
        response = client.get(
            f"{API}/blacklist/changes", params={"since": since, "limit": 3}, headers=auth_a
        )
        page = response.json()
        pages += 1
        assert page["latest_seq"] == 7
        assert all(c["seq"] > since for c in page["changes"])
        seen += [c["seq"] for c in page["changes"]]
        since = page["next_since"]
        if not page["has_more"]:
            break
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert pages == 3
    assert since == 7
    tail = client.get(f"{API}/blacklist/changes", params={"since": 7}, headers=auth_a).json()
    assert tail == {"changes": [], "next_since": 7, "has_more": False, "latest_seq": 7}


def test_changes_limit_is_bounded(client: TestClient, auth_a: dict) -> None:
    for limit in (0, 1001):
        response = client.get(
            f"{API}/blacklist/changes", params={"since": 0, "limit": limit}, headers=auth_a
        )
        assert response.status_code == 422


def test_pruned_cursor_gets_410_resync_required(
    app: FastAPI, client: TestClient, auth_a: dict
) -> None:
    _sight_all(client, auth_a)  # latest seq 7
    with app.state.session_factory() as session:
        assert prune_change_log(session, keep=2) == 5
        session.commit()
        assert change_count(session) == 2
    gone = client.get(f"{API}/blacklist/changes", params={"since": 4}, headers=auth_a)
    assert gone.status_code == 410
    detail = gone.json()["detail"]
    assert (detail["code"], detail["latest_seq"]) == ("resync_required", 7)
    assert detail["message"]
    ok = client.get(f"{API}/blacklist/changes", params={"since": 5}, headers=auth_a).json()
    assert [c["seq"] for c in ok["changes"]] == [6, 7]


def test_change_log_is_pruned_automatically(database_url: str, auth_a: dict) -> None:
    from server.app import create_app
    from server.config import ServerSettings
    from server.seed import seed_demo

    settings = ServerSettings(database_url=database_url, change_log_keep=3)
    app = create_app(settings)
    with app.state.session_factory() as session:
        seed_demo(session)
    with TestClient(app) as client:
        _sight_all(client, auth_a)  # latest seq 7, only 3 kept
        assert (
            client.get(f"{API}/blacklist/changes", params={"since": 3}, headers=auth_a).status_code
            == 410
        )
        kept = all_changes(client, auth_a, since=4)
        assert [c["seq"] for c in kept] == [5, 6, 7]


def test_snapshot_pages_by_plate(client: TestClient, auth_a: dict) -> None:
    _sight_all(client, auth_a)
    after, plates, as_of = "", [], []
    while True:
        page = client.get(
            f"{API}/blacklist", params={"after": after, "limit": 3}, headers=auth_a
        ).json()
        plates += [e["plate"] for e in page["entries"]]
        as_of.append(page["as_of_seq"])
        if not page["has_more"]:
            break
        after = page["next_after"]
    assert plates == sorted([*OWING, "PQR789", "B0LT123"])
    assert as_of == [7, 7, 7]
    # The snapshot plus the changes after its as_of_seq give the current state.
    client.post(f"{API}/reads", json=read_body("ABC123"), headers=auth_a)  # no change
    assert all_changes(client, auth_a, since=as_of[0]) == []


def test_snapshot_entries_match_latest_upserts(client: TestClient, auth_a: dict) -> None:
    _sight_all(client, auth_a)
    snapshot = client.get(f"{API}/blacklist", headers=auth_a).json()
    latest = {c["plate"]: c["entry"] for c in all_changes(client, auth_a)}
    assert {e["plate"]: e for e in snapshot["entries"]} == latest
    assert snapshot["next_after"] == max(latest)


def test_a_snapshot_page_stops_at_its_byte_budget_and_the_rest_follows(
    client: TestClient, auth_a: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries with many sessions must not make a page larger than a booth accepts."""
    from server.routes import blacklist as feed

    _sight_all(client, auth_a)
    full = client.get(f"{API}/blacklist", params={"limit": 100}, headers=auth_a).json()
    monkeypatch.setattr(feed, "SNAPSHOT_MAX_BYTES", 1)  # one entry per page
    after, entries = "", []
    while True:
        page = client.get(
            f"{API}/blacklist", params={"after": after, "limit": 100}, headers=auth_a
        ).json()
        assert len(page["entries"]) == 1
        entries += page["entries"]
        if not page["has_more"]:
            break
        after = page["next_after"]
    assert entries == full["entries"]
