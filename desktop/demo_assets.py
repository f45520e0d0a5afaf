"""The demo's lane videos: generated on first run, then reused from the cache folder.

Two exit lanes with rendered plates, some of which owe money in the reference server's
demo data, so a newcomer sees live lanes, reads and a recovery notice within a minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

from desktop.config import BoothConfig
from desktop.synthetic.video import make_lane_video

log = logging.getLogger(__name__)

# Bump when the scenes change, so old caches are not reused.
ASSETS_VERSION = "1"


@dataclass(frozen=True)
class DemoLane:
    """One demo lane: its name and the plates that drive through it, in order."""

    name: str
    plates: tuple[str, ...]
    seed: int

    @property
    def file_name(self) -> str:
        return f"{self.name.lower().replace(' ', '-')}-v{ASSETS_VERSION}.avi"


# Seeded debts: ABC123 owes 18.50 over two sessions (the server lists it on first
# sight), 7XYZ042 owes 34.00 (history only), PQR789 and B0LT123 are on the blacklist;
# KLM4455 has paid; the others are unknown to the server (clear).
DEMO_LANES = (
    DemoLane("Exit 1", ("ABC123", "KLM4455", "7XYZ042", "JKR2231"), seed=11),
    DemoLane("Exit 2", ("HTM4410", "PQR789", "B0LT123", "WDX5712"), seed=23),
)


def demo_cache_dir() -> Path:
    """Where generated demo videos are kept between runs."""
    return Path(user_cache_dir("recoup", appauthor=False)) / "demo"


def demo_videos(folder: Path | None = None) -> dict[str, Path]:
    """``lane name -> video file``, generating the files that are not there yet."""
    target = folder or demo_cache_dir()
    videos: dict[str, Path] = {}
    for lane in DEMO_LANES:
        path = target / lane.file_name
        if not path.is_file():
            log.info("generating the demo video of %s in %s", lane.name, path)
            partial = path.with_suffix(".partial.avi")
            make_lane_video(partial, lane.plates, fps=15.0, size=(960, 540), rng=lane.seed)
            partial.replace(path)
        videos[lane.name] = path
    return videos


DEMO_BOOTH = ("booth-a", "demo-booth-a-token")
DEMO_SUPERVISOR_PIN = "1234"


def demo_config(server_url: str, data_dir: Path, videos: dict[str, Path]) -> BoothConfig:
    """Booth-a of the demo data: two lanes playing ``videos``, supervisor PIN 1234."""
    from desktop.supervisor_pin import hash_pin

    booth_id, token = DEMO_BOOTH
    return BoothConfig(
        server={"url": server_url, "connect_timeout_s": 0.5, "read_timeout_s": 3.0},
        booth={"id": booth_id, "token": token, "attendant": "demo"},
        lanes=[{"name": name, "camera": str(path)} for name, path in videos.items()],
        plates={"region": "us"},
        recovery={"exit_policy": "must_pay", "history_deadline_s": 1.5},
        sync={"interval_s": 5},
        supervisor={"pin_hash": hash_pin(DEMO_SUPERVISOR_PIN)},
        data_dir=data_dir,
    )
