"""A booth keeps plate reads for ``evidence_days``, as it keeps their pictures."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from desktop.booth import DATABASE_FILE, BoothService
from desktop.domain import utc_now
from desktop.store import Store
from server.cli import ServerThread
from tests.conftest import booth_config
from tests.desktop.booth_support import rows


def _read(store: Store, plate: str, seen_at: datetime) -> None:
    store.record_read(
        read_id=uuid.uuid4(),
        lane="Exit 1",
        plate=plate,
        confidence=0.9,
        source="camera",
        seen_at=seen_at,
    )


def test_a_booth_started_on_old_reads_forgets_them_at_its_first_read(
    reference_server: ServerThread, tmp_path: Path
) -> None:
    folder = tmp_path / "booth"
    with Store(folder / DATABASE_FILE) as store:  # a database from a week and a day ago
        _read(store, "OLD008", utc_now() - timedelta(days=8))
        _read(store, "OLD006", utc_now() - timedelta(days=6))
    config = booth_config(reference_server.url, folder).model_copy(update={"evidence_days": 7})
    booth = BoothService.from_config(config)
    try:
        assert booth.check_plate("NEW 001", "Exit 1") is None

        kept = rows(booth.store, "SELECT plate FROM plate_reads ORDER BY plate")
        assert [row["plate"] for row in kept] == ["NEW001", "OLD006"]
    finally:
        booth.stop()
