"""State emblems beside a plate's serial: hand-made recognizer readings, then the real
PP-OCR engine on rendered US plates with a cactus drawn where Arizona puts one."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desktop.recognition.candidates import plate_alphabet, score_text
from desktop.recognition.constrained import greedy_reading
from desktop.recognition.engine import ProbabilityOcrEngine
from desktop.recognition.recognizer import PlateRecognizer, without_doubtful_edge
from desktop.synthetic import render_plate
from tests.desktop.recognition.ctc import probability_rows

ALPHABET = ["blank", "4", "A", "B", "C", "1", "2", "3", "-"]


def steps(*rows: dict[str, float]) -> np.ndarray:
    return probability_rows(ALPHABET, *rows)


def test_the_greedy_reading_gives_each_character_its_best_probability() -> None:
    probs = steps(
        {"4": 0.45},
        {"blank": 0.9},
        {"A": 0.6},
        {"A": 0.95},
        {"-": 0.9},
        {"1": 0.9},
        {"blank": 0.9},
        {"1": 0.8},
    )

    reading = greedy_reading(probs, ALPHABET)

    assert [ch for ch, _ in reading] == ["4", "A", "1", "1"]
    assert [round(p, 2) for _, p in reading] == [0.45, 0.95, 0.9, 0.8]


def test_a_doubtful_first_character_is_left_out() -> None:
    reading = [("4", 0.41), ("A", 1.0), ("S", 0.99), ("V", 1.0), ("9", 1.0)]

    assert without_doubtful_edge(reading, "4ASV9") == "ASV9"


def test_the_less_probable_edge_goes_when_both_are_doubtful() -> None:
    reading = [("4", 0.45), ("A", 1.0), ("B", 1.0), ("P", 0.2)]

    assert without_doubtful_edge(reading, "4ABP") == "4AB"


def test_sure_edges_and_other_readings_of_the_line_change_nothing() -> None:
    sure = [("N", 1.0), ("E", 1.0), ("I", 0.97), ("L", 1.0)]
    doubtful = [("4", 0.4), ("A", 1.0), ("B", 1.0)]

    assert without_doubtful_edge(sure, "NEIL") is None
    # The re-read must be the read being trimmed, separators aside.
    assert without_doubtful_edge(doubtful, "4-AB") == "AB"
    assert without_doubtful_edge(doubtful, "4AC") is None


def test_characters_latin_plates_never_carry_are_left_out_of_the_read() -> None:
    score_with_emblem, text, fmt = score_text("中ASC7399", 0.95, "us", digit_zero=True)
    score_clean, _, _ = score_text("ASC7399", 0.95, "us", digit_zero=True)

    assert (text, fmt) == ("ASC7399", "us-3l4d")
    assert score_with_emblem < score_clean  # a dropped character costs like a correction
    assert plate_alphabet("cn") is None  # Chinese reads keep theirs for the province rules


def plate_with_cactus(serial: str, size: int, colour: tuple[int, int, int]) -> np.ndarray:
    """A rendered US plate with a green cactus drawn left of the serial, in a grey scene."""
    plate = render_plate(serial, "us", height=110)
    height = plate.shape[0]
    margin = np.full((height, int(height * 0.45), 3), plate[5, 5], np.uint8)
    wide = np.hstack([margin, plate[:, 3:]])
    x, y, arm, stroke = int(height * 0.25), int(height * 0.3), size // 4, max(2, size // 7)
    for start, end in (
        ((x, y), (x, y + size)),  # trunk
        ((x - arm, y + size // 5), (x - arm, y + size // 2)),
        ((x - arm, y + size // 2), (x, y + size // 2)),
        ((x + arm, y + size // 3), (x + arm, y + size * 2 // 3)),
        ((x + arm, y + size * 2 // 3), (x, y + size * 2 // 3)),
    ):
        cv2.line(wide, start, end, colour, stroke)
    return cv2.copyMakeBorder(wide, 60, 60, 80, 80, cv2.BORDER_CONSTANT, value=(90, 90, 90))


def first_line_reading(engine: ProbabilityOcrEngine, image: np.ndarray) -> str:
    (line,) = engine.read(image)
    return "".join(ch for ch, _ in greedy_reading(*engine.line_probabilities(image, line.quad)))


@pytest.mark.parametrize(
    ("serial", "size", "colour", "engine_reads"),
    [
        # PP-OCR reads this cactus as a Chinese character, which no US plate carries...
        ("ABC1234", 48, (90, 160, 90), "中ABC1234"),
        ("ABC1234", 52, (100, 170, 100), "中ABC1234"),
        # ... and this one as a "4" it doubts (0.45), one character more than US serials.
        ("XYZ5678", 48, (90, 160, 90), "4XYZ5678"),
    ],
)
def test_a_state_emblem_beside_the_serial_is_not_read_into_the_plate(
    engine: ProbabilityOcrEngine,
    serial: str,
    size: int,
    colour: tuple[int, int, int],
    engine_reads: str,
) -> None:
    image = plate_with_cactus(serial, size, colour)

    plates = PlateRecognizer(engine, "us").recognize(image)

    assert first_line_reading(engine, image) == engine_reads
    assert plates and plates[0].text == serial


def test_a_region_with_no_specific_format_reads_long_plates_whole(
    engine: ProbabilityOcrEngine,
) -> None:
    image = cv2.copyMakeBorder(
        render_plate("AB12CD345", "generic", height=80),
        60,
        60,
        80,
        80,
        cv2.BORDER_CONSTANT,
        value=(90, 90, 90),
    )

    plates = PlateRecognizer(engine, "generic").recognize(image)

    assert plates and plates[0].text == "AB12CD345"
