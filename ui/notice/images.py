"""A picture slot for the plate crop or the snapshot: decoded off the GUI thread, with a
neutral placeholder when there is no picture."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QWidget

from ui.background import run_in_background
from ui.roles import set_role


def _decode(path: Path) -> QImage:
    return QImage(str(path))  # QImage (not QPixmap) is safe to build off the GUI thread


class ImageSlot(QLabel):
    """Shows one image scaled into a fixed box, or ``placeholder`` text when absent."""

    def __init__(self, size: QSize, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._box = size
        self._placeholder = placeholder
        self.setFixedSize(size)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setWordWrap(True)
        self.show_placeholder()

    @property
    def has_image(self) -> bool:
        """True once an image is shown."""
        pixmap = self.pixmap()
        return pixmap is not None and not pixmap.isNull()

    def show_placeholder(self, text: str | None = None) -> None:
        """Show the neutral placeholder (or ``text``) instead of an image."""
        self.clear()
        self.setText(text or self._placeholder)
        set_role(self, "muted")

    def load(self, path: Path | None) -> None:
        """Decode ``path`` in the background and show it; the placeholder when absent."""
        if path is None:
            self.show_placeholder()
            return
        run_in_background(lambda: _decode(Path(path)), self._decoded, self._failed, owner=self)

    def _decoded(self, image: QImage) -> None:
        if image.isNull():
            self.show_placeholder(self.tr("Picture unavailable"))
            return
        pixmap = QPixmap.fromImage(image).scaled(
            self._box - QSize(4, 4),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        set_role(self, "")
        self.setPixmap(pixmap)

    def _failed(self, _error: Exception) -> None:
        self.show_placeholder(self.tr("Picture unavailable"))
