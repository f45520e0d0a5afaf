"""Render the self-test's sample plate into ``resources/samples/`` (run once; committed).

The image is drawn by the project's own synthetic renderer, so it is reproducible:
``python packaging/make_sample_plate.py`` writes the same picture again. Its file name
carries the region and the expected text: ``plate-<region>-<TEXT>.jpg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.synthetic import compose_scene, degrade, render_plate

TEXT = "RCP7284"
REGION = "us"
SEED = 2026
SIZE = (640, 360)
SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


def main() -> int:
    """Write the sample and print its path."""
    rng = np.random.default_rng(SEED)
    plate = render_plate(TEXT, REGION, height=90, top_line="RECOUP")
    scene, _box = compose_scene(plate, SIZE, rng, vehicle_width=420)
    scene = degrade(scene, rng, strength=0.3, glare=False, jpeg=False)
    SAMPLES.mkdir(parents=True, exist_ok=True)
    path = SAMPLES / f"plate-{REGION}-{TEXT}.jpg"
    cv2.imwrite(str(path), scene, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
