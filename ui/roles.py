"""The ``role`` dynamic property: what a style sheet targets, with colours that work without one.

A widget's role is set as a dynamic property (``QLabel[role="danger"]`` in
``resources/style.qss``) and also through its palette, so the booth reads right with no
style sheet at all. A style sheet rule that matches overrides the palette.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from ui.read_text import ROLE_DANGER, ROLE_MUTED, ROLE_OK, ROLE_WARNING

# (background or None for the default, text colour) per role; high contrast on purpose.
ROLE_COLOURS: dict[str, tuple[str | None, str]] = {
    ROLE_DANGER: ("#b71c1c", "#ffffff"),
    ROLE_WARNING: ("#ffb300", "#000000"),
    ROLE_OK: (None, "#1b5e20"),
    ROLE_MUTED: (None, "#455a64"),
}


def set_role(widget: QWidget, role: str) -> None:
    """Give ``widget`` a ``role`` ("danger", "warning", "ok", "muted" or "")."""
    if widget.property("role") == role:
        return
    widget.setProperty("role", role)
    palette = QApplication.palette(widget)
    colours = ROLE_COLOURS.get(role)
    if colours is not None:
        background, text = colours
        for group in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
            palette.setColor(group, QColor(text))
        if background is not None:
            palette.setColor(QPalette.ColorRole.Window, QColor(background))
    widget.setAutoFillBackground(colours is not None and colours[0] is not None)
    widget.setPalette(palette)
    # Re-evaluate style sheet rules that depend on the property.
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.update()


def scaled_font(widget: QWidget, factor: float, *, bold: bool = False) -> QFont:
    """The widget's font scaled by ``factor`` (large booth type), optionally bold."""
    font = QFont(widget.font())
    size = font.pointSizeF()
    if size > 0:
        font.setPointSizeF(size * factor)
    else:
        font.setPixelSize(round(font.pixelSize() * factor))
    font.setBold(bold)
    return font
