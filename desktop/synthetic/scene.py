"""Simple drawn exit-lane scenes: a road background and a car front carrying a plate."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x, y, width, height

#: Car body colours (BGR) the scenes pick from.
CAR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (40, 40, 40),
    (200, 200, 200),
    (235, 235, 235),
    (30, 30, 150),
    (140, 70, 20),
    (60, 90, 60),
    (90, 90, 100),
    (20, 140, 200),
)
#: A vehicle sprite is this much taller than wide.
VEHICLE_ASPECT = 0.78
#: Plate width as a fraction of the vehicle width.
PLATE_TO_VEHICLE = 0.3


@dataclass(frozen=True)
class VehicleSprite:
    """A drawn car front: BGR image, its shape mask and where the plate sits on it."""

    image: np.ndarray
    mask: np.ndarray
    plate_box: Box


def road_background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An empty exit lane seen from the booth camera: wall, asphalt, lane lines, a post.

    ``size`` is (width, height).
    """
    width, height = size
    horizon = round(height * 0.22)
    scene = np.empty((height, width, 3), np.uint8)
    wall = np.array(rng.integers(120, 190, size=3), np.float32)
    scene[:horizon] = wall.astype(np.uint8)
    for x in range(0, width, max(8, width // 12)):
        cv2.line(scene, (x, 0), (x, horizon), (wall * 0.8).astype(np.uint8).tolist(), 1)
    t = np.linspace(0.0, 1.0, height - horizon, dtype=np.float32)[:, None, None]
    far, near = np.float32([120, 120, 118]), np.float32([78, 80, 82])
    scene[horizon:] = (far * (1 - t) + near * t).astype(np.uint8)
    texture = rng.normal(0, 9, size=(height // 4 + 1, width // 4 + 1)).astype(np.float32)
    texture = cv2.resize(texture, (width, height), interpolation=cv2.INTER_LINEAR)
    road = scene[horizon:].astype(np.float32) + texture[horizon:, :, None]
    scene[horizon:] = np.clip(road, 0, 255).astype(np.uint8)
    vanish = (width // 2, horizon - height // 3)
    for side in (-1, 1):
        bottom = (width // 2 + side * round(width * 0.46), height)
        top_y = horizon
        frac = (top_y - vanish[1]) / (bottom[1] - vanish[1])
        top = (round(vanish[0] + (bottom[0] - vanish[0]) * frac), top_y)
        cv2.line(scene, top, bottom, (40, 200, 230), max(2, width // 160), cv2.LINE_AA)
    stop_y = round(height * 0.97)
    cv2.line(
        scene, (width // 5, stop_y), (width * 4 // 5, stop_y), (235, 235, 235), max(3, height // 90)
    )
    post_x = round(width * 0.93)
    cv2.rectangle(
        scene,
        (post_x, round(height * 0.12)),
        (post_x + max(6, width // 60), height),
        (40, 40, 40),
        -1,
    )
    cv2.rectangle(
        scene,
        (post_x - width // 80, round(height * 0.12)),
        (post_x + max(6, width // 60) + width // 80, round(height * 0.3)),
        (30, 180, 240),
        -1,
    )
    return scene


def vehicle_sprite(
    plate_image: np.ndarray,
    rng: np.random.Generator,
    *,
    width: int = 520,
    colour: tuple[int, int, int] | None = None,
) -> VehicleSprite:
    """Draw a car front ``width`` px wide with ``plate_image`` on its bumper."""
    height = round(width * VEHICLE_ASPECT)
    colour = colour or CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]
    image = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), np.uint8)

    def poly(points: list[tuple[float, float]], fill: tuple[int, int, int]) -> None:
        pts = np.array([(round(x * width), round(y * height)) for x, y in points], np.int32)
        cv2.fillPoly(image, [pts], fill, cv2.LINE_AA)
        cv2.fillPoly(mask, [pts], 255)

    dark = tuple(int(c * 0.55) for c in colour)
    # wheels, then cabin, body, details
    poly([(0.07, 0.82), (0.23, 0.82), (0.23, 1.0), (0.07, 1.0)], (20, 20, 20))
    poly([(0.77, 0.82), (0.93, 0.82), (0.93, 1.0), (0.77, 1.0)], (20, 20, 20))
    poly([(0.2, 0.02), (0.8, 0.02), (0.92, 0.4), (0.08, 0.4)], colour)
    poly([(0.25, 0.07), (0.75, 0.07), (0.85, 0.37), (0.15, 0.37)], (70, 55, 45))
    poly([(0.02, 0.38), (0.98, 0.38), (1.0, 0.5), (1.0, 0.86), (0.0, 0.86), (0.0, 0.5)], colour)
    poly([(0.3, 0.45), (0.7, 0.45), (0.68, 0.56), (0.32, 0.56)], (35, 35, 35))
    poly([(0.0, 0.72), (1.0, 0.72), (1.0, 0.86), (0.0, 0.86)], dark)
    for cx in (0.13, 0.87):
        cv2.ellipse(
            image,
            (round(cx * width), round(0.5 * height)),
            (round(0.09 * width), round(0.045 * height)),
            0,
            0,
            360,
            (215, 235, 245),
            -1,
            cv2.LINE_AA,
        )
    # a little body-colour noise so the surface is not perfectly flat
    grain = rng.normal(0, 3, size=(height, width, 1)).astype(np.float32)
    image = np.clip(image.astype(np.float32) + grain * (mask[..., None] > 0), 0, 255).astype(
        np.uint8
    )
    plate_w = round(width * PLATE_TO_VEHICLE)
    plate_h = max(4, round(plate_w * plate_image.shape[0] / plate_image.shape[1]))
    plate = cv2.resize(plate_image, (plate_w, plate_h), interpolation=cv2.INTER_AREA)
    px = (width - plate_w) // 2
    py = round(height * 0.7) - plate_h // 2
    image[py : py + plate_h, px : px + plate_w] = plate
    mask[py : py + plate_h, px : px + plate_w] = 255
    return VehicleSprite(image, mask, (px, py, plate_w, plate_h))


def paste_sprite(
    canvas: np.ndarray, sprite: VehicleSprite, centre_x: float, bottom_y: float, scale: float
) -> Box | None:
    """Draw ``sprite`` scaled by ``scale`` onto ``canvas`` (in place), bottom-centre anchored.

    Returns the plate's box in canvas coordinates when the whole plate is visible, else None.
    """
    height, width = sprite.mask.shape
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    image = cv2.resize(sprite.image, (new_w, new_h), interpolation=interp)
    mask = cv2.resize(sprite.mask, (new_w, new_h), interpolation=cv2.INTER_NEAREST)
    left, top = round(centre_x - new_w / 2), round(bottom_y - new_h)
    canvas_h, canvas_w = canvas.shape[:2]
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(canvas_w, left + new_w), min(canvas_h, top + new_h)
    if x0 < x1 and y0 < y1:
        roi = canvas[y0:y1, x0:x1]
        cv2.copyTo(
            image[y0 - top : y1 - top, x0 - left : x1 - left],
            mask[y0 - top : y1 - top, x0 - left : x1 - left],
            roi,
        )
    px, py, pw, ph = sprite.plate_box
    box = (left + round(px * scale), top + round(py * scale), round(pw * scale), round(ph * scale))
    bx, by, bw, bh = box
    if bw <= 0 or bh <= 0 or bx < 0 or by < 0 or bx + bw > canvas_w or by + bh > canvas_h:
        return None
    return box


def compose_scene(
    plate_image: np.ndarray,
    background_size: tuple[int, int],
    rng: np.random.Generator,
    *,
    vehicle_width: int | None = None,
    background: np.ndarray | None = None,
) -> tuple[np.ndarray, Box]:
    """A lane scene (``background_size`` = (width, height)) with a car carrying the plate.

    Returns the BGR scene and the plate's box (x, y, w, h), always fully inside the scene.
    ``background`` (of that size) replaces the drawn road, e.g. to reuse one lane.
    """
    width, height = background_size
    scene = road_background(background_size, rng) if background is None else background.copy()
    if scene.shape[:2] != (height, width):
        raise ValueError("background does not have background_size")
    fit = min(width * 0.9, height * 0.85 / VEHICLE_ASPECT)
    vehicle_w = vehicle_width or round(fit * rng.uniform(0.6, 0.95))
    vehicle_w = max(16, min(vehicle_w, round(fit)))
    sprite = vehicle_sprite(plate_image, rng, width=vehicle_w)
    sprite_h = sprite.mask.shape[0]
    slack_x = (width - vehicle_w) / 2
    centre_x = width / 2 + rng.uniform(-0.5, 0.5) * slack_x
    bottom_y = rng.uniform(sprite_h, height) if sprite_h < height else height
    box = paste_sprite(scene, sprite, centre_x, bottom_y, 1.0)
    if box is None:  # pragma: no cover - the placement above keeps the car inside
        raise AssertionError("plate fell outside the scene")
    return scene, box
