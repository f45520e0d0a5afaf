"""Lane videos: vehicles drive up to the barrier, wait with the plate readable, and leave.

Used by the demo (issue 4) to play live lanes with no camera, and by tests and
benchmarks of the motion gate and multi-frame consensus. The file is MJPG in an AVI
container, which OpenCV writes and reads on every platform without extra codecs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np

from desktop.plates import normalize

from .degrade import degrade
from .render import render_plate
from .scene import (
    VEHICLE_ASPECT,
    Box,
    VehicleSprite,
    paste_sprite,
    road_background,
    vehicle_sprite,
)

log = logging.getLogger(__name__)

# Shares of a vehicle's time spent arriving and waiting at the barrier; the rest is leaving.
ARRIVE_SHARE = 0.3
STOP_SHARE = 0.45
# How much a leaving vehicle grows as it drives past the camera.
LEAVE_GROWTH = 0.8


class Phase(StrEnum):
    """What the lane shows in a frame."""

    EMPTY = "empty"
    ARRIVING = "arriving"
    STOPPED = "stopped"
    LEAVING = "leaving"


@dataclass(frozen=True)
class PlateSpec:
    """A plate to drive through the lane: its text, region profile and optional style."""

    text: str
    region: str = "us"
    style: str | None = None


@dataclass(frozen=True)
class FrameTruth:
    """Ground truth of one video frame: the phase, and the plate and its box when visible."""

    index: int
    phase: Phase
    plate: str | None
    box: Box | None


@dataclass(frozen=True)
class VehicleVisit:
    """One vehicle's frames: arriving from ``first_frame``, stopped ``stop_frame`` to
    ``leave_frame - 1``, leaving until ``last_frame`` (inclusive)."""

    plate: str
    region: str
    first_frame: int
    stop_frame: int
    leave_frame: int
    last_frame: int


@dataclass(frozen=True)
class LaneVideo:
    """A written lane video and its ground truth."""

    path: Path
    fps: float
    size: tuple[int, int]
    frame_count: int
    visits: tuple[VehicleVisit, ...]
    frames: tuple[FrameTruth, ...]


def _ease_out(t: float) -> float:
    return 1 - (1 - t) ** 2


def _pose(
    frame: int, counts: tuple[int, int, int], bottoms: tuple[float, float, float]
) -> tuple[Phase, float, float]:
    """Phase, scale and bottom edge of a vehicle ``frame`` frames into its visit."""
    arrive, stop, leave = counts
    far, stopped, gone = bottoms
    if frame < arrive:
        t = _ease_out(frame / arrive)
        return Phase.ARRIVING, 0.35 + 0.65 * t, far + (stopped - far) * t
    if frame < arrive + stop:
        return Phase.STOPPED, 1.0, stopped
    t = ((frame - arrive - stop + 1) / leave) ** 2
    return Phase.LEAVING, 1.0 + LEAVE_GROWTH * t, stopped + (gone - stopped) * t


def _as_spec(plate: str | PlateSpec, region: str) -> PlateSpec:
    return plate if isinstance(plate, PlateSpec) else PlateSpec(plate, region)


def make_lane_video(  # noqa: PLR0917 - the documented call shape
    path: str | Path,
    plates: Sequence[str | PlateSpec],
    fps: float = 15.0,
    size: tuple[int, int] = (960, 540),
    seconds_per_vehicle: float = 8.0,
    rng: np.random.Generator | int = 0,
    *,
    region: str = "us",
    empty_seconds: float = 1.5,
    plate_damage: float = 0.25,
) -> LaneVideo:
    """Write an MJPG ``.avi`` at ``path`` where each plate's vehicle visits the lane in turn.

    Every vehicle takes ``seconds_per_vehicle``: it drives up (growing from the far end of
    the lane), stops at the barrier (about 45% of its time, the plate still and readable),
    then drives on towards the camera and out of the picture. ``empty_seconds`` of empty
    lane come before the first vehicle, between vehicles and after the last. Plain strings
    in ``plates`` use ``region``; :class:`PlateSpec` items choose their own region and
    style. ``size`` is (width, height). The output is deterministic for a given ``rng``
    (a generator or a seed). ``plate_damage`` is the :func:`degrade` strength applied
    to each plate (no tilt). Returns the file's path and per-frame ground truth.
    """
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    width, height = size
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    per_vehicle = max(3, round(seconds_per_vehicle * fps))
    arrive = max(1, round(per_vehicle * ARRIVE_SHARE))
    stop = max(1, round(per_vehicle * STOP_SHARE))
    leave = max(1, per_vehicle - arrive - stop)
    empty = max(0, round(empty_seconds * fps))

    background = road_background(size, generator)
    noisy = [
        np.clip(background + generator.normal(0, 1.5, background.shape), 0, 255).astype(np.uint8)
        for _ in range(3)
    ]
    fit = min(width * 0.9, height * 0.85 / VEHICLE_ASPECT)
    vehicle_w = max(16, round(fit * 0.8))
    final_bottom = height * 0.93
    far_bottom = height * 0.3

    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write video {target}")
    truths: list[FrameTruth] = []
    visits: list[VehicleVisit] = []

    def emit(image: np.ndarray, phase: Phase, plate: str | None, box: Box | None) -> None:
        writer.write(image)
        truths.append(FrameTruth(len(truths), phase, plate if box is not None else None, box))

    def empty_frames(count: int) -> None:
        for _ in range(count):
            emit(noisy[len(truths) % len(noisy)], Phase.EMPTY, None, None)

    try:
        empty_frames(empty)
        for item in plates:
            spec = _as_spec(item, region)
            text = normalize(spec.text)
            plate = render_plate(text, spec.region, spec.style)
            if plate_damage > 0:
                plate = degrade(plate, generator, strength=plate_damage, jpeg=False, tilt=False)
            sprite = vehicle_sprite(plate, generator, width=vehicle_w)
            sprite_h = sprite.mask.shape[0]
            first = len(truths)
            # Leaving, the car grows towards the camera until its top passes the frame's
            # bottom edge.
            out_bottom = height + sprite_h * (1 + LEAVE_GROWTH)
            for frame in range(per_vehicle):
                phase, scale, bottom = _pose(
                    frame, (arrive, stop, leave), (far_bottom, final_bottom, out_bottom)
                )
                canvas = noisy[len(truths) % len(noisy)].copy()
                box = paste_sprite(canvas, sprite, width / 2, bottom, scale)
                emit(canvas, phase, text, box)
            visits.append(
                VehicleVisit(
                    text, spec.region, first, first + arrive, first + arrive + stop, len(truths) - 1
                )
            )
            empty_frames(empty)
    finally:
        writer.release()
    log.info("wrote lane video %s: %d frames, %d vehicles", target, len(truths), len(visits))
    return LaneVideo(target, fps, size, len(truths), tuple(visits), tuple(truths))


#: Where a car queuing behind the one at the barrier waits: its centre (fraction of the
#: frame's width), its bottom edge (fraction of the height) and its scale, clear of the
#: first car so that its plate shows.
QUEUE_POSE = (0.2, 0.5, 0.5)

#: Centre x, bottom edge y and scale of a car in one frame; None when it is out of view.
_Pose = tuple[float, float, float] | None


def make_queue_video(
    path: str | Path,
    first: str | PlateSpec,
    second: str | PlateSpec,
    *,
    fps: float = 5.0,
    size: tuple[int, int] = (640, 360),
    wait_seconds: float = 6.0,
    rng: np.random.Generator | int = 0,
    region: str = "us",
) -> LaneVideo:
    """Write an MJPG ``.avi`` at ``path`` where a second car queues behind the first.

    The first car drives up and waits ``wait_seconds`` at the barrier; meanwhile the
    second drives up behind it and waits off to one side (:data:`QUEUE_POSE`, smaller,
    its plate in view). The first car leaves, the second drives up to the barrier, waits
    as long and leaves. A second of empty lane comes before and after. The ground truth
    of each frame is the front car's. Deterministic for a given ``rng``.
    """
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    width, height = size
    fit = min(width * 0.9, height * 0.85 / VEHICLE_ASPECT)
    specs = [_as_spec(item, region) for item in (first, second)]
    texts, sprites = [], []
    for spec in specs:
        texts.append(normalize(spec.text))
        plate = render_plate(texts[-1], spec.region, spec.style)
        plate = degrade(plate, generator, strength=0.25, jpeg=False, tilt=False)
        sprites.append(vehicle_sprite(plate, generator, width=max(16, round(fit * 0.8))))
    move = max(2, round(1.5 * fps))
    wait = max(move + 1, round(wait_seconds * fps))
    empty = max(1, round(fps))
    poses = _queue_poses(size, sprites[0].mask.shape[0], move, wait, empty)
    truths = _write_two_cars(
        Path(path), fps, road_background(size, generator), sprites, texts, poses, generator
    )
    first_stop = empty + move
    second_from = first_stop + wait + move
    visits = (
        VehicleVisit(
            texts[0], specs[0].region, empty, first_stop, first_stop + wait, second_from - 1
        ),
        VehicleVisit(
            texts[1],
            specs[1].region,
            first_stop,
            second_from + move,
            second_from + move + wait,
            len(poses) - empty - 1,
        ),
    )
    log.info("wrote queue video %s: %d frames", path, len(truths))
    return LaneVideo(Path(path), fps, size, len(truths), visits, tuple(truths))


def _queue_poses(
    size: tuple[int, int], car_height: int, move: int, wait: int, empty: int
) -> list[tuple[_Pose, _Pose, Phase]]:
    """Per frame of a queue video: the first car's pose, the second car's, and the front
    car's phase (``move`` frames to drive up or away, ``wait`` at the barrier)."""
    width, height = size
    far, stopped = height * 0.3, height * 0.93
    gone = height + car_height * (1 + LEAVE_GROWTH)
    counts, bottoms = (move, wait, move), (far, stopped, gone)
    qx, qy, qs = QUEUE_POSE
    queued = (qx * width, qy * height, qs)
    centre = width / 2

    def between(
        a: tuple[float, float, float], b: tuple[float, float, float], t: float
    ) -> tuple[float, float, float]:
        return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)

    def lane_pose(frame: int) -> tuple[Phase, tuple[float, float, float]]:
        phase, scale, bottom = _pose(frame, counts, bottoms)
        return phase, (centre, bottom, scale)

    poses: list[tuple[_Pose, _Pose, Phase]] = [(None, None, Phase.EMPTY)] * empty
    for i in range(move):  # the first car drives up
        phase, pose = lane_pose(i)
        poses.append((pose, None, phase))
    for i in range(wait):  # it waits; the second car drives up behind it
        behind = between((centre, far, 0.35), queued, _ease_out(min(1.0, i / move)))
        poses.append(((centre, stopped, 1.0), behind, Phase.STOPPED))
    for i in range(move):  # the first car leaves
        phase, pose = lane_pose(move + wait + i)
        poses.append((pose, queued, phase))
    for i in range(move):  # the second car drives up to the barrier
        poses.append(
            (
                None,
                between(queued, (centre, stopped, 1.0), _ease_out((i + 1) / move)),
                Phase.ARRIVING,
            )
        )
    for i in range(wait + move):  # it waits, then leaves
        phase, pose = lane_pose(move + i)
        poses.append((None, pose, phase))
    return [*poses, *[(None, None, Phase.EMPTY)] * empty]


def _write_two_cars(  # noqa: PLR0917 - one writer's inputs
    target: Path,
    fps: float,
    background: np.ndarray,
    sprites: list[VehicleSprite],
    texts: list[str],
    poses: list[tuple[_Pose, _Pose, Phase]],
    generator: np.random.Generator,
) -> list[FrameTruth]:
    """Write the frames of ``poses`` to ``target``; returns the front car's truth per frame."""
    height, width = background.shape[:2]
    target.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write video {target}")
    truths: list[FrameTruth] = []
    try:
        for index, (*car_poses, phase) in enumerate(poses):
            noise = generator.normal(0, 1.5, background.shape)
            canvas = np.clip(background + noise, 0, 255).astype(np.uint8)
            boxes: list[Box | None] = [None, None]
            for car in (1, 0):  # the car behind first, so the front car hides it
                if car_poses[car] is not None:
                    boxes[car] = paste_sprite(canvas, sprites[car], *car_poses[car])
            writer.write(canvas)
            front = 0 if car_poses[0] is not None else 1
            box = boxes[front] if car_poses[front] is not None else None
            truths.append(FrameTruth(index, phase, texts[front] if box else None, box))
    finally:
        writer.release()
    return truths
