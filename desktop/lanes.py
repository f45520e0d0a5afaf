"""The booth's cameras and plate recognition: one capture per lane, one OCR worker.

No Qt here: the UI hands in a callback for the reads and shows the cameras' state.
Loading an OCR engine takes a few seconds, so :meth:`LanePipeline.start_recognition`
is meant to be called off the GUI thread; the cameras play meanwhile.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from desktop.capture import CaptureGroup
from desktop.config import BoothConfig
from desktop.recognition.engine import load_engine
from desktop.recognition.evidence import EvidenceWriter
from desktop.recognition.recognizer import PlateRecognizer
from desktop.recognition.worker import LaneFeed, ReadListener, RecognitionWorker

log = logging.getLogger(__name__)

EVIDENCE_FOLDER = "evidence"


class LanePipeline:
    """Captures every configured lane and turns its frames into one read per vehicle."""

    def __init__(self, config: BoothConfig, on_read: ReadListener) -> None:
        self.config = config
        self.cameras = CaptureGroup.from_sources({lane.name: lane.camera for lane in config.lanes})
        self._on_read = on_read
        self._worker: RecognitionWorker | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def start_cameras(self) -> None:
        """Start every lane's capture thread."""
        self.cameras.start()

    def start_recognition(self) -> None:
        """Load the OCR engine (slow: call off the GUI thread) and start reading plates.

        Raises :class:`~desktop.recognition.engine.EngineUnavailableError` when the
        configured engine is not installed.
        """
        if not self.config.lanes:
            return
        recognizer = PlateRecognizer(
            load_engine(self.config.ocr.engine),
            region=self.config.plates.region,
            default_province=self.config.plates.local_province,
        )
        feeds = [
            LaneFeed(lane.name, self.cameras[lane.name], roi=lane.roi) for lane in self.config.lanes
        ]
        worker = RecognitionWorker(
            feeds,
            recognizer,
            self._on_read,
            evidence=EvidenceWriter(
                Path(self.config.data_dir) / EVIDENCE_FOLDER, keep_days=self.config.evidence_days
            ),
        )
        with self._lock:
            if self._stopped:
                return
            self._worker = worker
            worker.start()
        log.info("recognition running on %d lanes with %s", len(feeds), self.config.ocr.engine)

    @property
    def recognizing(self) -> bool:
        """True once the OCR worker runs."""
        return self._worker is not None

    def stop(self) -> None:
        """Stop recognition, then the cameras."""
        with self._lock:
            self._stopped = True
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
        self.cameras.stop()
