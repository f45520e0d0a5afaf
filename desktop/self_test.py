"""``self-test``: prove an installed booth can start, without a server, camera or screen.

Each check is timed and reported on one line; a failing check names what is wrong and the
test goes on, so one run lists every broken piece. This module holds the checks that need
no Qt (config, database, OCR engine, sample plate); ``ui.self_test`` adds the Qt ones.
"""

from __future__ import annotations

import platform
import re
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TextIO

from desktop.config import BoothConfig, default_config_path, load_config
from desktop.recognition.engine import DEFAULT_ENGINE, OcrEngine, load_engine
from desktop.resources import app_root, resource_path

#: Sample images are named ``plate-<region>-<TEXT>.<ext>``: the text the booth must read.
SAMPLE_NAME = re.compile(r"^plate-(?P<region>[a-z]+)-(?P<text>[A-Z0-9]+)\.(?:jpg|png)$")


def app_version() -> str:
    """The project's version from ``pyproject.toml`` (bundled beside the frozen app too)."""
    try:
        with (app_root() / "pyproject.toml").open("rb") as stream:
            return str(tomllib.load(stream)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def header() -> str:
    """The report's first line: version, how it runs, platform."""
    how = "frozen" if getattr(sys, "frozen", False) else "source"
    return (
        f"Recoup {app_version()} self-test ({how}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()})"
    )


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``detail`` says what was found, or what went wrong."""

    name: str
    ok: bool
    seconds: float
    detail: str

    def line(self) -> str:
        """The report line, e.g. ``ok    database          0.04 s  schema version 3``."""
        status = "ok" if self.ok else "FAIL"
        return f"{status:<5} {self.name:<15} {self.seconds:6.2f} s  {self.detail}"


def run_check(name: str, check: Callable[[], str]) -> CheckResult:
    """Run ``check`` (returns its detail) timed; any exception becomes a failed result."""
    start = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # a self-test reports every failure, whatever its kind
        return CheckResult(name, False, time.perf_counter() - start, _describe(exc))
    return CheckResult(name, True, time.perf_counter() - start, detail)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text}"


def find_sample(folder: Path | None = None) -> tuple[Path, str, str]:
    """The bundled sample plate image: its path, region and expected text."""
    folder = folder or resource_path("samples")
    if not folder.is_dir():
        raise FileNotFoundError(f"sample folder {folder} is missing")
    for path in sorted(folder.iterdir()):
        found = SAMPLE_NAME.match(path.name)
        if found:
            return path, found["region"], found["text"]
    raise FileNotFoundError(f"no sample plate image (plate-<region>-<TEXT>.jpg) in {folder}")


class CoreChecks:
    """The checks without Qt, in order; later ones use what earlier ones loaded."""

    def __init__(
        self,
        config_path: Path | None,
        work_dir: Path,
        *,
        sample_dir: Path | None = None,
        engine_loader: Callable[[str], OcrEngine] = load_engine,
    ) -> None:
        self.config_path = config_path
        self.work_dir = Path(work_dir)
        self.sample_dir = sample_dir
        self.engine_loader = engine_loader
        self.config: BoothConfig | None = None
        self.engine: OcrEngine | None = None

    def __iter__(self) -> Iterator[CheckResult]:
        yield run_check("config", self.check_config)
        yield run_check("database", self.check_database)
        yield run_check("ocr engine", self.check_engine)
        yield run_check("province reader", self.check_province_reader)
        yield run_check("sample plate", self.check_sample)

    def check_config(self) -> str:
        """Load the config file (a missing default file means defaults)."""
        path = self.config_path or default_config_path()
        if not path.exists() and self.config_path is None:
            self.config = load_config(None)
            return f"defaults (no file at {path}); data folder {self.config.data_dir}"
        self.config = load_config(path)
        lanes = len(self.config.lanes)
        return f"{path}: booth {self.config.booth.id}, {lanes} lane(s)"

    def check_database(self) -> str:
        """Create a booth database in the work folder, migrated to the newest schema."""
        from desktop.booth import DATABASE_FILE
        from desktop.store import HEAD_VERSION, Store

        with Store(self.work_dir / DATABASE_FILE) as store:
            version = store.schema_version()
            entries = store.blacklist.count()
        if version != HEAD_VERSION:
            raise RuntimeError(f"schema version {version}, expected {HEAD_VERSION}")
        return f"schema version {version}, {entries} cached entries (temporary file)"

    def check_engine(self) -> str:
        """Load the default OCR engine with its bundled models."""
        self.engine = self.engine_loader(DEFAULT_ENGINE)
        return f"{DEFAULT_ENGINE} loaded"

    def check_province_reader(self) -> str:
        """Load the second recognizer that settles Chinese plates' provinces."""
        from desktop.recognition.province_reader import ProvinceReader

        return f"{ProvinceReader().model.name} loaded"

    def check_sample(self) -> str:
        """Read the bundled sample plate; the text must match its file name."""
        import cv2

        from desktop.recognition.recognizer import PlateRecognizer

        path, region, expected = find_sample(self.sample_dir)
        if self.engine is None:
            raise RuntimeError("skipped: the OCR engine did not load")
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"cannot decode {path}")
        found = PlateRecognizer(self.engine, region).recognize(image)
        read = found[0].text if found else None
        if read != expected:
            raise AssertionError(f"{path.name}: read {read or 'no plate'}, expected {expected}")
        return f"{path.name}: read {read} ({found[0].confidence:.2f})"


def summary(results: Iterable[CheckResult], seconds: float) -> str:
    """The closing line: passed, or the names of the failed checks."""
    results = list(results)
    failed = [r.name for r in results if not r.ok]
    if failed:
        return f"self-test FAILED ({', '.join(failed)}) in {seconds:.2f} s"
    return f"self-test passed: {len(results)} checks in {seconds:.2f} s"


def run_self_test(
    config_path: Path | None = None,
    out: TextIO | None = None,
    *,
    qt_checks: Callable[[], Iterable[CheckResult]] | None = None,
    sample_dir: Path | None = None,
    engine_loader: Callable[[str], OcrEngine] = load_engine,
) -> int:
    """Run every check, print one line each and a summary to ``out``; 0 passed, 1 failed.

    The database is created in a temporary folder that is removed afterwards; ``qt_checks``
    (``ui.self_test.qt_checks``) runs last, after the core checks.
    """
    out = out or sys.stdout
    start = time.perf_counter()
    results: list[CheckResult] = []
    print(header(), file=out, flush=True)
    with tempfile.TemporaryDirectory(prefix="recoup-self-test-", ignore_cleanup_errors=True) as tmp:
        core = CoreChecks(
            config_path, Path(tmp), sample_dir=sample_dir, engine_loader=engine_loader
        )
        for result in chain(core, qt_checks() if qt_checks else ()):
            results.append(result)
            print(result.line(), file=out, flush=True)
    print(summary(results, time.perf_counter() - start), file=out, flush=True)
    return 0 if all(r.ok for r in results) else 1
