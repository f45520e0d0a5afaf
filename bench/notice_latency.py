"""Benchmark: time from a lane's consensus read to the recovery notice on screen.

Runs the real reference server on 127.0.0.1 (seeded demo data), a real booth core and
the Qt bridge and notice presenter offscreen. Each round submits a read of an owing
plate, as the recognition worker does, and measures until the notice dialog is visible.
Then the server is stopped and the same is measured from the local cache.

    python bench/notice_latency.py --rounds 40
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication, QWidget

from bench.lookup import cpu_model, percentile
from desktop.booth import BoothService
from desktop.config import BoothConfig
from desktop.domain import PlateRead
from desktop.resources import resource_path
from server.cli import ServerThread
from ui.bridge import BoothBridge
from ui.notice_presenter import NoticePresenter
from ui.sound import AlertSound

OWING = ("ABC123", "7XYZ042", "PQR789", "B0LT123")


def measure(
    app: QApplication, bridge: BoothBridge, presenter: NoticePresenter, rounds: int, tag: str
) -> list[float]:
    """Milliseconds from ``bridge.submit`` to a visible notice, ``rounds`` times."""
    times: list[float] = []
    for index in range(rounds):
        plate = OWING[index % len(OWING)]
        read = PlateRead(plate=plate, lane=f"{tag} lane {index}", confidence=0.95)
        start = time.perf_counter()
        bridge.submit(read)
        deadline = start + 10
        while presenter.current is None or not presenter.current.isVisible():
            app.processEvents()
            if time.perf_counter() > deadline:
                raise RuntimeError(f"no notice for {plate} within 10 s")
            time.sleep(0.001)
        times.append((time.perf_counter() - start) * 1000)
        presenter.current.done(0)
        app.processEvents()
    return times


def summary(times: list[float]) -> tuple[float, float, float]:
    """Median, p90 and worst of ``times``."""
    return statistics.median(times), percentile(times, 0.9), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}; python {platform.python_version()}")
    print(f"cpu: {cpu_model()}; cores: {os.cpu_count()}")
    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(resource_path("style.qss").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        server = ServerThread(database_url=f"sqlite:///{data / 'server.sqlite3'}", seed_demo=True)
        server.start()
        booth = BoothService.from_config(
            BoothConfig(
                server={"url": server.url, "connect_timeout_s": 0.5},
                booth={"id": "booth-a", "token": "demo-booth-a-token", "attendant": "bench"},
                sync={"interval_s": 3600},
                data_dir=data / "booth",
            )
        )
        bridge = BoothBridge(booth)
        window = QWidget()
        presenter = NoticePresenter(
            window,
            bridge,
            exit_policy="must_pay",
            verify_pin=lambda _pin: False,
            sound=AlertSound(enabled=False),
        )
        bridge.notice_raised.connect(presenter.present)
        booth.sync_now()
        online = measure(app, bridge, presenter, args.rounds, "online")
        booth.sync_now()  # the reads above put ABC123 and 7XYZ042 on the blacklist
        server.stop()
        offline = measure(app, bridge, presenter, args.rounds, "offline")
        bridge.close()
        booth.stop()
    on_median, on_p90, on_max = summary(online)
    off_median, off_p90, off_max = summary(offline)
    print(f"server online:  median {on_median:.0f} ms, p90 {on_p90:.0f} ms, max {on_max:.0f} ms")
    print(f"server offline: median {off_median:.0f} ms, p90 {off_p90:.0f} ms, max {off_max:.0f} ms")
    print(
        f"rounds={args.rounds} online_median_ms={on_median:.0f} online_p90_ms={on_p90:.0f} "
        f"online_max_ms={on_max:.0f} offline_median_ms={off_median:.0f} "
        f"offline_p90_ms={off_p90:.0f} offline_max_ms={off_max:.0f}"
    )


if __name__ == "__main__":
    main()
