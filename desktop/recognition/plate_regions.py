"""Plate-like regions of a photo, found from its strokes rather than by the text detector.

PP-OCR's text detector misses some plates outright, at every size it sees the whole
photo at: a California plate 46 px high (openalpr-us us-0085) lights its text map to
0.03 where 0.3 marks text, and the same plate cut out and scaled up twice is found and
read at once. A plate is still a band of dark, upright strokes on a lighter ground,
which plain image operations find in a few milliseconds: the recognizer looks closer
at the densest such bands when a photo gave no sure read.
"""

from __future__ import annotations

import cv2
import numpy as np

from .engine import Box, intersection

#: Longer side the photo is scaled down to before looking for strokes.
WORK_SIDE = 960
#: Stroke heights (working pixels) looked for: the dark-on-light filter's height,
#: twice as wide; small and large characters.
STROKE_SIZES = (9, 15)
#: Width over height of a band that can be a plate's characters or a whole plate.
BAND_ASPECT = (1.5, 7.0)
#: A band overlapping a denser one by more than this (intersection over union) is the
#: same place.
SAME_PLACE_IOU = 0.5


def plate_like_regions(image_bgr: np.ndarray, count: int) -> list[Box]:
    """Up to ``count`` x, y, w, h boxes of ``image_bgr`` holding a row of dark upright
    strokes on a lighter ground, the most stroke-dense (weighted by size) first."""
    height, width = image_bgr.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    found: list[tuple[float, Box]] = []
    for stroke in STROKE_SIZES:
        edges, mask = _stroke_mask(grey, stroke)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            band = _band(mask, cv2.boundingRect(contour))
            if band is None:
                continue
            x, y, w, h = band
            density = float(edges[y : y + h, x : x + w].mean())
            box = (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
            found.append((density * (w * h) ** 0.5, box))
    found.sort(key=lambda f: -f[0])
    kept: list[Box] = []
    for _, box in found:
        if len(kept) == count:
            break
        if all(_iou(box, other) <= SAME_PLACE_IOU for other in kept):
            kept.append(box)
    return kept


def _stroke_mask(grey: np.ndarray, stroke: int) -> tuple[np.ndarray, np.ndarray]:
    """The vertical edges of dark strokes about ``stroke`` px high in ``grey`` (0-255),
    and the mask of the rows they form, joined across character gaps."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (stroke * 2, stroke))
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    edges = np.abs(cv2.Sobel(dark, cv2.CV_32F, 1, 0, ksize=3))
    edges = (255 * edges / (edges.max() + 1e-6)).astype(np.uint8)
    edges = cv2.GaussianBlur(edges, (5, 5), 0)
    _, mask = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    joiner = cv2.getStructuringElement(cv2.MORPH_RECT, (stroke * 2, max(3, stroke // 3)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, joiner)
    mask = cv2.dilate(cv2.erode(mask, None), None, iterations=2)
    return edges, mask


def _band(mask: np.ndarray, box: Box) -> Box | None:
    """The plate-shaped part of one blob of ``mask`` inside ``box``, or None.

    A plate's blob often runs on into what touches it (a tow hitch, a bumper edge),
    which makes it too tall: its densest run of rows, then the columns mostly filled
    along them, is the band of characters."""
    x, y, w, h = box
    if h < 8 or w < 24:
        return None
    if w / h < BAND_ASPECT[0]:
        filled = (mask[y : y + h, x : x + w] > 0).mean(axis=1)
        top, rows = _longest_run(filled >= 0.5 * filled.max())
        y, h = y + top, rows
        columns = np.flatnonzero((mask[y : y + h, x : x + w] > 0).mean(axis=0) >= 0.5)
        if h < 8 or columns.size == 0:
            return None
        x, w = x + int(columns[0]), int(columns[-1] - columns[0] + 1)
    if w < 24 or not BAND_ASPECT[0] <= w / h <= BAND_ASPECT[1]:
        return None
    return x, y, w, h


def _longest_run(flags: np.ndarray) -> tuple[int, int]:
    """The start and length of the longest run of True in ``flags``."""
    best_start, best_length, start = 0, 0, None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best_length:
                best_start, best_length = start, i - start
            start = None
    return best_start, best_length


def _iou(a: Box, b: Box) -> float:
    shared = intersection(a, b)
    return shared / (a[2] * a[3] + b[2] * b[3] - shared)
