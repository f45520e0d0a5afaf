"""Reading a line under a plate format: hand-made CTC probabilities, then the real
PP-OCR recognizer on rendered Chinese plates whose province character it misses."""

from __future__ import annotations

import numpy as np
import pytest

from desktop import plates
from desktop.recognition.constrained import decode_slots
from desktop.recognition.engine import ProbabilityOcrEngine, TextBox
from desktop.recognition.recognizer import PlateRecognizer
from desktop.synthetic import render_plate
from tests.desktop.recognition.ctc import probability_rows
from tests.desktop.recognition.rendered_cn import province_painted_over, small_blurred

ALPHABET = ["blank", "M", "川", "京", "A", "B", "1", "2", "·"]
CN_ORDINARY = next(f for f in plates.profile("cn").formats if f.name == "cn-ordinary")


def steps(*rows: dict[str, float]) -> np.ndarray:
    return probability_rows(ALPHABET, *rows)


def test_a_province_read_as_a_latin_letter_is_decoded_as_the_province() -> None:
    # Greedy reading: "MA·12"; 川 is the likeliest province character where "M" sits.
    probs = steps(
        {"M": 0.7, "川": 0.2, "京": 0.01},
        {"blank": 0.9},
        {"A": 0.9},
        {"·": 0.9},
        {"1": 0.9},
        {"blank": 0.9},
        {"2": 0.9},
    )
    allowed = [frozenset(plates.CN_PROVINCES), frozenset("AB"), frozenset("12"), frozenset("12")]

    reading = decode_slots(probs, ALPHABET, allowed)

    assert reading is not None
    assert reading.text == "川A12"
    assert reading.margins[0] == pytest.approx(0.2 / 0.01, rel=0.01)


def test_a_repeated_character_needs_a_gap_between_its_runs() -> None:
    allowed = [frozenset("AB"), frozenset("12"), frozenset("12")]
    one_run = steps({"A": 0.9}, {"1": 0.9}, {"1": 0.9})
    two_runs = steps({"A": 0.9}, {"1": 0.9}, {"blank": 0.9}, {"1": 0.9})

    reading = decode_slots(two_runs, ALPHABET, allowed)
    squeezed = decode_slots(one_run, ALPHABET, allowed)

    assert reading is not None and reading.text == "A11"
    # One run of "1" cannot be two slots: the best path swaps in the unlikely "2".
    assert squeezed is not None and squeezed.text in ("A12", "A21")
    assert squeezed.log_prob < reading.log_prob - 3


def test_a_slot_reads_one_character_along_all_its_steps() -> None:
    # Greedy: "A12". Two slots cannot take three characters by letting a slot's
    # character change from step to step: the path must drop one character.
    probs = steps({"A": 0.9}, {"1": 0.9}, {"2": 0.9})

    reading = decode_slots(probs, ALPHABET, [frozenset("AB"), frozenset("12")])

    assert reading is not None and reading.text in ("A1", "A2")
    assert reading.log_prob == pytest.approx(np.log(0.9 * 0.9 * 0.1 / 8), rel=0.01)


def test_no_reading_when_a_slot_allows_nothing_the_recognizer_knows() -> None:
    probs = steps({"A": 0.9}, {"1": 0.9})

    assert decode_slots(probs, ALPHABET, [frozenset("AB"), frozenset("Z")]) is None
    assert decode_slots(probs, ALPHABET, [frozenset("AB")] * 3) is None  # too few steps


def plate_box(image: np.ndarray) -> TextBox:
    h, w = image.shape[:2]
    return TextBox.from_quad("", 0.0, ((0, 0), (w, 0), (w, h), (0, h)))


@pytest.mark.parametrize("plate", ["川A019N2", "粤B3K8L5", "京N77Q21"])
def test_the_real_recognizer_reads_a_rendered_plate_under_its_format(
    engine: ProbabilityOcrEngine, plate: str
) -> None:
    image = render_plate(plate, "cn")
    probs, alphabet = engine.line_probabilities(image, plate_box(image).quad)

    reading = decode_slots(probs, alphabet, CN_ORDINARY.allowed)

    assert reading is not None
    assert reading.text == plate


def test_a_province_the_greedy_reading_garbles_is_read_under_the_format(
    engine: ProbabilityOcrEngine,
) -> None:
    image = small_blurred("粤B3K8L5")

    greedy = [box.text for box in engine.read(image)]
    found = PlateRecognizer(engine, "cn").recognize(image)

    assert not any("粤" in text for text in greedy)  # the case the re-read is for
    assert found and found[0].text == "粤B3K8L5"


@pytest.mark.parametrize("plate", ["川A019N2", "湘F8ZS83", "粤B3K8L5", "京N77Q21"])
def test_no_province_is_invented_where_none_is_left(
    engine: ProbabilityOcrEngine, plate: str
) -> None:
    recognizer = PlateRecognizer(engine, "cn", province_reader=False)

    found = recognizer.recognize(province_painted_over(plate))

    assert found and found[0].text == plate[1:]
