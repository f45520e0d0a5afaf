"""The Qt part of ``self-test``: platform plugin, style sheet, icon plugin, translations.

PySide6 is imported inside the checks, so a Qt module missing from a frozen build is
reported as a failed check naming it instead of a traceback. Set ``QT_QPA_PLATFORM``
(``offscreen``) before calling :func:`qt_checks`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from desktop.resources import resource_path
from desktop.self_test import CheckResult, run_check

#: The style sheet's window background (``QWidget { background-color: ... }``).
STYLE_BACKGROUND = "#10151c"
ICON_SIZE = 64


class QtChecks:
    """Checks in order; the first creates the QApplication the others use."""

    def __init__(self) -> None:
        self.app: Any = None

    def __iter__(self) -> Iterator[CheckResult]:
        yield run_check("qt", self.check_application)
        for name, check in (
            ("style sheet", self.check_style_sheet),
            ("icon", self.check_icon),
            ("translations", self.check_translations),
        ):
            yield run_check(name, check if self.app is not None else self._no_application)

    def _no_application(self) -> str:
        raise RuntimeError("skipped: Qt did not start")

    def check_application(self) -> str:
        """Create the booth's QApplication (every screen module imported on the way).

        On Windows the native platform plugin is loaded too (not started), so a Qt
        library it needs that is missing from the bundle fails here, not at the booth.
        """
        from PySide6.QtCore import QLibraryInfo, QPluginLoader, qVersion

        from ui.app import create_application

        self.app = create_application(["recoup-self-test"])
        detail = f"Qt {qVersion()}, platform plugin {self.app.platformName()}"
        if sys.platform == "win32":
            plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
            loader = QPluginLoader(str(plugins / "platforms" / "qwindows.dll"))
            if not loader.load():
                raise RuntimeError(f"native platform plugin: {loader.errorString()}")
            detail += ", qwindows loads"
        return detail

    def check_style_sheet(self) -> str:
        """The style sheet is loaded and paints a widget with its colours."""
        from PySide6.QtGui import QColor
        from PySide6.QtWidgets import QLabel

        path = resource_path("style.qss")
        if not path.is_file():
            raise FileNotFoundError(f"style sheet {path} is missing")
        if self.app.styleSheet() != path.read_text(encoding="utf-8"):
            raise RuntimeError("the application's style sheet differs from style.qss")
        label = QLabel("RCP7284")
        label.resize(200, 60)
        image = label.grab().toImage()
        label.deleteLater()
        corner = image.pixelColor(1, 1)
        if image.isNull() or corner != QColor(STYLE_BACKGROUND):
            raise RuntimeError(
                f"a styled label painted {corner.name()} instead of {STYLE_BACKGROUND}"
            )
        return f"{path.name} applied; label painted {image.width()}x{image.height()}"

    def check_icon(self) -> str:
        """The SVG icon renders (the SVG image and icon-engine plugins load)."""
        from PySide6.QtGui import QIcon, QImageReader

        path = resource_path("icons", "recoup.svg")
        if not path.is_file():
            raise FileNotFoundError(f"icon {path} is missing")
        formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
        if "svg" not in formats:
            raise RuntimeError(f"no SVG image plugin (formats: {', '.join(sorted(formats))})")
        pixmap = QIcon(str(path)).pixmap(ICON_SIZE, ICON_SIZE)
        if pixmap.isNull():
            raise RuntimeError(f"{path.name} rendered as an empty image")
        return f"{path.name} rendered at {pixmap.width()} px"

    def check_translations(self) -> str:
        """The Chinese translations and the CJK font load."""
        from ui.i18n import add_cjk_font, install_translator, qm_path, remove_translator

        translator = install_translator(self.app, "zh_CN")
        if translator is None:
            raise FileNotFoundError(f"translations {qm_path('zh_CN')} missing or unreadable")
        remove_translator(self.app, translator)
        family = add_cjk_font(self.app)
        if family is None:
            raise RuntimeError("the CJK font did not load")
        return f"{qm_path('zh_CN').name} loaded; CJK font {family}"


def qt_checks() -> Iterator[CheckResult]:
    """The Qt checks, for :func:`desktop.self_test.run_self_test`."""
    yield from QtChecks()
