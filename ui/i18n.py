"""The booth's screen language: Qt translators for Simplified Chinese, and a CJK font.

``scripts/translations.py build`` compiles ``resources/translations/recoup_<lang>.qm``;
:func:`install_translator` loads it. English is the source language and needs nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.resources import resource_path

log = logging.getLogger(__name__)

# In the source tree or the frozen app's bundle folder alike.
TRANSLATIONS_DIR = resource_path("translations")
CJK_FONT = resource_path("fonts", "DroidSansFallbackFull.ttf")
SOURCE_LANGUAGE = "en"
#: Languages the booth offers, each named in itself.
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
_CJK_LANGUAGES = frozenset({"zh_CN"})


class FallbackTranslator(QTranslator):
    """A translator that also looks a string up without its context.

    ``build`` puts every translation in the context-free section too, so strings whose
    run-time context differs from the one lupdate recorded are still translated.
    """

    def translate(
        self,
        context: str,
        source_text: str,
        disambiguation: str | None = None,
        n: int = -1,
    ) -> str:
        """The translation of ``source_text`` in ``context``, else in no context, else ""."""
        text = super().translate(context, source_text, disambiguation, n)
        if not text and context:
            text = super().translate("", source_text, disambiguation, n)
        return text


def qm_path(language: str) -> Path:
    """The compiled translation file of ``language``."""
    return TRANSLATIONS_DIR / f"recoup_{language}.qm"


def install_translator(app: QApplication, language: str) -> QTranslator | None:
    """Translate the app into ``language`` ("en" or "zh_CN"); None for English.

    Also installs Qt's own translations (standard buttons, context menus) when they ship
    with PySide6, and for Chinese adds the bundled CJK font as a fallback of the app font.
    Returns None (and logs why) when the .qm file is missing. Undo with
    :func:`remove_translator`.
    """
    if language == SOURCE_LANGUAGE:
        return None
    if language not in LANGUAGES:
        log.warning("unknown language %r; the screen stays in English", language)
        return None
    path = qm_path(language)
    translator = FallbackTranslator(app)
    if not translator.load(str(path)):
        log.warning(
            "no translations at %s (run: python scripts/translations.py build); "
            "the screen stays in English",
            path,
        )
        translator.deleteLater()
        return None
    qt_translator = QTranslator(translator)
    qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_translator.load(QLocale(language), "qtbase", "_", qt_folder):
        app.installTranslator(qt_translator)
    app.installTranslator(translator)
    if language in _CJK_LANGUAGES:
        add_cjk_font(app)
    return translator


def remove_translator(app: QApplication, translator: QTranslator | None) -> None:
    """Undo :func:`install_translator` (the app's strings and Qt's own)."""
    if translator is None:
        return
    for child in translator.findChildren(QTranslator):
        app.removeTranslator(child)
    app.removeTranslator(translator)


def add_cjk_font(app: QGuiApplication) -> str | None:
    """Register the bundled CJK font and add it to the app font's families; its family."""
    font_id = QFontDatabase.addApplicationFont(str(CJK_FONT))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        log.warning("cannot load the CJK font %s; Chinese text may show as boxes", CJK_FONT)
        return None
    family = families[0]
    font = app.font()
    current = font.families() or [font.family()]
    if family not in current:
        font.setFamilies([*current, family])
        app.setFont(font)
    return family
