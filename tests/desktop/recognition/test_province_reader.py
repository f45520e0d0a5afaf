"""Settling a Chinese plate's province and city letter with a second recognizer:
hand-made CTC probabilities first, then the real PP-OCRv6 and PP-OCRv4 recognizers on
rendered plates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop.recognition.constrained import greedy_reading
from desktop.recognition.engine import ProbabilityOcrEngine, TextBox
from desktop.recognition.province_reader import (
    ProvinceReader,
    likeliest_head,
    shared_province_reader,
)
from desktop.recognition.recognizer import PlateRecognizer
from desktop.synthetic import render_plate
from tests.desktop.recognition.ctc import probability_rows
from tests.desktop.recognition.rendered_cn import province_painted_over, small_blurred

# Two recognizers with their own alphabets, as PP-OCRv6 and PP-OCRv4 have.
FIRST = ["blank", "新", "皖", "D", "Q", "1", "8", "6", "3", "2", "·"]
SECOND = ["blank", "2", "3", "6", "8", "1", "Q", "D", "皖", "新", "·", "G"]


def line(alphabet: list[str], *chars: dict[str, float]) -> tuple[np.ndarray, list[str]]:
    """A line whose characters (one probability row each) are separated by blanks."""
    rows: list[dict[str, float]] = [{"blank": 0.95}]
    for char in chars:
        rows += [char, {"blank": 0.95}]
    return probability_rows(alphabet, *rows), alphabet


def sure(char: str) -> dict[str, float]:
    return {char: 0.9}


REST = [sure(c) for c in "18632"]


def test_the_head_both_recognizers_find_likeliest_wins() -> None:
    # The first recognizer leans to 新D, the second is sure of 皖Q (cn-easypr 0074).
    first = line(FIRST, {"新": 0.5, "皖": 0.4}, {"D": 0.5, "Q": 0.4}, *REST)
    second = line(SECOND, {"皖": 0.9, "新": 0.05}, {"Q": 0.8, "D": 0.1}, *REST)

    assert likeliest_head([first, second], "新D18632") == "皖Q18632"
    assert likeliest_head([first], "新D18632") is None  # alone, the first keeps its read


def test_the_characters_after_the_head_are_kept_as_first_read() -> None:
    # The second recognizer reads the last 2 as G: only the head is its to settle.
    first = line(FIRST, {"新": 0.5, "皖": 0.4}, sure("D"), *REST)
    second = line(SECOND, sure("皖"), sure("D"), *REST[:-1], {"G": 0.9, "2": 0.05})

    assert likeliest_head([first, second], "新D18632") == "皖D18632"


def test_a_missing_province_is_added_only_where_both_see_one() -> None:
    rest = [sure(c) for c in "D18632"]
    inked = [line(FIRST, {"皖": 0.6, "新": 0.2}, *rest), line(SECOND, {"皖": 0.7}, *rest)]
    # Nothing before the letter: the blank leads both lines.
    bare = [line(FIRST, *rest), line(SECOND, *rest)]

    assert likeliest_head(inked, "D18632") == "皖D18632"
    assert likeliest_head(bare, "D18632") is None


def test_a_read_no_chinese_format_takes_is_left_alone() -> None:
    first = line(FIRST, *(sure(c) for c in "1863218632"))

    assert likeliest_head([first, first], "1863218632") is None


def test_the_shipped_model_reads_a_rendered_plate() -> None:
    image = render_plate("皖A85501", "cn")
    h, w = image.shape[:2]
    quad = TextBox.from_quad("", 0.0, ((0, 0), (w, 0), (w, h), (0, h))).quad

    probs, alphabet = shared_province_reader().line_probabilities(image, quad)

    read = "".join(char for char, _ in greedy_reading(probs, alphabet))
    assert read.replace("·", "") == "皖A85501"


@pytest.mark.parametrize(("plate", "height"), [("京HL353P", 14), ("冀BK7YKK", 18)])
def test_a_province_misread_by_the_engine_alone_is_read_right_with_the_reader(
    engine: ProbabilityOcrEngine, plate: str, height: int
) -> None:
    image = small_blurred(plate, height)

    alone = PlateRecognizer(engine, "cn", province_reader=False).recognize(image)
    recognizer = PlateRecognizer(engine, "cn")
    settled = recognizer.recognize(image)

    assert alone and alone[0].text[1:] == plate[1:] and alone[0].text != plate
    assert settled and settled[0].text == plate
    assert recognizer.last_head_settled
    assert alone[0].text in dict(settled[0].alternatives)  # the first read is kept


@pytest.mark.parametrize("plate", ["京A0123警", "甘B47991D"])
def test_a_line_the_engine_reads_as_no_plate_is_read_by_the_reader(
    engine: ProbabilityOcrEngine, plate: str
) -> None:
    # The engine reads 京A0123册 (no such suffix) and HB47991D (no province).
    image = small_blurred(plate, 16)

    alone = PlateRecognizer(engine, "cn", province_reader=False).recognize(image)
    recognizer = PlateRecognizer(engine, "cn")
    found = recognizer.recognize(image)

    assert not alone or alone[0].text != plate
    assert found and found[0].text == plate
    assert recognizer.last_loose_reread


@pytest.mark.parametrize("plate", ["川A019N2", "湘F8ZS83", "粤B3K8L5", "京N77Q21"])
def test_no_province_is_invented_where_it_is_painted_over(
    engine: ProbabilityOcrEngine, plate: str
) -> None:
    recognizer = PlateRecognizer(engine, "cn")
    assert recognizer.province_reader is not None

    found = recognizer.recognize(province_painted_over(plate))

    assert found and found[0].text == plate[1:]


def test_the_booths_local_province_fills_what_no_recognizer_reads(
    engine: ProbabilityOcrEngine,
) -> None:
    # Filled in after the reader, the guess is never swapped for another guess.
    recognizer = PlateRecognizer(engine, "cn", default_province="浙")

    painted = recognizer.recognize(province_painted_over("川A019N2"))
    readable = recognizer.recognize(small_blurred("京HL353P", 14))

    assert painted and painted[0].text == "浙A019N2"
    assert readable and readable[0].text == "京HL353P"


def test_other_regions_and_engines_without_probabilities_get_no_reader(
    engine: ProbabilityOcrEngine,
) -> None:
    assert PlateRecognizer(engine, "us").province_reader is None
    with pytest.raises(ValueError, match="Chinese plates"):
        PlateRecognizer(engine, "eu", province_reader=shared_province_reader())


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.onnx"

    with pytest.raises(FileNotFoundError, match=r"nowhere\.onnx"):
        ProvinceReader(missing)
