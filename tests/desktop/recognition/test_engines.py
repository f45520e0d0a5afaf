"""The OCR engine interface and the RapidOCR engine, read through its real models."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from desktop.recognition import engine as engine_module
from desktop.recognition.constrained import greedy_reading
from desktop.recognition.engine import (
    DetailedOcrEngine,
    EngineUnavailableError,
    OcrEngine,
    TextBox,
    load_engine,
    same_place,
)
from desktop.recognition.rapidocr_engine import RapidOcrEngine
from desktop.synthetic import font_path

FONT = font_path("DejaVuSans-Bold.ttf")  # shipped in resources/fonts


def text_image(text: str, height: int = 48) -> np.ndarray:
    """Black ``text`` on a white strip with a generous margin, as a BGR array."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), height)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 2 * height, bottom - top + 2 * height), "white")
    ImageDraw.Draw(image).text((height - left, height - top), text, font=font, fill="black")
    return np.asarray(image)[:, :, ::-1].copy()


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    """The shared RapidOCR engine (models load once per process)."""
    return load_engine("rapidocr")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Make every attempt to open a network connection fail, and record it."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append(address)
        raise OSError(f"network access attempted in an offline test: {address!r}")

    def refuse_create(address: object, *args: object, **kwargs: object) -> socket.socket:
        attempts.append(address)
        raise OSError(f"network access attempted in an offline test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse_create)
    yield attempts


def test_text_box_from_quad_computes_the_axis_aligned_box() -> None:
    box = TextBox.from_quad("ABC", 0.9, [(10.2, 20), (50, 22.5), (49, 40), (9.5, 38)])
    assert (box.x, box.y, box.w, box.h) == (9, 20, 41, 20)
    assert box.quad[0] == (10.2, 20.0)
    with pytest.raises(ValueError, match="4 corner points"):
        TextBox.from_quad("A", 1.0, [(0, 0), (1, 0), (1, 1)])


def test_same_place_means_most_of_both_areas_shared() -> None:
    line = np.array([(100, 50), (300, 50), (300, 100), (100, 100)], np.float32)

    assert same_place(line, (105, 48, 190, 50))  # found again, a few pixels off
    assert not same_place(line, (100, 50, 60, 50))  # a fragment of it
    assert not same_place(line, (0, 0, 600, 300))  # a region around it
    assert not same_place(line, (400, 50, 200, 50))  # the next line
    assert not same_place(line, (100, 50, 0, 0))  # an empty box


def test_unknown_engine_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="rapidocr, easyocr"):
        load_engine("tesseract")


def test_easyocr_without_the_extra_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail as if the extra were missing.
    monkeypatch.setitem(sys.modules, "desktop.recognition.easyocr_engine", None)
    monkeypatch.setattr(engine_module, "_loaded", {})
    with pytest.raises(EngineUnavailableError, match="EasyOCR is an optional extra"):
        load_engine("easyocr")


def test_rapidocr_is_the_default_engine_and_loads_once(engine: OcrEngine) -> None:
    assert load_engine() is engine
    assert engine.name == "rapidocr"
    assert isinstance(engine, OcrEngine)
    assert isinstance(engine, DetailedOcrEngine)


def test_reads_a_line_of_text_with_its_position(engine: OcrEngine) -> None:
    image = text_image("KXR 4821")
    boxes = engine.read(image)
    assert [b.text.replace(" ", "") for b in boxes] == ["KXR4821"]
    box = boxes[0]
    assert box.score > 0.8
    assert 30 <= box.x <= 60 and 30 <= box.y <= 60
    assert box.x + box.w <= image.shape[1] and box.y + box.h <= image.shape[0]


def two_lines() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Two text lines one above the other, and the box of the lower one."""
    top, bottom = text_image("STORAGE"), text_image("KXR 4821")
    width = max(top.shape[1], bottom.shape[1])
    top = np.pad(top, ((0, 0), (0, width - top.shape[1]), (0, 0)), constant_values=255)
    bottom = np.pad(bottom, ((0, 0), (0, width - bottom.shape[1]), (0, 0)), constant_values=255)
    return np.vstack([top, bottom]), (0, top.shape[0], width, bottom.shape[0])


def test_reads_only_the_lines_over_a_given_box(engine: DetailedOcrEngine) -> None:
    image, lower = two_lines()
    assert sorted(b.text.replace(" ", "") for b in engine.read_at(image, 736)) == [
        "KXR4821",
        "STORAGE",
    ]
    near = engine.read_at(image, 736, near=lower)
    assert [b.text.replace(" ", "") for b in near] == ["KXR4821"]
    assert near[0].y >= lower[1]


def test_a_line_in_the_place_of_one_already_read_is_not_read_again(
    engine: DetailedOcrEngine,
) -> None:
    image, _ = two_lines()
    plate = next(b for b in engine.read_at(image, 736) if "KXR" in b.text)
    # Found again a little shifted, as in an overlapping tile.
    read_before = (plate.x + 3, plate.y - 2, plate.w - 2, plate.h + 1)

    again = engine.read_at(image, 736, skip=[read_before])

    assert [b.text.replace(" ", "") for b in again] == ["STORAGE"]
    # A fragment read before is not the whole line's place: the line is read.
    fragment = (plate.x, plate.y, plate.w // 3, plate.h)
    whole = engine.read_at(image, 736, skip=[fragment])
    assert sorted(b.text.replace(" ", "") for b in whole) == ["KXR4821", "STORAGE"]


def faint_line(text: str) -> np.ndarray:
    """``text`` washed out and out of focus, as a distant plate at dusk."""
    sharp = text_image(text, height=39)
    washed = cv2.addWeighted(sharp, 0.3, np.full_like(sharp, 128), 0.7, 0)
    return cv2.GaussianBlur(washed, (0, 0), 4.5)


def test_a_faint_line_is_read_only_when_fainter_regions_are_asked_for(
    engine: DetailedOcrEngine,
) -> None:
    image = faint_line("KXR 4821")

    assert engine.read_at(image, 736) == []  # the detector's map lights up too faintly

    (line,) = engine.read_at(image, 736, box_thresh=0.4)
    assert line.text == "KXR 4821"
    assert 0 < line.x < image.shape[1] // 4 and line.x + line.w > image.shape[1] * 3 // 4


def test_a_read_line_carries_the_probabilities_it_was_read_from(engine: RapidOcrEngine) -> None:
    image = text_image("KXR 4821")
    (line,) = engine.read(image)
    assert line.probabilities is not None
    probs, alphabet = line.probabilities
    again, _ = engine.line_probabilities(image, line.quad)
    np.testing.assert_allclose(probs, again, atol=1e-6)
    text = "".join(ch for ch, _ in greedy_reading(probs, alphabet, skip=""))
    assert text == line.text


def test_a_blank_image_has_no_text(engine: OcrEngine) -> None:
    assert engine.read(np.full((240, 320, 3), 200, np.uint8)) == []


def test_rejects_an_image_that_is_not_bgr(engine: OcrEngine) -> None:
    with pytest.raises(ValueError, match="BGR"):
        engine.read(np.zeros((10, 10), np.uint8))


def test_loads_and_reads_without_touching_the_network(no_network: list[object]) -> None:
    offline = RapidOcrEngine(threads=1)
    boxes = offline.read(text_image("7XYZ042"))
    assert [b.text for b in boxes] == ["7XYZ042"]
    assert no_network == []


def test_the_detector_sees_a_photo_exactly_as_rapidocr_prepares_it(engine: RapidOcrEngine) -> None:
    from rapidocr.ch_ppocr_det.utils import DetPreProcess

    photo = cv2.GaussianBlur(
        np.random.default_rng(3).integers(0, 256, (720, 1280, 3), np.uint8), (5, 5), 0
    )
    ours = engine._det.get_preprocess()(photo)
    # RapidOCR's own preparation, with the mean and deviation of its configuration.
    config = engine._ocr.cfg.Det
    theirs = DetPreProcess(736, "max", list(config.mean), list(config.std))(photo)
    assert ours.dtype == np.float32 and ours.shape == (1, 3, 416, 736)
    np.testing.assert_array_equal(ours, theirs)
