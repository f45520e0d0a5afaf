"""A plate line read again with its ends pushed out: rules on texts, then the real PP-OCR
engine on rendered US plates whose line box cuts through the first character."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from desktop.recognition.candidates import Candidate, score_candidates
from desktop.recognition.engine import ProbabilityOcrEngine, TextBox
from desktop.recognition.widen import changed_at_one_end, widened, wider_reads
from desktop.synthetic import render_plate

SURE = (True, True)


@pytest.mark.parametrize(
    ("read", "wider"),
    [
        ("JK7551", "AJK7551"),  # the first character, cut off, seen whole
        ("JG9L8U", "UG9L8U"),  # half a U read as J
        ("0LM2046", "DLM2046"),
        ("ABC123", "ABC1234"),  # the last one cut off
        ("3127KP", "3127K"),  # a small mark beside the plate read as a letter, then not
    ],
)
def test_a_change_at_one_end_counts(read: str, wider: str) -> None:
    assert changed_at_one_end(read, wider, SURE)


@pytest.mark.parametrize(
    ("read", "wider"),
    [
        ("ABC1234", "ABC1234"),  # nothing new
        ("R820503", "R8Z0503"),  # a change inside the plate is no cut character
        ("5VCF203", "M5VCF2037"),  # both ends: a wider view taking in the frame
        ("YBW23", "LYBW23Q"),
        ("JK7551", "AAJK7551"),  # two characters more
    ],
)
def test_other_changes_do_not(read: str, wider: str) -> None:
    assert not changed_at_one_end(read, wider, SURE)


def test_a_character_added_or_changed_counts_only_when_the_recognizer_is_sure_of_it() -> None:
    assert not changed_at_one_end("YBW23", "LYBW23", (False, True))
    assert not changed_at_one_end("JG9L8U", "UG9L8U", (False, True))
    assert not changed_at_one_end("ABC123", "ABC1234", (True, False))
    # Leaving a character out needs no sure one.
    assert changed_at_one_end("3127KP", "3127K", (False, False))


def test_a_tilted_line_is_pushed_out_along_itself() -> None:
    # A line 100 px long and 20 px high, rising 30 degrees.
    along = np.array([np.cos(np.radians(30)), -np.sin(np.radians(30))])
    down = np.array([-along[1], along[0]])
    tl = np.array([50.0, 100.0])
    quad = [tl, tl + 100 * along, tl + 100 * along + 20 * down, tl + 20 * down]

    wider = np.array(widened(quad, 0.5))

    np.testing.assert_allclose(wider[0], tl - 10 * along)
    np.testing.assert_allclose(wider[2], quad[2] + 10 * along)
    assert np.linalg.norm(wider[3] - wider[0]) == pytest.approx(20)


def rank_us(boxes: Sequence[TextBox]) -> list[Candidate]:
    return score_candidates(boxes, "us", digit_zero=True)


def plate_in_border(serial: str) -> np.ndarray:
    """A rendered US plate 80 px high in a grey border."""
    plate = render_plate(serial, "us", height=80)
    return cv2.copyMakeBorder(plate, 60, 60, 80, 80, cv2.BORDER_CONSTANT, value=(90,) * 3)


def cut_first_character(engine: ProbabilityOcrEngine, serial: str) -> tuple[np.ndarray, TextBox]:
    """:func:`plate_in_border` and its line box with the start moved in by
    0.3 line heights, through the first character (as a plate frame's edge makes the
    detector do)."""
    image = plate_in_border(serial)
    line = max(engine.read(image), key=lambda box: box.w)
    tl, tr, br, bl = (np.asarray(p) for p in line.quad)
    step = (tr - tl) / np.linalg.norm(tr - tl) * 0.3 * np.linalg.norm(bl - tl)
    cut = engine.read_quad(image, [tl + step, tr, br, bl + step])
    assert cut is not None
    return image, cut


@pytest.mark.parametrize(("serial", "cut_reads"), [("UG9L8U", "JG9L8U"), ("DLM2046", "0LM2046")])
def test_a_first_character_the_line_box_cuts_is_read_whole_from_the_widened_line(
    engine: ProbabilityOcrEngine, serial: str, cut_reads: str
) -> None:
    image, cut = cut_first_character(engine, serial)
    (best, *_) = rank_us([cut])

    found = wider_reads(engine, image, best, rank_us)

    assert best.text == cut_reads  # a sure read of a plate layout, one character wrong
    assert [cand.text for cand in found] == [serial]


def test_a_whole_line_gives_no_widened_read(engine: ProbabilityOcrEngine) -> None:
    image = plate_in_border("ABC1234")
    line = max(engine.read(image), key=lambda box: box.w)
    (best, *_) = rank_us([line])

    assert best.text == "ABC1234"
    assert wider_reads(engine, image, best, rank_us) == []
