"""Evidence across an outage: recorded while the server is dead, uploaded once it is back."""

from __future__ import annotations

from pathlib import Path

from desktop.booth import BoothService
from desktop.domain import OutcomeKind
from desktop.supervisor_client import SupervisorClient
from tests.desktop.evidence_support import decoded_size, read_with_evidence
from tests.e2e.conftest import ServerProcess


def test_evidence_of_an_outcome_recorded_offline_arrives_once_after_the_outage(
    server: ServerProcess, booths: tuple[BoothService, BoothService], tmp_path: Path
) -> None:
    _, booth_b = booths
    booth_b.sync_now()  # PQR789 is listed by the seed
    server.kill()

    notice = booth_b.check(read_with_evidence(tmp_path / "lane", "PQR789"))
    assert notice is not None and notice.source == "cache"
    booth_b.record_outcome(notice, OutcomeKind.LEFT_UNPAID, reason="barrier opened by mistake")
    offline = booth_b.sync_now()
    assert offline.online is False
    assert len(booth_b.store.evidence.files()) == 2  # kept while the server is away

    server.start()
    booth_b.store.outbox.retry_all_now()  # make the backed-off rows due instead of sleeping
    online = booth_b.sync_now()
    booth_b.store.outbox.retry_all_now()
    booth_b.sync_now()  # a second round must not send anything twice

    assert online.online is True
    assert booth_b.store.outbox.counts() == {"pending": 0, "delivered": 4, "dead": 0}
    assert booth_b.store.evidence.files() == []
    assert server.count("evidence") == 2
    assert server.count("outcomes") == 1

    supervisor = SupervisorClient(server.url, retries=0)
    try:
        supervisor.login("super", "demo-supervisor")
        (outcome,) = supervisor.vehicle_file("PQR789").outcomes
        images = {e.kind: supervisor.evidence_image(e.evidence_id) for e in outcome.evidence}
    finally:
        supervisor.close()
    assert decoded_size(images["snapshot"]) == (1280, 720)
    assert decoded_size(images["crop"]) == (240, 60)
