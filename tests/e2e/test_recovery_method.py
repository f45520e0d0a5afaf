"""The recovery method end to end: real server process, real client, store and sync."""

from __future__ import annotations

import requests

from desktop.booth import BoothService
from desktop.domain import OutcomeKind, PaymentMethod
from desktop.plates import MatchTier
from tests.e2e.conftest import DEMO_TOKENS, ServerProcess


def history(server: ServerProcess, plate: str) -> dict:
    answer = requests.get(
        f"{server.url}/api/v1/vehicles/{plate}/history",
        headers={"Authorization": f"Bearer {DEMO_TOKENS['booth-a']}"},
        timeout=5,
    )
    answer.raise_for_status()
    return answer.json()


def test_first_sighting_lists_the_vehicle_and_the_other_booth_catches_it_offline(
    server: ServerProcess, booths: tuple[BoothService, BoothService]
) -> None:
    booth_a, booth_b = booths
    assert history(server, "ABC123")["blacklisted"] is False

    notice = booth_a.check_plate("ABC 123", "Exit 1", source="camera")

    assert notice is not None
    assert (notice.listed_plate, notice.tier, notice.source) == (
        "ABC123",
        MatchTier.EXACT,
        "server",
    )
    assert notice.unpaid_cents == 1850
    assert history(server, "ABC123")["blacklisted"] is True

    booth_b.sync_now()
    assert booth_b.store.blacklist.get("ABC123") is not None

    server.kill()
    offline = booth_b.check_plate("ABC123", "Exit 2", source="camera")

    assert offline is not None
    assert offline.source == "cache"
    assert offline.tier is MatchTier.EXACT
    assert offline.unpaid_cents == 1850
    assert offline.cache_age_s is not None
    assert [s.unpaid_cents for s in offline.sessions] == [s.unpaid_cents for s in notice.sessions]


def test_payment_at_one_booth_clears_the_debt_everywhere(
    server: ServerProcess, booths: tuple[BoothService, BoothService]
) -> None:
    booth_a, booth_b = booths
    assert booth_a.check_plate("ABC123", "Exit 1") is not None
    booth_a.sync_now()
    booth_b.sync_now()
    assert booth_a.store.blacklist.get("ABC123") is not None

    notice = booth_b.check_plate("ABC123", "Exit 2")
    assert notice is not None
    booth_b.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)
    status = booth_b.sync_now()

    assert status.outbox_pending == 0
    file = history(server, "ABC123")
    assert file["unpaid_cents"] == 0
    assert {s["status"] for s in file["sessions"]} == {"paid"}
    booth_a.sync_now()
    assert booth_a.store.blacklist.get("ABC123") is None
    assert booth_b.store.blacklist.get("ABC123") is None
    assert booth_a.check_plate("ABC123", "Exit 1") is None


def test_outcomes_queued_while_the_server_is_dead_arrive_exactly_once(
    server: ServerProcess, booths: tuple[BoothService, BoothService]
) -> None:
    _, booth_b = booths
    booth_b.sync_now()  # PQR789 and B0LT123 are listed by the seed
    server.kill()

    paid = booth_b.check_plate("PQR789", "Exit 2")
    disputed = booth_b.check_plate("B0LT123", "Exit 2")
    assert paid is not None and paid.source == "cache"
    assert disputed is not None and disputed.source == "cache"
    booth_b.record_outcome(paid, OutcomeKind.PAID, method=PaymentMethod.CARD, reference="T-1")
    booth_b.record_outcome(disputed, OutcomeKind.DISPUTED, reason="driver has a receipt")
    # A double press on the same notice must not queue a second payment.
    booth_b.record_outcome(paid, OutcomeKind.PAID, method=PaymentMethod.CARD, reference="T-1")

    offline = booth_b.sync_now()
    assert offline.online is False
    assert offline.outbox_pending >= 2
    # Still deciding from the cache, and not asking for the debt just paid here.
    assert booth_b.check_plate("PQR789", "Exit 2") is None

    server.start()
    # Deliveries wait for their back-off; make them due now rather than sleeping.
    booth_b.store.outbox.retry_all_now()
    online = booth_b.sync_now()
    booth_b.store.outbox.retry_all_now()
    booth_b.sync_now()

    assert online.online is True
    assert booth_b.store.outbox.counts()["pending"] == 0
    assert server.count("outcomes") == 2
    assert server.count("payments") == 1
    assert booth_b.store.blacklist.get("PQR789") is None
