"""The motion gate on real decoded frames of a generated lane video."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from desktop.recognition.motion import MotionConfig, MotionGate
from desktop.synthetic import LaneVideo, Phase, compose_scene, make_lane_video, render_plate
from desktop.synthetic.scene import road_background


@pytest.fixture(scope="module")
def lane(tmp_path_factory: pytest.TempPathFactory) -> tuple[LaneVideo, list[np.ndarray]]:
    path = tmp_path_factory.mktemp("lane") / "lane.avi"
    video = make_lane_video(
        path,
        ["ABC1234", "7XYZ042"],
        fps=10,
        size=(480, 270),
        seconds_per_vehicle=6,
        rng=5,
        empty_seconds=2.0,
    )
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    assert len(frames) == video.frame_count
    return video, frames


def test_gate_follows_the_vehicles_of_a_lane_video(
    lane: tuple[LaneVideo, list[np.ndarray]],
) -> None:
    video, frames = lane
    gate = MotionGate()
    decisions = [gate.update(frame) for frame in frames]
    hold = gate.config.hold_frames
    warmup = gate.config.warmup_frames
    for truth, active in zip(video.frames, decisions, strict=True):
        if truth.phase is Phase.EMPTY:
            previous = video.frames[max(0, truth.index - hold - 1)].phase
            if truth.index >= warmup and previous is Phase.EMPTY:
                assert not active, f"empty lane gated open at frame {truth.index}"
        else:
            # Arriving, stopped at the barrier (not moving!) and leaving: always open.
            assert active, f"{truth.phase} vehicle missed at frame {truth.index}"


def test_stopped_vehicle_keeps_the_gate_open_while_present(
    lane: tuple[LaneVideo, list[np.ndarray]],
) -> None:
    video, frames = lane
    visit = video.visits[0]
    gate = MotionGate()
    for frame in frames[: visit.stop_frame]:
        gate.update(frame)
    stopped = frames[visit.stop_frame]
    # The car waits at the barrier for a long time: the very same image, frame after frame.
    still = [gate.update(stopped) for _ in range(300)]
    assert all(still)
    assert gate.state.moving_fraction == 0.0
    assert gate.state.changed_fraction > gate.config.on_fraction
    # It leaves; once the lane is empty again the gate closes.
    empty = frames[-1]
    after = [gate.update(empty) for _ in range(10)]
    assert after[0]
    assert not after[-1]


def test_empty_lane_is_closed_after_warm_up_and_an_entering_car_opens_it() -> None:
    rng = np.random.default_rng(11)
    size = (640, 360)
    background = road_background(size, rng)
    noise = np.random.default_rng(1)
    gate = MotionGate(config=MotionConfig(warmup_frames=3))

    def empty_frame() -> np.ndarray:
        jitter = noise.normal(0, 2.0, background.shape)
        return np.clip(background + jitter, 0, 255).astype(np.uint8)

    warm = [gate.update(empty_frame()) for _ in range(3)]
    assert all(warm)  # unknown yet: let recognition look
    assert not any(gate.update(empty_frame()) for _ in range(30))
    scene, _ = compose_scene(render_plate("ABC1234", "us"), size, rng, background=background)
    assert gate.update(scene)


def test_region_of_interest_ignores_changes_outside_it() -> None:
    rng = np.random.default_rng(2)
    background = road_background((640, 360), rng)
    gate = MotionGate(roi=(0, 180, 640, 180))
    for _ in range(10):
        gate.update(background)
    outside = background.copy()
    outside[:150] = 255 - outside[:150]  # something happens above the lane
    assert not gate.update(outside)
    inside = background.copy()
    cv2.rectangle(inside, (200, 220), (440, 340), (20, 20, 200), -1)
    assert gate.update(inside)


def test_a_long_still_change_is_absorbed_and_reset_background_declares_the_lane_empty() -> None:
    rng = np.random.default_rng(3)
    background = road_background((320, 180), rng)
    config = MotionConfig(absorb_after=20, absorb_rate=0.2, warmup_frames=1)
    gate = MotionGate(config=config)
    gate.update(background)
    changed = background.copy()
    cv2.rectangle(changed, (100, 100), (200, 170), (0, 120, 255), -1)  # a cone left behind
    states = [gate.update(changed) for _ in range(60)]
    assert states[0] and states[19]
    assert not states[-1]
    gate.reset_background(background)
    assert not gate.update(background)


def test_roi_outside_the_frame_is_an_error() -> None:
    gate = MotionGate(roi=(1000, 1000, 10, 10))
    with pytest.raises(ValueError, match="outside the frame"):
        gate.update(np.zeros((100, 100, 3), np.uint8))
