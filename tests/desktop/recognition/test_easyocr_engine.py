"""The optional EasyOCR engine, through the real models: weights verified before loading,
tampered weights refused, generated plates read, all with the network blocked.

Skipped when the ``easyocr`` extra is not installed (scripts/install-easyocr.sh).
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop.recognition.engine import DetailedOcrEngine, load_engine
from desktop.recognition.recognizer import PlateRecognizer
from desktop.synthetic.render import render_plate

_EXTRA = ("torch", "torchvision", "easyocr", "easyocr_en_models")
_MISSING = [name for name in _EXTRA if importlib.util.find_spec(name) is None]
if _MISSING:
    pytest.skip(
        f"EasyOCR extra not installed (missing {', '.join(_MISSING)}); "
        "install it with scripts/install-easyocr.sh",
        allow_module_level=True,
    )

# Imported only now: the module needs the extra (a real import error still fails).
easyocr_engine = importlib.import_module("desktop.recognition.easyocr_engine")
EasyOcrEngine = easyocr_engine.EasyOcrEngine
WeightsMismatchError = easyocr_engine.WeightsMismatchError
bundled_model_dir = easyocr_engine.bundled_model_dir

pytestmark = pytest.mark.slow

# The md5 sums EasyOCR 1.7.2's config.py gives for the two files this engine loads.
KNOWN_MD5 = {
    "craft_mlt_25k.pth": "2f8227d2def4037cdb3b34389dcf9ec1",
    "english_g2.pth": "5864788e1821be9e454ec108d61b887d",
}


class NetworkBlockedError(OSError):
    pass


@pytest.fixture(scope="module")
def attempts() -> Iterator[list[object]]:
    """Block every outgoing connection and name lookup for the module; records tries."""
    tried: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        tried.append(args[1:] if args else kwargs)
        raise NetworkBlockedError(f"network access attempted: {args!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield tried


@pytest.fixture(scope="module")
def engine(attempts: list[object]) -> EasyOcrEngine:
    loaded = load_engine("easyocr")
    assert isinstance(loaded, EasyOcrEngine)
    return loaded


def test_the_network_is_really_blocked(attempts: list[object]) -> None:
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(NetworkBlockedError), socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))
    assert len(attempts) == 2
    attempts.clear()


def test_weights_match_easyocrs_own_md5_sums() -> None:
    assert easyocr_engine.expected_md5() == KNOWN_MD5
    models = bundled_model_dir()
    for name, md5 in KNOWN_MD5.items():
        assert easyocr_engine.file_md5(models / name) == md5
    easyocr_engine.verify_weights(models)


@pytest.mark.parametrize("tampered", sorted(KNOWN_MD5))
def test_tampered_weights_are_refused_before_easyocr_opens_them(
    tampered: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in KNOWN_MD5:
        source = bundled_model_dir() / name
        if name == tampered:
            shutil.copyfile(source, tmp_path / name)
        else:
            (tmp_path / name).symlink_to(source)
    with (tmp_path / tampered).open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))

    def must_not_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("EasyOCR was asked to load unverified weights")

    monkeypatch.setattr(easyocr_engine.easyocr, "Reader", must_not_load)
    with pytest.raises(WeightsMismatchError, match=tampered):
        EasyOcrEngine(model_dir=tmp_path)


def test_missing_weights_are_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="never downloads"):
        EasyOcrEngine(model_dir=tmp_path)


def test_engine_loads_offline_with_the_detailed_interface(
    engine: EasyOcrEngine, attempts: list[object]
) -> None:
    assert engine.name == "easyocr"
    assert isinstance(engine, DetailedOcrEngine)
    assert attempts == []


def _on_background(plate: np.ndarray, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    """The plate pasted on a grey, slightly textured background (a bumper, roughly)."""
    rng = np.random.default_rng(7)
    scene = rng.normal(90, 12, (*size, 3)).clip(0, 255).astype(np.uint8)
    scene = cv2.GaussianBlur(scene, (5, 5), 0)
    y = (size[0] - plate.shape[0]) // 2
    x = (size[1] - plate.shape[1]) // 2
    scene[y : y + plate.shape[0], x : x + plate.shape[1]] = plate
    return scene


@pytest.mark.parametrize(
    ("text", "region"), [("ABC1234", "us"), ("LR782PV", "eu"), ("PXA4649", "br")]
)
def test_reads_a_generated_plate_offline(
    engine: EasyOcrEngine, attempts: list[object], text: str, region: str
) -> None:
    plate = render_plate(text, region)
    # The PP-OCR detector takes an EU plate's blue band into the same line as the
    # characters, so the line may start with its country code ("D"); the recognizer
    # below drops it by the plate format.
    line = next((box for box in engine.read(plate) if text in box.text), None)
    assert line is not None, "plate line not read"
    assert text in engine.read_line(plate[line.y : line.y + line.h, line.x : line.x + line.w])[0]

    scene = _on_background(plate)
    found = PlateRecognizer(engine, region).recognize(scene)
    assert found, "no plate found"
    assert found[0].text == text
    x, y, w, h = found[0].box
    assert x <= 320 <= x + w and y <= 240 <= y + h  # on the pasted plate
    assert attempts == []


def test_reads_only_the_lines_over_a_given_box(engine: EasyOcrEngine) -> None:
    top, bottom = render_plate("STORAGE", "us"), render_plate("ABC1234", "us")
    image = np.vstack([top, bottom])
    lower = (0, top.shape[0], bottom.shape[1], bottom.shape[0])

    assert any("STORAGE" in b.text for b in engine.read_at(image, 736))
    near = engine.read_at(image, 736, near=lower)
    assert near and all(b.y >= lower[1] - 4 for b in near)
    assert any("ABC1234" in b.text.replace(" ", "") for b in near)
    skipped = engine.read_at(image, 736, skip=[(b.x, b.y, b.w, b.h) for b in near])
    assert skipped and all(b.y + b.h <= lower[1] + 4 for b in skipped)


def test_blank_image_reads_nothing(engine: EasyOcrEngine) -> None:
    assert engine.read(np.full((240, 320, 3), 200, np.uint8)) == []


def test_rejects_images_that_are_not_bgr(engine: EasyOcrEngine) -> None:
    with pytest.raises(ValueError, match="BGR"):
        engine.read(np.zeros((64, 64), np.uint8))


def _stamped(scene: np.ndarray) -> np.ndarray:
    """A camera's date and time stamps written across the top of ``scene``."""
    for text, x in (("2014-05-14", 8), ("07:02:17", 480)):
        cv2.putText(scene, text, (x, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    return scene


def test_a_cameras_time_stamp_is_not_taken_for_a_plate(engine: EasyOcrEngine) -> None:
    empty_lane = _stamped(_on_background(np.full((1, 1, 3), 90, np.uint8)))
    with_plate = _stamped(_on_background(render_plate("ABC1234", "us")))
    recognizer = PlateRecognizer(engine, "us")

    assert any("2014" in box.text for box in engine.read(empty_lane))  # the stamp is read...
    assert recognizer.recognize(empty_lane) == []  # ... but not as a plate
    # EasyOCR reads lines too slowly for a tiled pass on every unconfident frame.
    assert not recognizer.last_tiled
    assert [plate.text for plate in recognizer.recognize(with_plate)] == ["ABC1234"]
