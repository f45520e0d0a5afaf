"""A booth keeps plate reads for ``evidence_days``, as it keeps their pictures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from desktop.booth import DATABASE_FILE, BoothService
from desktop.domain import utc_now
from desktop.store import Store
from server.cli import ServerThread
from tests.conftest import booth_config
from tests.desktop.booth_support import record_camera_read, rows


def test_a_booth_started_on_old_reads_forgets_them_at_its_first_read(
    reference_server: ServerThread, tmp_path: Path
) -> None:
    folder = tmp_path / "booth"
    with Store(folder / DATABASE_FILE) as store:  # a database from a week and a day ago
        record_camera_read(store, "OLD008", utc_now() - timedelta(days=8))
        record_camera_read(store, "OLD006", utc_now() - timedelta(days=6))
    config = booth_config(reference_server.url, folder).model_copy(update={"evidence_days": 7})
    booth = BoothService.from_config(config)
    try:
        assert booth.check_plate("NEW 001", "Exit 1") is None

        kept = rows(booth.store, "SELECT plate FROM plate_reads ORDER BY plate")
        assert [row["plate"] for row in kept] == ["NEW001", "OLD006"]
    finally:
        booth.stop()
