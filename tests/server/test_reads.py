"""Plate reads: blacklisting at the first sighting, idempotent replays."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.helpers import API, all_changes, history, read_body


def test_read_of_owing_plate_blacklists_it(client: TestClient, auth_a: dict, auth_b: dict) -> None:
    before = all_changes(client, auth_b)
    response = client.post(f"{API}/reads", json=read_body("abc 123"), headers=auth_a)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["plate"] == "ABC123"
    assert answer["owes"] is True
    entry = answer["entry"]
    assert (entry["status"], entry["unpaid_cents"], entry["currency"]) == ("active", 1850, "USD")
    assert len(entry["sessions"]) == 2
    after = all_changes(client, auth_b)
    assert len(after) == len(before) + 1
    change = after[-1]
    assert (change["plate"], change["action"]) == ("ABC123", "upsert")
    assert change["entry"] == entry
    assert history(client, auth_b, "ABC123")["blacklisted"] is True


def test_read_replay_returns_first_answer_without_new_change(
    client: TestClient, auth_a: dict
) -> None:
    body = read_body("7XYZ042")
    first = client.post(f"{API}/reads", json=body, headers=auth_a).json()
    count = len(all_changes(client, auth_a))
    again = client.post(f"{API}/reads", json=body, headers=auth_a)
    assert again.status_code == 200
    assert again.json() == first
    assert len(all_changes(client, auth_a)) == count


def test_second_sighting_adds_no_change(client: TestClient, auth_a: dict, auth_b: dict) -> None:
    client.post(f"{API}/reads", json=read_body("ABC123"), headers=auth_a)
    count = len(all_changes(client, auth_a))
    second = client.post(f"{API}/reads", json=read_body("ABC123"), headers=auth_b).json()
    assert second["owes"] is True
    assert len(all_changes(client, auth_a)) == count


def test_read_of_clear_plate_owes_nothing(client: TestClient, auth_a: dict) -> None:
    count = len(all_changes(client, auth_a))
    for plate in ("KLM4455", "NEVERSEEN"):
        answer = client.post(f"{API}/reads", json=read_body(plate), headers=auth_a).json()
        assert (answer["owes"], answer["entry"]) == (False, None)
    assert len(all_changes(client, auth_a)) == count


def test_read_rejects_bad_bodies(client: TestClient, auth_a: dict) -> None:
    for body in (
        read_body("---"),
        read_body("ABC123", read_id="not-a-uuid"),
        read_body("ABC123", source="drone"),
        read_body("ABC123", confidence=1.5),
        {**read_body("ABC123"), "surprise": 1},
    ):
        assert client.post(f"{API}/reads", json=body, headers=auth_a).status_code == 422
