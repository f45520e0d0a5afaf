"""Evidence upload: a notice's snapshot and crop reach the server with its outcome, once."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.booth import BoothService
from desktop.domain import OutcomeKind, PaymentMethod
from desktop.store import Store
from desktop.store.evidence_files import OUTBOX_EVIDENCE, SWEEP_MIN_AGE_S
from desktop.supervisor_client import SupervisorClient
from server.cli import ServerThread
from server.config import ServerSettings
from tests.conftest import booth_config
from tests.desktop.booth_support import rows
from tests.desktop.evidence_support import decoded_size, read_with_evidence

USER, PASSWORD = "super", "demo-supervisor"


@pytest.fixture
def supervisor(reference_server: ServerThread) -> Iterator[SupervisorClient]:
    client = SupervisorClient(reference_server.url, retries=0)
    client.login(USER, PASSWORD)
    yield client
    client.close()


def evidence_rows(booth: BoothService) -> list[dict]:
    return rows(
        booth.store,
        "SELECT key, payload, delivered_at, dead_at, attempts, response, last_error FROM outbox "
        "WHERE kind = :kind ORDER BY id",
        kind=OUTBOX_EVIDENCE,
    )


def test_an_outcome_uploads_its_snapshot_and_crop_once(
    booth: BoothService, supervisor: SupervisorClient, tmp_path: Path
) -> None:
    notice = booth.check(read_with_evidence(tmp_path / "lane", "ABC123"))
    assert notice is not None
    booth.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)
    # A double press records nothing more, and prepares no more files.
    booth.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)
    waiting = booth.store.evidence.files()
    assert len(waiting) == 2
    assert [row["delivered_at"] for row in evidence_rows(booth)] == [None, None]

    status = booth.sync_now()

    assert status.online and status.outbox_pending == 0
    assert booth.store.evidence.files() == []  # removed once delivered
    file = supervisor.vehicle_file("ABC123")
    (outcome,) = file.outcomes
    assert outcome.notice_id == notice.notice_id
    images = {item.kind: supervisor.evidence_image(item.evidence_id) for item in outcome.evidence}
    # The snapshot is scaled to 1280 on its longest side; the small crop keeps its size.
    assert decoded_size(images["snapshot"]) == (1280, 720)
    assert decoded_size(images["crop"]) == (240, 60)
    (sighting,) = file.sightings
    assert {item.kind for item in sighting.evidence} == {"snapshot", "crop"}


def test_a_replay_after_a_lost_answer_stores_nothing_twice(
    booth: BoothService, supervisor: SupervisorClient, tmp_path: Path
) -> None:
    notice = booth.check(read_with_evidence(tmp_path / "lane", "ABC123"))
    assert notice is not None
    booth.record_outcome(notice, OutcomeKind.LEFT_UNPAID, reason="drove off")
    kept = tmp_path / "kept"
    shutil.copytree(booth.store.evidence.folder, kept)
    booth.sync_now()
    # As if the booth crashed after sending and before noting the delivery.
    shutil.copytree(kept, booth.store.evidence.folder, dirs_exist_ok=True)
    with booth.store.engine.begin() as connection:
        connection.execute(
            text("UPDATE outbox SET delivered_at = NULL, response = NULL WHERE kind = :kind"),
            {"kind": OUTBOX_EVIDENCE},
        )

    booth.sync_now()

    replays = evidence_rows(booth)
    assert len(replays) == 2
    assert all('"http_status":200' in row["response"] for row in replays)
    assert supervisor.vehicle_file("ABC123").totals["evidence"] == 2
    assert booth.store.evidence.files() == []


def test_a_refused_image_is_given_up_logged_and_its_file_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ServerSettings(
        database_url=f"sqlite:///{tmp_path / 'small.sqlite3'}", evidence_max_bytes=1024
    )
    with ServerThread(settings, seed_demo=True) as server:
        booth = BoothService.from_config(booth_config(server.url, tmp_path / "booth"))
        try:
            notice = booth.check(read_with_evidence(tmp_path / "lane", "ABC123"))
            assert notice is not None
            booth.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CARD)

            first = booth.sync_now()
            booth.store.outbox.retry_all_now()
            second = booth.sync_now()
        finally:
            booth.stop()
        server.app.state.engine.dispose()

    assert first.online and second.online
    assert first.outbox_pending == 0 and first.outbox_dead == 2
    dead = evidence_rows(booth)
    assert [row["attempts"] for row in dead] == [1, 1]  # never retried
    assert all(row["dead_at"] and "413" in row["last_error"] for row in dead)
    assert booth.store.evidence.files() == []
    refused = [
        r for r in caplog.records if r.levelno == logging.ERROR and "evidence" in r.getMessage()
    ]
    assert len(refused) == 2 and all("413" in r.getMessage() for r in refused)


def test_a_portrait_snapshot_and_a_large_crop_are_scaled_by_their_longest_side(
    booth: BoothService, tmp_path: Path
) -> None:
    read = read_with_evidence(tmp_path / "lane", "ABC123", snapshot=(1080, 1920), crop=(900, 300))
    notice = booth.check(read)
    assert notice is not None
    booth.record_outcome(notice, OutcomeKind.DISPUTED, reason="driver has a receipt")
    sizes = {decoded_size(path.read_bytes()) for path in booth.store.evidence.files()}
    assert sizes == {(720, 1280), (640, 213)}


def test_an_image_gone_before_sending_is_given_up_and_the_rest_delivered(
    booth: BoothService, tmp_path: Path
) -> None:
    notice = booth.check(read_with_evidence(tmp_path / "lane", "ABC123"))
    assert notice is not None
    booth.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)
    booth.store.evidence.files()[0].unlink()

    status = booth.sync_now()

    assert status.outbox_pending == 0 and status.outbox_dead == 1
    assert sorted(row["dead_at"] is None for row in evidence_rows(booth)) == [False, True]


def test_files_no_outbox_row_needs_are_swept_when_the_store_opens(tmp_path: Path) -> None:
    folder = tmp_path / "booth"
    with Store(folder / "booth.sqlite3") as store:
        stale = store.evidence.folder / "left-by-a-crash.jpg"
        fresh = store.evidence.folder / "being-recorded-now.jpg"
        for path in (stale, fresh):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\xff\xd8\xff")
        old = time.time() - SWEEP_MIN_AGE_S - 60
        os.utime(stale, (old, old))
    with Store(folder / "booth.sqlite3") as store:
        assert store.evidence.files() == [fresh]
