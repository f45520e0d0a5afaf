"""Choosing a plate's format: hand-made recognizer readings of reads that several US
formats could be, then the real PP-OCR engine on rendered plates of single states."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desktop.recognition.engine import ProbabilityOcrEngine
from desktop.recognition.recognizer import (
    PlateRecognizer,
    format_options,
    formats_within_reach,
    likeliest_fitting,
    serial_formats_near,
)
from desktop.synthetic import render_plate
from tests.desktop.recognition.ctc import probability_rows

ALPHABET = ["blank", *"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def line(*characters: dict[str, float]) -> np.ndarray:
    """A line of characters, each one step followed by a blank step."""
    rows: list[dict[str, float]] = []
    for probabilities in characters:
        rows += [probabilities, {"blank": 0.95}]
    return probability_rows(ALPHABET, *rows)


def sure(ch: str) -> dict[str, float]:
    return {ch: 0.97}


def names(text: str) -> list[str]:
    return [fmt.name for fmt in formats_within_reach(text, "us")]


def test_a_read_is_within_reach_of_the_formats_one_or_two_swaps_away() -> None:
    # Missouri's AB1 C2D with I for 1, Florida's ABC D12 with G for 6, and the read as it
    # stands for a vanity plate.
    assert names("CJIP5G") == ["us-fl", "us-mo", "us-any-6"]
    assert names("ABC1234") == ["us-3l4d", "us-any-7"]
    assert names("ABCDEFGHI") == []  # longer than any US plate


@pytest.mark.parametrize(
    ("third", "last", "expected", "format_name"),
    [
        # The recognizer leans to "1" in the third place and is sure of the "G": Missouri.
        ({"I": 0.5, "1": 0.45}, {"G": 0.9, "6": 0.05}, "CJ1P5G", "us-mo"),
        # Sure of the "I" and torn on the last character: Florida's ABC D12.
        ({"I": 0.9, "1": 0.05}, {"G": 0.5, "6": 0.45}, "CJIP56", "us-fl"),
    ],
)
def test_the_format_whose_reading_is_likeliest_wins(
    third: dict[str, float], last: dict[str, float], expected: str, format_name: str
) -> None:
    probs = line(sure("C"), sure("J"), third, sure("P"), sure("5"), last)

    found = likeliest_fitting(probs, ALPHABET, "CJIP5G", formats_within_reach("CJIP5G", "us"))

    assert found is not None
    text, fmt = found
    assert (text, fmt.name) == (expected, format_name)


def test_a_vanity_plate_the_recognizer_is_sure_of_stays_as_read() -> None:
    # "NOMAD5" is Florida's ABC D12 with the D read as a 0: one look-alike swap away.
    formats = formats_within_reach("NOMAD5", "us")
    sure_of_d = line(sure("N"), sure("O"), sure("M"), sure("A"), {"D": 0.97, "0": 0.01}, sure("5"))
    torn = line(sure("N"), sure("O"), sure("M"), sure("A"), {"D": 0.6, "0": 0.35}, sure("5"))

    kept = likeliest_fitting(sure_of_d, ALPHABET, "NOMAD5", formats)
    serial = likeliest_fitting(torn, ALPHABET, "NOMAD5", formats)

    assert kept is not None and (kept[0], kept[1].fallback) == ("NOMAD5", True)
    # A serial is 24 times likelier than a vanity plate: a doubtful D goes to the serial.
    assert serial is not None and (serial[0], serial[1].name) == ("NOMA05", "us-fl")


def test_a_reading_that_is_not_the_read_is_refused() -> None:
    # The line's probabilities spell another plate altogether (not look-alike swaps).
    probs = line(*(sure(ch) for ch in "XYZ987"))

    assert (
        likeliest_fitting(probs, ALPHABET, "CJIP5G", formats_within_reach("CJIP5G", "us")) is None
    )


def test_the_serial_formats_near_a_read_are_those_one_character_shorter_to_one_longer() -> None:
    near = {fmt.name for fmt in serial_formats_near(5, "us")}

    assert "us-3l3d" in near and "us-3l4d" not in near  # 6 characters in, 7 out
    assert not any(fmt.fallback for fmt in serial_formats_near(6, "us"))


def test_a_read_no_serial_is_within_reach_of_may_be_any_serial_of_about_its_length() -> None:
    widened, widened_only = format_options("ATGCL04", "us")
    near, near_only = format_options("ABC1234", "us")
    chinese, chinese_only = format_options("粤B12345", "cn")

    assert {"us-fl", "us-3l4d", "us-any-7"} <= {fmt.name for fmt in widened}
    assert [fmt.name for fmt in near] == names("ABC1234")
    # Where the read as it stands competes, any reading may win; otherwise look-alikes.
    assert (widened_only, near_only, chinese_only) == (False, False, True)
    assert chinese


def any_reading(probs: np.ndarray, text: str) -> tuple[str, str] | None:
    """What the format choice makes of a read that a fallback takes as it stands."""
    options, look_alikes_only = format_options(text, "us")
    assert not look_alikes_only
    found = likeliest_fitting(probs, ALPHABET, text, options, look_alikes_only=False)
    return None if found is None else (found[0], found[1].name)


def test_a_doubtful_character_inside_a_read_no_serial_fits_is_dropped() -> None:
    # A sticker between Florida's ABCD and 12: "ATGCL04" fits no US serial as read.
    probs = line(*(sure(ch) for ch in "ATG"), {"C": 0.34, "blank": 0.3}, *map(sure, "L04"))

    assert any_reading(probs, "ATGCL04") == ("ATGL04", "us-fl")


def test_a_first_digit_read_as_a_letter_beyond_look_alikes_is_corrected() -> None:
    # California's 1ABC234 whose 4 the recognizer, torn, read as an L (an L is a
    # look-alike of 1, not of 4).
    probs = line({"L": 0.5, "4": 0.4}, *(sure(ch) for ch in "GLS168"))

    assert any_reading(probs, "LGLS168") == ("4GLS168", "us-1d3l3d")


def test_a_vanity_plate_the_recognizer_is_sure_of_is_not_made_a_serial() -> None:
    assert any_reading(line(*map(sure, "BIGDOG")), "BIGDOG") == ("BIGDOG", "us-any-6")
    assert any_reading(line(*map(sure, "ATGCL04")), "ATGCL04") == ("ATGCL04", "us-any-7")


@pytest.mark.parametrize(
    ("serial", "format_name"),
    [("UH1N2A", "us-mo"), ("1AB2345", "us-md"), ("A12BCD", "us-nj"), ("1AB234", "us-ma")],
)
def test_plates_of_single_states_are_read_in_their_format(
    engine: ProbabilityOcrEngine, serial: str, format_name: str
) -> None:
    image = cv2.copyMakeBorder(
        render_plate(serial, "us", height=110), 60, 60, 80, 80, cv2.BORDER_CONSTANT, value=(90,) * 3
    )

    found = PlateRecognizer(engine, "us").recognize(image)

    assert found
    assert (found[0].text, found[0].format_name) == (serial, format_name)
