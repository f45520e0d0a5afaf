"""Plate recognition end to end on generated plates, through the real RapidOCR engine,
plus candidate scoring on plain strings and the ``recognize`` command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from PIL.ImageDraw import ImageDraw as Draw

from desktop import plates
from desktop.recognition.candidates import score_candidates, score_text, text_penalty
from desktop.recognition.cli import recognize_paths
from desktop.recognition.engine import TextBox, load_engine, overlap
from desktop.recognition.plate_regions import plate_like_regions
from desktop.recognition.recognizer import CONFIDENT_SCORE, REGION_LOOKS, PlateRecognizer
from desktop.synthetic import font_path
from desktop.synthetic.degrade import degrade
from desktop.synthetic.render import random_plate_text
from desktop.synthetic.render import render_plate as render_region_plate
from desktop.synthetic.scene import compose_scene

FONT = font_path("DejaVuSans-Bold.ttf")  # shipped in resources/fonts
Box = tuple[int, int, int, int]


def blank_plate(size: tuple[int, int], background: str = "white") -> tuple[Image.Image, Draw]:
    """A plate of ``size`` (width, height) with a dark border, and a pen to draw on it."""
    plate = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(plate)
    draw.rectangle((0, 0, size[0] - 1, size[1] - 1), outline="black", width=3)
    return plate, draw


def as_bgr(image: Image.Image) -> np.ndarray:
    return np.asarray(image)[:, :, ::-1].copy()


def render_plate(text: str, *, background: str = "white", char_height: int = 44) -> np.ndarray:
    """A plate: dark text on ``background`` with a dark border, as a BGR array."""
    font = ImageFont.truetype(str(FONT), char_height)
    left, top, right, bottom = font.getbbox(text)
    pad_x, pad_y = char_height // 2, char_height // 3
    plate, draw = blank_plate((right - left + 2 * pad_x, bottom - top + 2 * pad_y), background)
    draw.text((pad_x - left, pad_y - top), text, font=font, fill=(20, 20, 20))
    return as_bgr(plate)


def render_plate_with_emblem(left: str, right: str, char_height: int = 44) -> np.ndarray:
    """A plate whose two character groups are split by a red, L-shaped state emblem."""
    h = char_height
    font = ImageFont.truetype(str(FONT), h)
    left_width, right_width = font.getbbox(left)[2], font.getbbox(right)[2]
    gap = int(h * 0.7)
    plate, draw = blank_plate((left_width + gap + right_width + h, int(h * 1.8)))
    top = int(h * 0.3)
    draw.text((h // 2, top), left, font=font, fill=(20, 20, 20))
    draw.text((h // 2 + left_width + gap, top), right, font=font, fill=(20, 20, 20))
    cx, cy = h // 2 + left_width + gap // 2, top + int(h * 0.55)
    red = (150, 20, 20)
    draw.rectangle((cx - h // 6, cy - h // 2, cx - h // 12, cy + h // 2), fill=red)
    draw.rectangle((cx - h // 6, cy + h // 2 - h // 8, cx + h // 5, cy + h // 2), fill=red)
    return as_bgr(plate)


def render_text(text: str, height: int, colour: tuple[int, int, int]) -> np.ndarray:
    """Plain ``text`` on a light strip (stickers, time stamps)."""
    font = ImageFont.truetype(str(FONT), height)
    left, top, right, bottom = font.getbbox(text)
    strip = Image.new("RGB", (right - left + 8, bottom - top + 8), (235, 235, 235))
    ImageDraw.Draw(strip).text((4 - left, 4 - top), text, font=font, fill=colour)
    return as_bgr(strip)


def scene(size: tuple[int, int] = (640, 480), seed: int = 3) -> np.ndarray:
    """A noisy, smoothly shaded background of ``size`` (w, h)."""
    rng = np.random.default_rng(seed)
    w, h = size
    shade = np.linspace(60, 140, w, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 12, (h, w, 3)).astype(np.float32)
    return np.clip(shade + noise, 0, 255).astype(np.uint8)


def paste(target: np.ndarray, patch: np.ndarray, x: int, y: int) -> Box:
    """Copy ``patch`` into ``target`` at (x, y); returns the patch's box."""
    h, w = patch.shape[:2]
    target[y : y + h, x : x + w] = patch
    return x, y, w, h


@pytest.fixture(scope="module")
def us_reader() -> PlateRecognizer:
    """A US-region recognizer on the real engine (loaded once for the module)."""
    return PlateRecognizer(load_engine("rapidocr"), "us")


# --------------------------------------------------------------------------------------
# End to end on generated plates
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("background", ["white", (250, 210, 40)])
def test_reads_a_plate_in_a_scene_and_finds_where_it_is(
    us_reader: PlateRecognizer, background: str | tuple[int, int, int]
) -> None:
    image = scene()
    plate_box = paste(image, render_plate("ABC1234", background=background), 220, 260)

    found = us_reader.recognize(image)

    assert found, "no plate found"
    best = found[0]
    assert best.text == "ABC1234"
    assert 0.5 < best.confidence <= 1.0
    assert overlap(best.box, plate_box) > 0.5
    assert best.crop.shape[:2] == (best.box[3], best.box[2])


def test_a_date_and_a_sticker_beside_the_plate_are_not_chosen(
    us_reader: PlateRecognizer,
) -> None:
    image = scene((800, 600), seed=5)
    paste(image, render_text("2024-05-17 08:31", 30, (10, 10, 10)), 20, 20)
    paste(image, render_text("Parking", 34, (30, 30, 160)), 470, 300)
    plate_box = paste(image, render_plate("7XYZ042"), 200, 380)

    found = us_reader.recognize(image)

    assert found[0].text == "7XYZ042"
    assert overlap(found[0].box, plate_box) > 0.5
    assert all("2024" not in p.text for p in found)


def test_an_emblem_read_as_a_letter_between_the_groups_is_left_out(
    us_reader: PlateRecognizer,
) -> None:
    # Missouri's "SH0 R7X" with its emblem between the groups: the engine reads the
    # emblem as an L, and "SH0LR7X" would pass as a vanity plate.
    image = scene()
    plate_box = paste(image, render_plate_with_emblem("SH0", "R7X"), 200, 200)
    lines = [b.text for b in us_reader.engine.read(image)]
    assert any("L" in plates.normalize(line) for line in lines), lines

    found = us_reader.recognize(image)

    assert (found[0].text, found[0].format_name) == ("SH0R7X", "us-mo")
    assert overlap(found[0].box, plate_box) > 0.5


@pytest.mark.parametrize("plate", ["粤B1234学", "京A0123警", "苏E5678挂", "粤Z1A23港"])
def test_chinese_special_use_plates_are_read_as_plates(
    us_reader: PlateRecognizer, plate: str
) -> None:
    # Driving-school, police, trailer and Hong Kong / Macau cars end in a character of
    # their kind: read as a plate layout, not as loose text at a discounted confidence.
    image = scene((500, 300))
    plate_box = paste(image, render_region_plate(plate, "cn"), 80, 100)

    found = PlateRecognizer(us_reader.engine, "cn").recognize(image)

    assert (found[0].text, found[0].format_name) == (plate, "cn-special")
    assert found[0].confidence > 0.8
    assert overlap(found[0].box, plate_box) > 0.5


def test_a_tight_crop_of_a_plate_is_read(us_reader: PlateRecognizer) -> None:
    crop = render_plate("KTM5820", char_height=30)
    found = us_reader.recognize(crop)
    assert found[0].text == "KTM5820"
    x, y, w, h = found[0].box
    assert x >= 0 and y >= 0 and x + w <= crop.shape[1] and y + h <= crop.shape[0]


def test_a_region_of_interest_limits_the_search_and_keeps_frame_coordinates(
    us_reader: PlateRecognizer,
) -> None:
    image = scene((800, 500), seed=9)
    paste(image, render_plate("GHJ4417"), 20, 40)
    plate_box = paste(image, render_plate("LMN2093"), 420, 300)

    found = us_reader.recognize(image, roi=(380, 250, 420, 250))

    assert [p.text for p in found] == ["LMN2093"]
    assert overlap(found[0].box, plate_box) > 0.5


def distant_car(seed: int, vehicle_width: int = 170) -> tuple[np.ndarray, Box, str]:
    """A 1920 x 1080 lane frame with a small car far off, its box and its plate: a random
    US plate (about 26 px high on a car 170 px wide), damaged as a camera damages it (all
    drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    text = random_plate_text("us", rng)
    plate = degrade(render_region_plate(text, "us", top_line="CALIFORNIA"), rng)
    image, plate_box = compose_scene(plate, (1920, 1080), rng, vehicle_width=vehicle_width)
    return image, plate_box, text


@pytest.mark.parametrize(("seed", "plate"), [(39, "NG5713"), (41, "9877DGV")])
def test_a_distant_plate_misread_in_the_whole_frame_is_read_on_a_closer_look(
    us_reader: PlateRecognizer, seed: int, plate: str
) -> None:
    image, plate_box, text = distant_car(seed)
    assert text == plate
    # Without tiles, which read 39's plate right too: this is about the second look.
    at_a_glance = PlateRecognizer(us_reader.engine, "us", second_look=False, tiled_pass=False)
    closer = PlateRecognizer(us_reader.engine, "us", tiled_pass=False)

    assert at_a_glance.recognize(image)[0].text != text  # a character gained or misread

    found = closer.recognize(image)

    assert closer.last_second_look
    assert found[0].text == text
    assert overlap(found[0].box, plate_box) > 0.5
    assert found[0].crop.shape[:2] == (found[0].box[3], found[0].box[2])
    assert at_a_glance.recognize(image)[0].text in [alt for alt, _ in found[0].alternatives]


def test_a_distant_plate_read_with_a_character_too_many_is_read_from_the_widened_line(
    us_reader: PlateRecognizer,
) -> None:
    """At a glance this plate reads with a 0 too many (9WN2000, without the widened
    read); read with both ends pushed out, the last character goes: the widened read is
    put first and the first read stays an alternative."""
    image, _, text = distant_car(64)
    at_a_glance = PlateRecognizer(us_reader.engine, "us", second_look=False, tiled_pass=False)

    found = at_a_glance.recognize(image)

    assert text == "9WN200"
    assert found[0].text == text
    assert at_a_glance.last_widened
    assert [alt for alt, _ in found[0].alternatives] == ["9WN2000"]


def test_a_plate_the_whole_frame_reads_badly_is_read_in_a_tile(
    us_reader: PlateRecognizer,
) -> None:
    image, plate_box, text = distant_car(27, vehicle_width=95)
    assert text == "SFI9153"
    whole_frame_only = PlateRecognizer(us_reader.engine, "us", tiled_pass=False)

    assert whole_frame_only.recognize(image)[0].text != text

    found = us_reader.recognize(image)

    assert us_reader.last_tiled
    assert found[0].text == text
    assert overlap(found[0].box, plate_box) > 0.5  # a tile's lines come back in frame pixels


def far_car(seed: int) -> tuple[np.ndarray, Box, str]:
    """A 1920 x 1080 lane frame with a car so far off that its plate is about 16 px high
    (the detector sees it at 6 px in the whole frame), its box and its plate text."""
    return distant_car(seed, vehicle_width=110)


@pytest.mark.parametrize(("seed", "plate"), [(0, "QNH30B"), (8, "IG9E3Q")])
def test_a_plate_the_detector_misses_in_the_whole_frame_is_read_in_its_stroke_band(
    us_reader: PlateRecognizer, seed: int, plate: str
) -> None:
    image, plate_box, text = far_car(seed)
    assert text == plate
    # Only the whole frame at the detector's size, with and without the stroke bands.
    passes = {"second_pass_side": None, "second_look": False, "tiled_pass": False}
    whole_frame = PlateRecognizer(us_reader.engine, "us", region_look=False, **passes)
    with_bands = PlateRecognizer(us_reader.engine, "us", **passes)

    assert not whole_frame.recognize(image)

    found = with_bands.recognize(image)

    assert with_bands.last_region_look
    assert found[0].text == text
    assert overlap(found[0].box, plate_box) > 0.5  # a band's lines come back in frame pixels


@pytest.mark.parametrize("seed", range(6))
def test_plate_like_regions_hold_the_plate_of_a_lane_scene(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    plate = degrade(render_region_plate(random_plate_text("us", rng), "us"), rng)
    image, (x, y, w, h) = compose_scene(plate, (1280, 720), rng)

    regions = plate_like_regions(image, REGION_LOOKS)

    assert len(regions) <= REGION_LOOKS
    centre = (x + w / 2, y + h / 2)
    assert any(
        rx <= centre[0] <= rx + rw and ry <= centre[1] <= ry + rh and rw < 3 * w
        for rx, ry, rw, rh in regions
    ), (regions, (x, y, w, h))


def test_plate_like_regions_of_a_plain_image_are_none() -> None:
    assert plate_like_regions(np.full((480, 640, 3), 128, np.uint8), REGION_LOOKS) == []


def test_a_plate_read_surely_takes_no_look_at_stroke_bands(us_reader: PlateRecognizer) -> None:
    image = scene()
    paste(image, render_plate("ABC1234"), 220, 260)

    assert us_reader.recognize(image)[0].text == "ABC1234"
    assert not us_reader.last_region_look


def test_a_tight_crop_is_never_cut_into_tiles(us_reader: PlateRecognizer) -> None:
    crop = render_plate("HELLO", char_height=30)

    found = us_reader.recognize(crop)

    assert found[0].text == "HELL0"  # a vanity read: no layout makes it a confident read
    assert found[0].score < CONFIDENT_SCORE
    assert not us_reader.last_tiled
    assert not us_reader.last_region_look  # nor looked at in stroke bands: it is one plate


def test_a_clear_plate_takes_no_second_look(us_reader: PlateRecognizer) -> None:
    image = scene()
    paste(image, render_plate("ABC1234"), 220, 260)

    assert us_reader.recognize(image)[0].text == "ABC1234"
    assert not us_reader.last_second_look


def test_a_blank_image_gives_no_candidates(us_reader: PlateRecognizer) -> None:
    assert us_reader.recognize(np.full((480, 640, 3), 128, np.uint8)) == []
    assert us_reader.recognize(np.zeros((60, 200, 3), np.uint8)) == []


# --------------------------------------------------------------------------------------
# Candidate scoring on plain strings
# --------------------------------------------------------------------------------------


def box(text: str, x: int, y: int = 100, h: int = 30, score: float = 0.95) -> TextBox:
    """A text box whose width follows its text, as an engine would report it."""
    w = int(len(text) * h * 0.6)
    return TextBox.from_quad(text, score, [(x, y), (x + w, y), (x + w, y + h), (x, y + h)])


def test_a_plate_outscores_dates_times_phones_and_words() -> None:
    plate, _, fmt = score_text("ABC-1234", 0.9, "us")
    assert fmt == "us-3l4d"
    for other in ("2014-06-17", "14:20:16", "636-257-2077", "Heating", "www.cars.com"):
        assert score_text(other, 1.0, "us")[0] < plate, other
    assert score_text("STORAGE", 1.0, "us")[0] < plate


def test_text_penalty_spots_what_plates_never_hold() -> None:
    assert text_penalty("ABC1234") == 0
    assert text_penalty("2024/05/17") > 0
    assert text_penalty("20240517") > 0  # a date stamp read without its separators
    assert text_penalty("20241317") == 0  # no month 13: could be a plate
    assert text_penalty("(314) 845-5900") > 0
    assert text_penalty("dealer") > 0


def test_positional_correction_and_o_as_zero() -> None:
    assert score_text("ABC12B4", 0.9, "us")[1] == "ABC1284"
    assert score_text("OSG719", 0.9, "us", digit_zero=True)[1] == "0SG719"
    assert score_text("京AI8731", 0.9, "cn")[1] == "京A18731"
    assert score_text("京0B8731", 0.9, "cn")[1] == "京DB8731"


def test_chinese_plate_without_its_province_is_kept_below_full_plates() -> None:
    full, text_full, _ = score_text("京A88731", 0.9, "cn")
    headless, text, fmt = score_text("A·72220", 0.9, "cn")
    assert (text, fmt) == ("A72220", "cn-no-province")
    assert score_text("MA72220", 0.9, "cn")[1] == "A72220"
    assert headless < full and text_full == "京A88731"


def test_a_plate_split_in_two_boxes_is_merged() -> None:
    ranked = score_candidates([box("ABC", 100), box("1234", 170), box("2024-05-17", 400)], "us")
    assert ranked[0].text == "ABC1234"
    assert len(ranked[0].boxes) == 2
    assert ranked[0].box == (100, 100, 142, 30)


def test_a_read_one_character_too_long_between_format_groups_is_also_a_plate() -> None:
    ranked = score_candidates([box("SH0LR7X", 100)], "us")
    assert (ranked[0].text, ranked[0].format_name) == ("SH0R7X", "us-mo")
    assert ranked[1].text == "SH0LR7X" and ranked[1].fallback_format
    # The left-out character costs: a line read without it scores higher.
    assert score_candidates([box("SH0R7X", 100)], "us")[0].score > ranked[0].score
    # A character is left out only where the groups meet, and only to fit as read.
    assert [c.text for c in score_candidates([box("SHL0R7X", 100)], "us")] == ["SHL0R7X"]
    assert [c.text for c in score_candidates([box("K179658", 100)], "us")] == ["K179658"]
    # A read a specific format takes keeps every character ("ABC234" would fit too).
    assert [c.text for c in score_candidates([box("ABC1234", 100)], "us")] == ["ABC1234"]


def test_boxes_on_different_lines_or_heights_are_not_merged() -> None:
    ranked = score_candidates([box("ABC", 100), box("1234", 170, y=200)], "us")
    assert all(len(c.boxes) == 1 for c in ranked)
    ranked = score_candidates([box("ABC", 100), box("1234", 170, h=70)], "us")
    assert all(len(c.boxes) == 1 for c in ranked)


def test_default_province_fills_a_missing_province() -> None:
    class OneLine:
        name = "fake"

        def read(self, image_bgr: np.ndarray) -> list[TextBox]:
            return [box("A·72220", 40)]

    found = PlateRecognizer(OneLine(), "cn", default_province="浙").recognize(
        np.zeros((300, 400, 3), np.uint8)
    )
    assert found[0].text == "浙A72220"
    assert (
        PlateRecognizer(OneLine(), "cn").recognize(np.zeros((300, 400, 3), np.uint8))[0].text
        == "A72220"
    )
    with pytest.raises(ValueError, match="province"):
        PlateRecognizer(OneLine(), "cn", default_province="X")


# --------------------------------------------------------------------------------------
# The recognize command
# --------------------------------------------------------------------------------------


def test_recognize_paths_json_lines_and_unreadable_files(tmp_path: Path) -> None:
    image = scene(seed=11)
    plate_box = paste(image, render_plate("ABC1234"), 200, 300)
    good = tmp_path / "car.png"
    cv2.imwrite(str(good), image)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    out, err = io.StringIO(), io.StringIO()

    status = recognize_paths(
        [str(broken), str(good), str(tmp_path / "missing.png")],
        "us",
        as_json=True,
        out=out,
        err=err,
    )

    assert status == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 1
    assert lines[0]["image"] == str(good)
    assert lines[0]["plates"][0]["text"] == "ABC1234"
    assert overlap(tuple(lines[0]["plates"][0]["box"]), plate_box) > 0.5
    assert isinstance(lines[0]["ms"], int)
    assert "broken.jpg" in err.getvalue() and "missing.png" in err.getvalue()


def test_recognize_paths_reads_every_nth_frame_of_a_video(tmp_path: Path) -> None:
    frame = scene(seed=13)
    paste(frame, render_plate("KTM5820"), 180, 200)
    video = tmp_path / "lane.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (640, 480))
    for _ in range(5):
        writer.write(frame)
    writer.release()
    out = io.StringIO()

    status = recognize_paths([video], "us", frame_step=2, out=out)

    assert status == 0
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [f"{video} frame {n}" for n in (0, 2, 4)]
    assert all("KTM5820" in line for line in lines)
