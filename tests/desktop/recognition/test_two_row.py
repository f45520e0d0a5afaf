"""Chinese two-row plates: the upper row read above a five-character lower row."""

from __future__ import annotations

import pytest

from desktop import plates
from desktop.recognition.engine import ProbabilityOcrEngine
from desktop.recognition.recognizer import PlateRecognizer
from desktop.recognition.two_row import band_above
from tests.desktop.recognition.rendered_cn import two_row_plate


def test_the_band_above_a_line_follows_its_height_and_slant() -> None:
    level = ((0, 10), (100, 10), (100, 50), (0, 50))
    slanted = ((0, 20), (100, 10), (100, 50), (0, 60))

    assert band_above(level, -0.5, 0.25) == ((0, -10), (100, -10), (100, 20), (0, 20))
    assert band_above(slanted, -0.5, 0.0) == ((0, 0), (100, -10), (100, 10), (0, 20))


@pytest.mark.parametrize(
    ("plate", "height"),
    [("粤AB2893", 110), ("京C37K21", 90), ("苏E0Q586", 140), ("川A1234挂", 110)],
)
def test_a_two_row_plate_is_read_whole(
    engine: ProbabilityOcrEngine, plate: str, height: int
) -> None:
    image = two_row_plate(plate, height)

    alone = PlateRecognizer(engine, "cn", province_reader=False).recognize(image)
    recognizer = PlateRecognizer(engine, "cn")
    found = recognizer.recognize(image)

    # Without both recognizers looking above it, only the lower row is read.
    assert not alone or alone[0].text != plate
    assert found and found[0].text == plate
    assert recognizer.last_upper_row
    # The plate's box takes in both rows.
    _, _, w, h = found[0].box
    assert h > 0.6 * height and w > 1.5 * height


@pytest.mark.parametrize("plate", ["粤AB2893", "京C37K21"])
def test_no_upper_row_is_invented_where_it_is_hidden(
    engine: ProbabilityOcrEngine, plate: str
) -> None:
    recognizer = PlateRecognizer(engine, "cn")

    found = recognizer.recognize(two_row_plate(plate, upper_row_hidden=True))

    assert not any(read.text[:1] in plates.CN_PROVINCES for read in found)
    assert not recognizer.last_upper_row
