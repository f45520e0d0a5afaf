#!/usr/bin/env python3
"""Update and build the booth's translations (Qt Linguist).

    python scripts/translations.py update   # scan ui/**/*.py into resources/translations/*.ts
    python scripts/translations.py build    # compile each .ts into its .qm (a build output)

``update`` keeps existing translations and drops strings that are gone from the code.
``build`` also copies every translation into the context-free ("") context of the .qm, so
a string is found even when the context the code asks for at run time differs from the
one lupdate saw (a module-level ``tr()`` helper, or ``self.tr`` inherited by a subclass);
:class:`ui.i18n.FallbackTranslator` looks there second.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "resources" / "translations"
LANGUAGES = ("zh_CN",)
FALLBACK_CONTEXT = ""


def ts_path(language: str) -> Path:
    """The Linguist source file of ``language``."""
    return TRANSLATIONS / f"recoup_{language}.ts"


def qm_path(language: str) -> Path:
    """The compiled translation of ``language``."""
    return TRANSLATIONS / f"recoup_{language}.qm"


def tool(name: str) -> str:
    """The PySide6 tool ``name`` from this interpreter's environment (or PATH)."""
    folder = Path(sys.executable).parent
    for candidate in (folder / name, folder / f"{name}.exe"):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PySide6 into this environment")
    return found


def update() -> None:
    """Refresh every .ts from the translatable strings in ``ui/**/*.py``."""
    sources = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "ui").rglob("*.py"))
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        subprocess.run(
            [
                tool("pyside6-lupdate"),
                "-silent",
                "-no-obsolete",
                "-locations",
                "relative",
                "-source-language",
                "en",
                "-target-language",
                language,
                *sources,
                "-ts",
                str(ts_path(language).relative_to(ROOT)),
            ],
            cwd=ROOT,
            check=True,
        )
        print(f"updated {ts_path(language).relative_to(ROOT)} from {len(sources)} files")


def build() -> None:
    """Compile every .ts into its .qm, with the context-free fallback copies added."""
    for language in LANGUAGES:
        source = ts_path(language)
        if not source.is_file():
            raise SystemExit(f"{source} is missing: run '{Path(__file__).name} update' first")
        with tempfile.TemporaryDirectory() as folder:
            staged = Path(folder) / source.name
            with_fallback_context(source, staged)
            subprocess.run(
                [tool("pyside6-lrelease"), "-silent", str(staged), "-qm", str(qm_path(language))],
                check=True,
            )
        print(f"built {qm_path(language).relative_to(ROOT)}")


def with_fallback_context(source: Path, target: Path) -> None:
    """Write ``source`` to ``target`` with each translated message also in context ""."""
    tree = ET.parse(source)
    root = tree.getroot()
    contexts = root.findall("context")
    fallback = next((c for c in contexts if (c.findtext("name") or "") == FALLBACK_CONTEXT), None)
    if fallback is None:
        fallback = ET.SubElement(root, "context")
        ET.SubElement(fallback, "name").text = FALLBACK_CONTEXT
    seen = {_message_key(m) for m in fallback.findall("message")}
    for context in contexts:
        if context is fallback:
            continue
        for message in context.findall("message"):
            key = _message_key(message)
            translation = message.find("translation")
            if key in seen or translation is None or translation.get("type"):
                continue
            seen.add(key)
            duplicate = copy.deepcopy(message)
            for location in duplicate.findall("location"):
                duplicate.remove(location)
            fallback.append(duplicate)
    tree.write(target, encoding="utf-8", xml_declaration=True)


def _message_key(message: ET.Element) -> tuple[str, str]:
    return message.findtext("source") or "", message.findtext("comment") or ""


def main(argv: list[str] | None = None) -> int:
    """Command line: ``update`` or ``build``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("update", "build"))
    args = parser.parse_args(argv)
    update() if args.command == "update" else build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
