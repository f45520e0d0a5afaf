"""PP-OCR text detection and recognition through RapidOCR and onnxruntime, offline.

The ONNX models ship inside the ``rapidocr`` wheel; every model path is given
explicitly so RapidOCR never tries to download anything. The detector runs on the
image scaled so its longer side is at most ``det_side`` pixels (``limit_type=max``:
small images are not scaled up), while the recognizer reads crops cut from the
full-resolution image, which keeps small plate characters sharp.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from rapidocr import RapidOCR
from rapidocr.ch_ppocr_det import TextDetector
from rapidocr.ch_ppocr_rec import TextRecInput, TextRecognizer
from rapidocr.utils.process_img import get_rotate_crop_image

from .denormals import flush_denormal_weights
from .engine import Box, TextBox, is_over, same_place

log = logging.getLogger(__name__)

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
#: Longer side of the image the text detector sees. 960 reads as many Chinese photos
#: and three US photos fewer (different ones: more text found is more text to confuse
#: with the plate), at a 30% higher median (136 against 105 ms on 2 cores).
DEFAULT_DET_SIDE = 736
# Keep low-confidence reads: the plate scorer decides, and a plate read at 0.45 beats
# nothing at all.
MIN_TEXT_SCORE = 0.3
# How far the detector grows each text region (RapidOCR's default 1.6). Tighter lines
# keep bolts, emblems and stickers beside the characters out of the crop: 1.4 read
# 3.6 points more US and 2.4 more Chinese plates; 2.0 and 1.25 read fewer.
UNCLIP_RATIO = 1.4
#: Mean text probability a detected region needs to be read: RapidOCR's 0.5 for a
#: whole photo. A finer pass (the recognizer's, when the first found no plate) may ask
#: for fainter regions: a small, low-contrast plate can average just under 0.5.
BOX_THRESH = 0.5
# A detected line longer than this (width / height) is a caption or a time stamp, never a
# plate, even one with a sticker glued to it; skipping it saves recognition time.
MAX_LINE_ASPECT = 11.0


def bundled_model_dir() -> Path:
    """The folder inside the installed ``rapidocr`` package that holds its ONNX models."""
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def default_threads() -> int:
    """onnxruntime intra-op threads: the machine's cores, at most 4 (booth PCs have 2)."""
    return max(1, min(4, os.cpu_count() or 1))


class LineReadingEngine:
    """An engine that finds lines with the PP-OCR text detector, then reads each one.

    Subclasses set ``det_side``, ``_det`` (from :func:`pp_ocr_detector` or RapidOCR) and
    ``_lock``, and supply :meth:`_read_lines`, the recognition step.
    """

    det_side: int
    _det: TextDetector
    _lock: threading.Lock

    def read(self, image_bgr: np.ndarray) -> list[TextBox]:
        """Detect and read every text line of ``image_bgr``."""
        return self.read_at(image_bgr, self.det_side)

    def read_at(
        self,
        image_bgr: np.ndarray,
        det_side: int,
        *,
        near: Box | None = None,
        box_thresh: float = BOX_THRESH,
        skip: Sequence[Box] = (),
    ) -> list[TextBox]:
        """Detect with the long side scaled to at most ``det_side`` px, then read each line
        (with ``near``, each line over that x, y, w, h box; never one in the same place as
        a ``skip`` box) from the full-resolution image; ``box_thresh`` is the mean text
        probability a detected region needs."""
        with self._lock:
            quads = detect_lines(self._det, image_bgr, det_side, box_thresh, near=near, skip=skip)
            return self._read_lines(image_bgr, quads) if quads else []

    def _read_lines(self, image_bgr: np.ndarray, quads: list[np.ndarray]) -> list[TextBox]:
        """Recognize the detected lines at ``quads``; the caller holds the lock."""
        raise NotImplementedError


class RapidOcrEngine(LineReadingEngine):
    """PP-OCRv6 small detector + recognizer (RapidOCR 3.x on onnxruntime).

    Loaded once per instance; calls are serialized by a lock because the detector's
    scale is set on the shared detector object for each call.
    """

    name = "rapidocr"

    def __init__(
        self,
        *,
        det_side: int = DEFAULT_DET_SIDE,
        threads: int | None = None,
        min_text_score: float = MIN_TEXT_SCORE,
        model_dir: Path | None = None,
    ) -> None:
        models = model_dir or bundled_model_dir()
        missing = [m for m in (DET_MODEL, REC_MODEL, CLS_MODEL) if not (models / m).is_file()]
        if missing:
            raise FileNotFoundError(
                f"RapidOCR models missing from {models}: {', '.join(missing)}; "
                "reinstall the rapidocr package (the booth never downloads models)"
            )
        self.threads = threads or default_threads()
        self.det_side = det_side
        params = {
            **_detector_params(models, det_side, self.threads),
            "Rec.model_path": str(models / REC_MODEL),
            "Cls.model_path": str(models / CLS_MODEL),
        }
        self.min_text_score = min_text_score
        self._ocr = RapidOCR(params=params)
        # RapidOCR's own pipeline would crop from its resized image and run all boxes
        # through recognition; calling its detector and recognizer directly keeps crops
        # at full resolution and skips lines that cannot be plates.
        self._det = _own_detector(self._ocr._load_det_model(), models / DET_MODEL, self.threads)
        self._rec = self._ocr._load_rec_model()
        self._rec.session.session = _session(models / REC_MODEL, self.threads)
        self._lock = threading.Lock()
        self.read(np.full((64, 256, 3), 255, np.uint8))  # warm up both sessions
        log.info(
            "RapidOCR loaded from %s (detector %d px, %d threads)", models, det_side, self.threads
        )

    def _read_lines(self, image_bgr: np.ndarray, quads: list[np.ndarray]) -> list[TextBox]:
        """Recognize the lines at ``quads`` from the full-resolution image."""
        boxes = []
        for quad in quads:
            line = self._probabilities(image_bgr, quad)
            (text, score), *_ = self._rec.postprocess_op(line[0][np.newaxis])[0]
            if score >= self.min_text_score and str(text).strip():
                boxes.append(TextBox.from_quad(str(text), float(score), quad, line))
        return boxes

    def line_probabilities(
        self, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]
    ) -> tuple[np.ndarray, Sequence[str]]:
        """The recognizer's character probabilities along the text line at ``quad``.

        Returns a steps x alphabet matrix (rows sum to 1) and the alphabet, whose
        index 0 is the CTC blank; see :mod:`.constrained` for reading it under a format.
        """
        with self._lock:
            return self._probabilities(image_bgr, quad)

    def _probabilities(
        self, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]
    ) -> tuple[np.ndarray, Sequence[str]]:
        """:meth:`line_probabilities`, the caller holding the lock."""
        return recognizer_probabilities(self._rec, image_bgr, quad)

    def read_quad(self, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]) -> TextBox | None:
        """Read the line at ``quad`` as if the detector had found it there; None when it
        reads no text."""
        with self._lock:
            lines = self._read_lines(image_bgr, [np.asarray(quad, dtype=np.float32)])
        return lines[0] if lines else None

    def read_line(self, image_bgr: np.ndarray) -> tuple[str, float]:
        """Read ``image_bgr`` as one text line, without detection (for straightened crops)."""
        with self._lock:
            rec = self._rec(TextRecInput(img=[image_bgr]))
        texts = rec.txts or ("",)
        scores = rec.scores or (0.0,)
        return str(texts[0]), float(scores[0])


def recognizer_probabilities(
    recognizer: TextRecognizer, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]
) -> tuple[np.ndarray, Sequence[str]]:
    """A PP-OCR ``recognizer``'s character probabilities along the line at ``quad`` of
    ``image_bgr`` (cut out and straightened), and its alphabet (index 0: the blank)."""
    crop = get_rotate_crop_image(image_bgr, np.asarray(quad, dtype=np.float32))
    _, height, width = recognizer.rec_image_shape
    wh_ratio = max(width / height, crop.shape[1] / max(1, crop.shape[0]))
    batch = recognizer.resize_norm_img(crop, wh_ratio)[np.newaxis].astype(np.float32)
    return recognizer.session(batch)[0], recognizer.postprocess_op.character


def pp_ocr_recognizer(model: Path, threads: int) -> TextRecognizer:
    """A PP-OCR text recognizer alone, from the ONNX file ``model`` (its alphabet is
    stored in the file), on a non-spinning session; nothing is downloaded."""
    if not model.is_file():
        raise FileNotFoundError(f"text recognizer model {model} missing")
    params = {
        "Global.log_level": "error",
        "Global.use_cls": False,
        "Global.model_root_dir": str(model.parent),
        "Rec.model_path": str(model),
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    recognizer = RapidOCR(params=params)._load_rec_model()
    recognizer.session.session = _session(model, threads)
    return recognizer


def _session(model: Path, threads: int) -> ort.InferenceSession:
    """An onnxruntime CPU session with ``threads`` intra-op threads that do not spin, on
    ``model`` with its denormal weights flushed to zero (see :mod:`.denormals`).

    Spinning worker threads keep a core busy between inferences; on a 2-core booth
    that time belongs to the capture threads and the user interface.
    """
    weights, flushed = flush_denormal_weights(model.read_bytes())
    if flushed:
        log.debug("%s: %d denormal weights flushed to zero", model.name, flushed)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(weights, options, providers=["CPUExecutionProvider"])


def worth_reading(quad: np.ndarray) -> bool:
    """False for detections no plate (or part of one) can be: long lines, slivers.

    ``quad`` is four corner points: top-left, top-right, bottom-right, bottom-left.
    """
    points = np.asarray(quad, dtype=np.float32)
    width = float(np.linalg.norm(points[0] - points[1]))
    height = float(np.linalg.norm(points[0] - points[3]))
    return height >= 6 and width / max(height, 1.0) <= MAX_LINE_ASPECT


def detect_lines(
    detector: TextDetector,
    image_bgr: np.ndarray,
    det_side: int,
    box_thresh: float,
    *,
    near: Box | None = None,
    skip: Sequence[Box] = (),
) -> list[np.ndarray]:
    """The text lines worth reading that ``detector`` finds in ``image_bgr`` seen at
    ``det_side`` px (with ``near``, those over that x, y, w, h box; none in the same
    place as a ``skip`` box), as four-corner quads; the caller holds the detector's
    lock."""
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 BGR image, got shape {image_bgr.shape}")
    detector.limit_side_len = det_side
    detector.postprocess_op.box_thresh = box_thresh
    found = detector(image_bgr)
    if found.boxes is None:
        return []
    quads = [np.asarray(q, dtype=np.float32) for q in found.boxes]
    return [
        q
        for q in quads
        if worth_reading(q)
        and (near is None or is_over(q, near))
        and not any(same_place(q, box) for box in skip)
    ]


def _detector_params(models: Path, det_side: int, threads: int) -> dict[str, object]:
    """RapidOCR settings of the PP-OCR text detector (shared by both engines)."""
    return {
        "Global.log_level": "error",
        "Global.use_cls": False,
        "Global.model_root_dir": str(models),
        "Det.model_path": str(models / DET_MODEL),
        "Det.limit_type": "max",
        "Det.limit_side_len": det_side,
        "Det.unclip_ratio": UNCLIP_RATIO,
        "Det.box_thresh": BOX_THRESH,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }


def pp_ocr_detector(det_side: int, threads: int, model_dir: Path | None = None) -> TextDetector:
    """The PP-OCR text detector alone, as :class:`RapidOcrEngine` uses it: the model
    shipped in the ``rapidocr`` wheel (never downloaded), on a non-spinning session."""
    models = model_dir or bundled_model_dir()
    if not (models / DET_MODEL).is_file():
        raise FileNotFoundError(
            f"RapidOCR detector {models / DET_MODEL} missing; reinstall the rapidocr "
            "package (the booth never downloads models)"
        )
    detector = RapidOCR(params=_detector_params(models, det_side, threads))._load_det_model()
    return _own_detector(detector, models / DET_MODEL, threads)


def _own_detector(detector: TextDetector, model: Path, threads: int) -> TextDetector:
    """``detector`` on this module's session of ``model`` (:func:`_session`), normalizing
    its input in float32.

    RapidOCR keeps the detector's mean and standard deviation as Python floats, which
    numpy turns into float64 arrays: the whole resized photo is then normalized in
    float64 and cast back, 9 ms of a 1280 x 720 photo's detection on 2 cores. As
    float32 arrays the result is the same to the bit, in a third of the time.
    """
    detector.session.session = _session(model, threads)
    detector.mean = np.asarray(detector.mean, dtype=np.float32)
    detector.std = np.asarray(detector.std, dtype=np.float32)
    return detector
