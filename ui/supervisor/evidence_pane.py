"""The evidence images of a vehicle (snapshots and plate crops), fetched in the background.

The review window's detail pane hands it the evidence listed in a vehicle's file; each
image is fetched from the server (every view is audited there) and decoded off the GUI
thread, then shown as a thumbnail with what it is and when it was received. A line above
the thumbnails says what is going on: loading, none on file, or that they failed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from desktop.client import ServerError
from desktop.supervisor_client import SupervisorClient
from desktop.supervisor_models import Evidence, VehicleFile
from ui.background import run_in_background
from ui.format import format_local_time
from ui.roles import set_role

log = logging.getLogger(__name__)

# Images shown at most (newest first): the snapshot and crop of the last few notices.
MAX_IMAGES = 4
COLUMNS = 2  # one row per notice: its snapshot, then its crop
THUMB_WIDTH = 256
THUMB_HEIGHT = 144
MAX_UPSCALE = 3.0
# Thumbnails kept while the window is open, so going back to a vehicle fetches nothing.
CACHE_SIZE = 60


def evidence_of(file: VehicleFile) -> list[Evidence]:
    """Every evidence item of a file (outcomes, sightings, the file's own list), each
    once: the newest notice first, each notice's snapshot before its crop."""
    seen: dict[uuid.UUID, Evidence] = {}
    groups: Iterable[list[Evidence]] = (
        [item for outcome in file.outcomes for item in outcome.evidence],
        [item for sighting in file.sightings for item in sighting.evidence],
        file.evidence,
    )
    for group in groups:
        for item in group:
            seen.setdefault(item.evidence_id, item)
    newest: dict[object, datetime] = {}
    for item in seen.values():
        group = item.notice_id or item.read_id or item.evidence_id
        newest[group] = max(newest.get(group, item.received_at), item.received_at)

    def order(item: Evidence) -> tuple[datetime, str, bool]:
        group = item.notice_id or item.read_id or item.evidence_id
        return (newest[group], str(group), item.kind == "snapshot")

    return sorted(seen.values(), key=order, reverse=True)


def _thumbnail(data: bytes) -> QImage:
    """Decode JPEG bytes and scale them to thumbnail size (QImage is safe off the GUI thread)."""
    image = QImage.fromData(data, "JPG")
    if image.isNull():
        raise ValueError("the server sent an image that cannot be decoded")
    # Fit the thumbnail box; a small plate crop is enlarged (at most 3 times) so a
    # supervisor can read its characters.
    scale = min(THUMB_WIDTH / image.width(), THUMB_HEIGHT / image.height(), MAX_UPSCALE)
    return image.scaled(
        max(1, round(image.width() * scale)),
        max(1, round(image.height() * scale)),
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


class EvidencePane(QWidget):
    """Thumbnails of a vehicle's evidence images with a status line."""

    images_shown = Signal(int)  # every requested image has arrived (or failed): how many shown

    def __init__(self, client: SupervisorClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._generation = 0
        self._waiting = 0
        self._failed = 0
        self._total = 0
        self._cache: dict[uuid.UUID, QImage] = {}
        self.thumbnails: list[QLabel] = []
        self._captions: list[QLabel] = []
        self.status = QLabel(self)
        self.status.setObjectName("evidenceStatus")
        self.status.setWordWrap(True)
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addLayout(self._grid)
        self.clear()

    @property
    def loading(self) -> bool:
        """True while images are being fetched."""
        return self._waiting > 0

    def clear(self, text: str | None = None) -> None:
        """No vehicle (or a new one loading): drop the images, show ``text``."""
        self._generation += 1
        self._waiting = 0
        self._remove_thumbnails()
        self._say(text or self.tr("Select a vehicle to see its evidence images."), "muted")

    def show_loading(self) -> None:
        """The vehicle's file is on its way."""
        self.clear(self.tr("Loading evidence images..."))

    def show_failed(self) -> None:
        """The vehicle's file could not be loaded, so neither can its images."""
        self.clear(self.tr("The evidence images could not be loaded."))
        set_role(self.status, "danger")

    def show_file(self, file: VehicleFile) -> None:
        """Fetch and show the evidence of ``file`` (newest first, at most :data:`MAX_IMAGES`)."""
        items = evidence_of(file)
        total = len(items)
        self.clear()
        if not items:
            self._say(
                self.tr("No evidence images on file for {plate}.").format(plate=file.plate), "muted"
            )
            self.images_shown.emit(0)
            return
        items = items[:MAX_IMAGES]
        self._say(self.tr("Loading evidence images..."), "muted")
        generation, client = self._generation, self._client
        self._waiting, self._failed = len(items), 0
        self._total = total
        for index, item in enumerate(items):
            slot = self._placeholder(index, item)

            def fetch(evidence_id: uuid.UUID = item.evidence_id) -> QImage:
                return _thumbnail(client.evidence_image(evidence_id))

            def arrived(
                image: QImage, slot: QLabel = slot, evidence_id: uuid.UUID = item.evidence_id
            ) -> None:
                self._remember(evidence_id, image)
                if generation == self._generation:
                    slot.setPixmap(QPixmap.fromImage(image))
                    slot.setProperty("loaded", True)
                    self._one_done()

            def failed(error: Exception, slot: QLabel = slot) -> None:
                if generation != self._generation:
                    return
                if not isinstance(error, (ServerError, ValueError)):
                    log.error("evidence image failed", exc_info=error)
                else:
                    log.warning("evidence image not shown: %s", error)
                slot.setText(self.tr("Image not available"))
                self._failed += 1
                self._one_done()

            cached = self._cache.get(item.evidence_id)
            if cached is not None:
                # Already fetched in this window (each fetch is a new audited view).
                arrived(cached)
            else:
                run_in_background(fetch, arrived, failed, owner=self)

    def shown_images(self) -> list[QImage]:
        """The thumbnails that arrived, in display order (for tests and screenshots)."""
        return [
            label.pixmap().toImage()
            for label in self.thumbnails
            if label.property("loaded") and not label.pixmap().isNull()
        ]

    # ----------------------------------------------------------------- helpers

    def _placeholder(self, index: int, item: Evidence) -> QLabel:
        kind = self.tr("Snapshot") if item.kind == "snapshot" else self.tr("Plate crop")
        caption = QLabel(
            self.tr("{kind}, {booth}, {when}").format(
                kind=kind,
                booth=item.booth_id,
                when=format_local_time(item.received_at, with_date=True),
            ),
            self,
        )
        caption.setWordWrap(True)
        image = QLabel(self.tr("Loading..."), self)
        image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        image.setMinimumSize(THUMB_WIDTH // 2, THUMB_HEIGHT // 2)
        image.setToolTip(kind)
        image.setProperty("evidence_id", str(item.evidence_id))
        row, column = divmod(index, COLUMNS)
        self._grid.addWidget(image, row * 2, column)
        self._grid.addWidget(caption, row * 2 + 1, column)
        self.thumbnails.append(image)
        self._captions.append(caption)
        return image

    def _remember(self, evidence_id: uuid.UUID, image: QImage) -> None:
        self._cache[evidence_id] = image
        while len(self._cache) > CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))

    def _one_done(self) -> None:
        self._waiting -= 1
        if self._waiting > 0:
            return
        shown = len(self.thumbnails) - self._failed
        if shown == 0:
            self._say(self.tr("The evidence images could not be loaded."), "danger")
        elif self._total > len(self.thumbnails):
            self._say(
                self.tr("Newest {shown} of {total} evidence images.").format(
                    shown=len(self.thumbnails), total=self._total
                ),
                "muted",
            )
        else:
            self._say(self.tr("{count} evidence images.").format(count=shown), "muted")
        self.images_shown.emit(shown)

    def _remove_thumbnails(self) -> None:
        for label in [*self.thumbnails, *self._captions]:
            self._grid.removeWidget(label)
            label.deleteLater()
        self.thumbnails = []
        self._captions = []
        self._total = 0

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        set_role(self.status, role)
