"""Camera-like damage for rendered images: tilt, lighting, glare, blur, noise, JPEG artefacts."""

from __future__ import annotations

import logging

import cv2
import numpy as np

log = logging.getLogger(__name__)


def _perspective(image: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Rotate a few degrees and pull the corners about, keeping the image size."""
    height, width = image.shape[:2]
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    jitter = rng.uniform(-amount, amount, size=(4, 2)).astype(np.float32)
    jitter *= np.float32([width, height])
    angle = np.deg2rad(rng.uniform(-6.0, 6.0) * amount / 0.08)
    centre = np.float32([width / 2, height / 2])
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (corners - centre) @ rotation.T + centre + jitter
    matrix = cv2.getPerspectiveTransform(corners, moved.astype(np.float32))
    return cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _glare(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Add a soft bright spot, as from a headlight or the sun on the plate."""
    height, width = image.shape[:2]
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    sigma = rng.uniform(0.1, 0.35) * max(width, height)
    ys, xs = np.ogrid[:height, :width]
    spot = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2)).astype(np.float32)
    boosted = image.astype(np.float32) + (spot * 255 * strength)[..., None]
    return np.clip(boosted, 0, 255).astype(np.uint8)


def _blur(image: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Gaussian defocus or a short horizontal/vertical motion smear."""
    size = max(1, round(amount * min(image.shape[:2]) / 20)) * 2 + 1
    if rng.random() < 0.5:
        return cv2.GaussianBlur(image, (size, size), 0)
    kernel = np.zeros((size, size), np.float32)
    if rng.random() < 0.5:
        kernel[size // 2, :] = 1.0 / size
    else:
        kernel[:, size // 2] = 1.0 / size
    return cv2.filter2D(image, -1, kernel)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


def degrade(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    strength: float = 1.0,
    tilt: bool = True,
    brightness: bool = True,
    glare: bool = True,
    blur: bool = True,
    noise: bool = True,
    jpeg: bool = True,
) -> np.ndarray:
    """A copy of the BGR ``image`` damaged the way a lane camera damages plates.

    Each enabled effect is drawn from ``rng`` (so the result is deterministic for a given
    generator state) and scaled by ``strength`` (0 leaves the image nearly untouched, 1 is
    a hard but still readable plate, above 1 is harsh). Glare is applied to about half of
    the images. The output has the input's size.
    """
    if image.ndim != 3 or image.dtype != np.uint8:
        raise ValueError("degrade expects a BGR uint8 image")
    out = image.copy()
    if tilt and strength > 0:
        out = _perspective(out, rng, 0.06 * strength)
    if brightness:
        gain = rng.uniform(1 - 0.35 * strength, 1 + 0.2 * strength)
        offset = rng.uniform(-30, 25) * strength
        out = cv2.convertScaleAbs(out, alpha=gain, beta=offset)
    if glare and strength > 0 and rng.random() < 0.5:
        out = _glare(out, rng, rng.uniform(0.2, 0.6) * strength)
    if blur and strength > 0:
        out = _blur(out, rng, rng.uniform(0.2, 1.0) * strength)
    if noise and strength > 0:
        sigma = rng.uniform(2, 8) * strength
        grain = rng.normal(0, sigma, size=out.shape).astype(np.float32)
        out = np.clip(out.astype(np.float32) + grain, 0, 255).astype(np.uint8)
    if jpeg:
        quality = int(np.clip(round(rng.uniform(85, 95) - 55 * min(strength, 1.2)), 10, 95))
        out = _jpeg(out, quality)
    return out
