"""Translations: the built Chinese .qm translates the screen; the .ts is complete."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from desktop.config import load_config
from ui import i18n
from ui.format import format_age
from ui.settings import SettingsDialog

ROOT = Path(__file__).resolve().parents[2]
TS_FILE = ROOT / "resources" / "translations" / "recoup_zh_CN.ts"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.fixture(scope="module")
def built() -> None:
    """Run ``scripts/translations.py build`` once, as setup.sh does."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "translations.py"), "build"],
        check=True,
        capture_output=True,
    )
    assert i18n.qm_path("zh_CN").is_file()


@pytest.fixture
def chinese(built: None, qapp: QApplication) -> Iterator[None]:
    font = qapp.font()
    translator = i18n.install_translator(qapp, "zh_CN")
    assert translator is not None
    yield
    i18n.remove_translator(qapp, translator)
    qapp.setFont(font)


def messages() -> list[tuple[str, ET.Element]]:
    root = ET.parse(TS_FILE).getroot()
    return [
        (context.findtext("name") or "", message)
        for context in root.findall("context")
        for message in context.findall("message")
    ]


def test_settings_dialog_comes_out_in_chinese(chinese: None, qtbot, tmp_path: Path) -> None:
    dialog = SettingsDialog(load_config(None, data_dir=tmp_path), tmp_path / "config.toml")
    qtbot.addWidget(dialog)
    assert dialog.save_button.text() == "保存"
    assert dialog.cancel_button.text() == "取消"
    assert dialog.page_list.item(0).text() == "服务器"
    assert dialog.server_page.test_button.text() == "测试连接"


def test_strings_whose_context_lupdate_could_not_know_are_translated(chinese: None) -> None:
    # ui/format.py translates in context "format" through a module-level tr() helper,
    # which lupdate files under the empty context; the fallback finds it anyway.
    assert format_age(75) == "1 分钟"


def test_english_needs_no_translator(qapp: QApplication) -> None:
    assert i18n.install_translator(qapp, "en") is None
    assert format_age(75) == "1 min"


def test_chinese_adds_the_bundled_cjk_font(chinese: None, qapp: QApplication) -> None:
    assert any("Droid" in family for family in qapp.font().families())


def test_every_message_is_translated() -> None:
    found = messages()
    assert len(found) > 100
    untranslated = []
    for context, message in found:
        translation = message.find("translation")
        text = "" if translation is None else "".join(translation.itertext()).strip()
        if translation is None or translation.get("type") or not text:
            untranslated.append(f"{context}: {message.findtext('source')!r}")
    assert untranslated == []


def test_translations_keep_every_placeholder() -> None:
    broken = []
    for context, message in messages():
        source = message.findtext("source") or ""
        translation = "".join(message.find("translation").itertext())
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(translation)):
            broken.append(f"{context}: {source!r} -> {translation!r}")
    assert broken == []


def test_every_string_in_the_screens_has_a_translation(tmp_path: Path) -> None:
    """lupdate over today's ``ui/`` finds no string the committed .ts does not translate."""
    fresh = tmp_path / "recoup_zh_CN.ts"
    fresh.write_bytes(TS_FILE.read_bytes())
    sources = sorted(str(path) for path in (ROOT / "ui").rglob("*.py"))
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    subprocess.run(
        [str(lupdate), "-silent", "-no-obsolete", *sources, "-ts", str(fresh)],
        check=True,
        capture_output=True,
    )
    root = ET.parse(fresh).getroot()
    missing = [
        message.findtext("source")
        for message in root.iter("message")
        if message.find("translation").get("type") == "unfinished"
        or not "".join(message.find("translation").itertext()).strip()
    ]
    assert missing == [], "run: python scripts/translations.py update, then translate these"
