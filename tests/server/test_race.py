"""Two booths paying the same sessions at the same moment: exactly one collects."""

from __future__ import annotations

import threading

import httpx
import pytest

from server.cli import ServerThread
from server.config import ServerSettings
from tests.server.conftest import TOKEN_A, TOKEN_B
from tests.server.helpers import API, outcome_body


@pytest.mark.slow
def test_concurrent_payments_collect_once(settings: ServerSettings) -> None:
    with ServerThread(settings, seed_demo=True) as server:
        clients = [
            httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            for token in (TOKEN_A, TOKEN_B)
        ]
        try:
            history = clients[0].get(f"{API}/vehicles/ABC123/history").json()
            ids = [s["id"] for s in history["sessions"] if s["status"] == "unpaid"]
            results: list[httpx.Response] = []
            barrier = threading.Barrier(2)
            lock = threading.Lock()

            def pay(client: httpx.Client) -> None:
                body = outcome_body("ABC123", ids, 1850)
                barrier.wait()
                response = client.post(f"{API}/outcomes", json=body)
                with lock:
                    results.append(response)

            threads = [threading.Thread(target=pay, args=(c,)) for c in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            statuses = sorted(r.status_code for r in results)
            assert statuses == [200, 409], [r.text for r in results]
            collected = sum(r.json()["collected_cents"] for r in results)
            assert collected == 1850
            after = clients[1].get(f"{API}/vehicles/ABC123/history").json()
            assert after["unpaid_cents"] == 0
        finally:
            for client in clients:
                client.close()
    with server.app.state.session_factory() as session:
        from sqlalchemy import func, select

        from server.models import Payment

        assert session.scalar(select(func.count()).select_from(Payment)) == len(ids)
    server.app.state.engine.dispose()


@pytest.mark.slow
def test_concurrent_listings_get_gapless_seqs(settings: ServerSettings) -> None:
    from tests.server.helpers import read_body

    plates = ["ABC123", "7XYZ042", "TUV246", "WXY135", "LMN802"]
    with ServerThread(settings, seed_demo=True) as server:
        barrier = threading.Barrier(len(plates))
        answers: dict[str, dict] = {}

        def sight(plate: str) -> None:
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {TOKEN_A}"}, timeout=30
            ) as client:
                barrier.wait()
                answers[plate] = client.post(f"{API}/reads", json=read_body(plate)).json()

        threads = [threading.Thread(target=sight, args=(p,)) for p in plates]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN_B}"}, timeout=30
        ) as client:
            page = client.get(f"{API}/blacklist/changes", params={"since": 0}).json()
    assert all(answers[p]["owes"] for p in plates)
    assert [c["seq"] for c in page["changes"]] == list(range(1, 8))
    assert sorted(c["plate"] for c in page["changes"][2:]) == sorted(plates)
    server.app.state.engine.dispose()


def test_server_thread_from_database_url(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'thread.sqlite3'}"
    server = ServerThread(database_url=url, seed_demo=True)
    server.start()
    try:
        response = httpx.get(
            f"{server.url}{API}/ping", headers={"Authorization": f"Bearer {TOKEN_B}"}, timeout=10
        )
        assert response.json()["booth_id"] == "booth-b"
    finally:
        server.stop()
    server.app.state.engine.dispose()
