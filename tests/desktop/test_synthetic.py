"""Synthetic plates, scenes and lane videos: valid, deterministic, decodable."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop.plates import CN_PROVINCES, REGION_NAMES, validate
from desktop.synthetic import (
    PLATE_STYLES,
    Phase,
    PlateSpec,
    compose_scene,
    degrade,
    font_path,
    make_lane_video,
    random_plate_text,
    render_plate,
)
from desktop.synthetic import fonts as fonts_module

REPO = Path(__file__).resolve().parents[2]


def test_shipped_fonts_are_found_with_their_licences() -> None:
    for name in (fonts_module.LATIN_BOLD, fonts_module.LATIN_CONDENSED_BOLD, fonts_module.CJK):
        path = font_path(name)
        assert path == REPO / "resources" / "fonts" / name
        assert path.stat().st_size > 100_000
    folder = REPO / "resources" / "fonts"
    assert (folder / "LICENSE-DejaVu.txt").is_file()
    assert (folder / "LICENSE-Apache-2.0.txt").is_file()
    assert sum(p.stat().st_size for p in folder.iterdir()) < 10_000_000


def test_font_path_uses_the_bundle_when_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fonts = tmp_path / "resources" / "fonts"
    fonts.mkdir(parents=True)
    (fonts / "Plate.ttf").write_bytes(b"font")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert font_path("Plate.ttf") == fonts / "Plate.ttf"
    with pytest.raises(FileNotFoundError, match=r"Missing\.ttf"):
        font_path("Missing.ttf")


@pytest.mark.parametrize("region", REGION_NAMES)
def test_random_plate_texts_are_valid_and_deterministic(region: str) -> None:
    texts = [random_plate_text(region, np.random.default_rng(seed)) for seed in range(40)]
    assert texts == [random_plate_text(region, np.random.default_rng(seed)) for seed in range(40)]
    assert all(validate(text, region) is not None for text in texts)
    assert len(set(texts)) > 30
    if region == "cn":
        assert all(text[0] in CN_PROVINCES for text in texts)


def _ink_ratio(plate: np.ndarray, background: tuple[int, int, int]) -> float:
    """Share of the plate's pixels that differ clearly from its background colour."""
    distance = np.abs(plate.astype(int) - np.array(background)).sum(axis=2)
    return float((distance > 150).mean())


@pytest.mark.parametrize(
    ("text", "region", "style", "aspect"),
    [
        ("ABC1234", "us", None, 2.0),
        ("AB123CD", "eu", None, 4.7),
        ("ABC1D23", "br", None, 3.08),
        ("京A12345", "cn", None, 3.14),
        ("粤BD12345", "cn", None, 3.43),
        ("京A12345", "cn", "cn-yellow", 3.14),
        ("粤AB2893", "cn", "cn-two-row", 2.0),
        ("XY12345", "generic", None, 4.0),
    ],
)
def test_each_region_renders_a_plate_of_its_shape_with_text_filling_it(
    text: str, region: str, style: str | None, aspect: float
) -> None:
    plate = render_plate(text, region, style, height=100)
    assert plate.dtype == np.uint8
    assert plate.shape[0] == 100
    assert plate.shape[2] == 3
    assert plate.shape[1] == pytest.approx(100 * aspect, abs=1)
    assert np.array_equal(plate, render_plate(text, region, style, height=100))
    # The characters cover a good part of the plate, spread over most of its width.
    middle = plate[45:55]
    dark_or_light = np.abs(middle.astype(int) - middle.reshape(-1, 3).mean(axis=0)).sum(axis=2)
    columns = np.nonzero((dark_or_light > 120).any(axis=0))[0]
    assert columns.size and (columns.max() - columns.min()) > 0.6 * plate.shape[1]


def test_plate_colours_follow_the_region() -> None:
    blue = render_plate("京A12345", "cn")
    green = render_plate("粤BD12345", "cn")
    us = render_plate("ABC1234", "us")
    b, _, r = blue[5:15, 40:60].reshape(-1, 3).mean(axis=0)
    assert b > 120 and r < 60  # blue plate
    top, bottom = green[8, 20:60].mean(axis=0), green[-8, 20:60].mean(axis=0)
    assert bottom[1] > bottom[2] + 50 and top.sum() > bottom.sum()  # green gradient
    assert us[5, 5:15].mean() > 200  # white
    assert _ink_ratio(us, (245, 243, 240)) > 0.08


def test_render_rejects_unknown_styles_and_empty_text() -> None:
    with pytest.raises(ValueError, match="unknown plate style"):
        render_plate("ABC123", "us", "pink")
    with pytest.raises(ValueError, match="no letters or digits"):
        render_plate(" - ", "us")
    assert set(PLATE_STYLES) >= {"us", "eu", "br", "cn-blue", "cn-green", "cn-yellow", "generic"}


def test_degrade_is_deterministic_and_keeps_the_size() -> None:
    plate = render_plate("ABC1234", "us")
    first = degrade(plate, np.random.default_rng(7))
    second = degrade(plate, np.random.default_rng(7))
    other = degrade(plate, np.random.default_rng(8))
    assert first.shape == plate.shape
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, plate)
    gentle = degrade(plate, np.random.default_rng(7), strength=0.0, jpeg=False, brightness=False)
    assert np.array_equal(gentle, plate)


@pytest.mark.parametrize("seed", range(6))
def test_scene_places_the_plate_inside_and_reports_its_box(seed: int) -> None:
    rng = np.random.default_rng(seed)
    region = REGION_NAMES[seed % len(REGION_NAMES)]
    plate = render_plate(random_plate_text(region, rng), region)
    scene, (x, y, w, h) = compose_scene(plate, (640, 360), rng)
    assert scene.shape == (360, 640, 3)
    assert x >= 0 and y >= 0 and x + w <= 640 and y + h <= 360
    assert w / h == pytest.approx(plate.shape[1] / plate.shape[0], rel=0.1)
    resized = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
    assert np.abs(scene[y : y + h, x : x + w].astype(int) - resized).mean() < 3
    # The same generator state gives the same scene.
    rng2 = np.random.default_rng(seed)
    random_plate_text(region, rng2)
    assert np.array_equal(compose_scene(plate, (640, 360), rng2)[0], scene)


def test_lane_video_is_written_decodable_and_follows_its_timeline(tmp_path: Path) -> None:
    plates = ["ABC1234", PlateSpec("粤B12345D", "cn")]
    video = make_lane_video(
        tmp_path / "lane.avi",
        plates,
        fps=10,
        size=(320, 180),
        seconds_per_vehicle=4,
        rng=3,
        empty_seconds=1.0,
    )
    assert video.frame_count == 10 + 2 * (40 + 10)
    assert [v.plate for v in video.visits] == ["ABC1234", "粤B12345D"]
    capture = cv2.VideoCapture(str(video.path))
    try:
        assert capture.isOpened()
        assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == video.frame_count
        decoded = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            decoded.append(frame)
    finally:
        capture.release()
    assert len(decoded) == video.frame_count
    assert decoded[0].shape == (180, 320, 3)
    for visit in video.visits:
        stopped = video.frames[visit.stop_frame : visit.leave_frame]
        assert len(stopped) >= 15  # readable for many frames
        assert {f.phase for f in stopped} == {Phase.STOPPED}
        assert {f.box for f in stopped} == {stopped[0].box}  # it really stands still
        assert all(f.plate == visit.plate for f in stopped)
        w = stopped[0].box[2]
        assert w >= 0.14 * 320  # about 135 px on a 960 px wide demo lane
        still = decoded[visit.stop_frame : visit.leave_frame]
        assert np.abs(still[0].astype(int) - still[-1]).mean() < 3
    empty = [f for f in video.frames if f.phase is Phase.EMPTY]
    assert all(f.plate is None and f.box is None for f in empty)


def test_lane_video_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    kwargs = {"fps": 5, "size": (160, 96), "seconds_per_vehicle": 2, "empty_seconds": 0.4}
    a = make_lane_video(tmp_path / "a.avi", ["ABC1234"], rng=9, **kwargs)
    b = make_lane_video(tmp_path / "b.avi", ["ABC1234"], rng=9, **kwargs)
    c = make_lane_video(tmp_path / "c.avi", ["ABC1234"], rng=10, **kwargs)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.frames == b.frames
    assert a.path.read_bytes() != c.path.read_bytes()
