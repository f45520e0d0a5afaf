"""Several server processes on one database: every outcome and payment counts once.

Two ``main.py serve`` processes on different ports share only the database, so each
racing pair of requests is certainly served by two processes; ``serve --workers 2`` is
checked to run two worker processes that do the same.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from server.db import make_engine, make_session_factory
from server.models import Outcome, Payment
from tests.server.conftest import TOKEN_A, TOKEN_B
from tests.server.helpers import API, outcome_body
from tests.server.server_process import ServerProcess

pytestmark = pytest.mark.slow


def _race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run ``calls`` at the same moment on their own threads; their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _unpaid(client: httpx.Client, plate: str) -> tuple[list[int], int]:
    history = client.get(f"{API}/vehicles/{plate}/history").json()
    unpaid = [s for s in history["sessions"] if s["status"] == "unpaid"]
    return [s["id"] for s in unpaid], sum(s["unpaid_cents"] for s in unpaid)


def _count(database_url: str, query) -> int:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(query) or 0)
    finally:
        engine.dispose()


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two server processes on the same (seeded) database: their base URLs."""
    first = ServerProcess(database_url, seed_demo=True, log_path=tmp_path / "first.log")
    with first, ServerProcess(database_url, log_path=tmp_path / "second.log") as second:
        yield first.url, second.url


def test_the_same_outcome_sent_to_two_processes_is_recorded_once(
    two_servers: tuple[str, str], database_url: str
) -> None:
    url_a, url_b = two_servers
    with _client(url_a, TOKEN_A) as one, _client(url_b, TOKEN_A) as other:
        for plate in ("ABC123", "7XYZ042", "TUV246"):
            ids, owed = _unpaid(one, plate)
            body = outcome_body(plate, ids, owed)
            answers = _race(
                [
                    lambda body=body: one.post(f"{API}/outcomes", json=body),
                    lambda body=body: other.post(f"{API}/outcomes", json=body),
                ]
            )
            # Both see the one recorded answer (the second is the replay of the first).
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            assert answers[0].json() == answers[1].json()
            assert answers[0].json()["collected_cents"] == owed
            assert _unpaid(other, plate) == ([], 0)
    assert _count(database_url, select(func.count()).select_from(Outcome)) == 3
    paid = _count(database_url, select(func.sum(Payment.amount_cents)))
    assert paid == 1850 + 3400 + 1900


def test_two_booths_paying_the_same_sessions_through_two_processes_collect_once(
    two_servers: tuple[str, str], database_url: str
) -> None:
    url_a, url_b = two_servers
    collected = sessions = 0
    with _client(url_a, TOKEN_A) as booth_a, _client(url_b, TOKEN_B) as booth_b:
        for plate in ("WXY135", "LMN802", "PQR789"):
            ids, owed = _unpaid(booth_a, plate)
            first, second = (outcome_body(plate, ids, owed) for _ in range(2))
            answers = _race(
                [
                    lambda first=first: booth_a.post(f"{API}/outcomes", json=first),
                    lambda second=second: booth_b.post(f"{API}/outcomes", json=second),
                ]
            )
            assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
            assert sum(a.json()["collected_cents"] for a in answers) == owed
            collected += owed
            sessions += len(ids)
    assert _count(database_url, select(func.sum(Payment.amount_cents))) == collected
    assert _count(database_url, select(func.count()).select_from(Payment)) == sessions


def test_a_qr_payment_and_a_cash_payment_racing_on_two_processes_collect_once(
    two_servers: tuple[str, str], database_url: str
) -> None:
    url_a, url_b = two_servers
    with _client(url_a, TOKEN_A) as booth_a, _client(url_b, TOKEN_B) as booth_b:
        ids, owed = _unpaid(booth_a, "B0LT123")
        intent = booth_a.post(
            f"{API}/payment-intents",
            json={
                "intent_id": str(uuid.uuid4()),
                "notice_id": str(uuid.uuid4()),
                "plate": "B0LT123",
                "session_ids": ids,
                "amount_cents": owed,
            },
        ).json()
        with httpx.Client(timeout=30) as phone:
            qr, cash = _race(
                [
                    lambda: phone.post(intent["pay_url"]),
                    lambda: booth_b.post(
                        f"{API}/outcomes", json=outcome_body("B0LT123", ids, owed)
                    ),
                ]
            )
    # Exactly one of them collected: the phone's page says Paid, or the cash was recorded.
    assert (qr.status_code, cash.status_code) in ((200, 409), (409, 200)), (qr.text, cash.text)
    assert _count(database_url, select(func.sum(Payment.amount_cents))) == owed
    assert _count(database_url, select(func.count()).select_from(Payment)) == len(ids)


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[int] = []
    for task in tasks.iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_serve_workers_runs_that_many_processes_sharing_the_database(
    database_url: str, tmp_path: Path
) -> None:
    with ServerProcess(
        database_url, workers=2, seed_demo=True, log_path=tmp_path / "serve.log"
    ) as server:
        assert server.process is not None
        workers = [pid for pid in _children(server.process.pid) if "spawn_main" in _cmdline(pid)]
        assert len(workers) == 2
        with _client(server.url, TOKEN_A) as booth_a, _client(server.url, TOKEN_B) as booth_b:
            ids, owed = _unpaid(booth_a, "ABC123")
            answers = _race(
                [
                    lambda: booth_a.post(f"{API}/outcomes", json=outcome_body("ABC123", ids, owed))
                    for _ in range(4)
                ]
                + [
                    lambda: booth_b.post(f"{API}/outcomes", json=outcome_body("ABC123", ids, owed))
                    for _ in range(4)
                ]
            )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert _count(database_url, select(func.sum(Payment.amount_cents))) == owed
