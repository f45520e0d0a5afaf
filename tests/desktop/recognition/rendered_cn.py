"""Rendered Chinese plates that are hard to read in known ways, for recognition tests."""

from __future__ import annotations

import cv2
import numpy as np

from desktop.synthetic import render_plate


def province_painted_over(plate: str) -> np.ndarray:
    """A rendered plate on a grey margin whose province character is painted over with
    the plate colour, as a sticker or dirt would hide it."""
    image = render_plate(plate, "cn", height=60)
    h, w = image.shape[:2]
    image[6:-6, 6 : int(w * 0.16)] = image[h // 2, 3]
    return np.pad(image, ((40, 40), (60, 60), (0, 0)), constant_values=128)


def small_blurred(plate: str, height: int = 16) -> np.ndarray:
    """A rendered plate shrunk to ``height`` px and blurred, in a grey scene: at that
    size the greedy reading garbles the province character."""
    image = render_plate(plate, "cn", height=60)
    small = cv2.resize(image, None, fx=height / 60, fy=height / 60, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0)
    scene = np.full((200, 400, 3), 128, np.uint8)
    scene[90 : 90 + small.shape[0], 120 : 120 + small.shape[1]] = small
    return scene


def two_row_plate(plate: str, height: int = 110, *, upper_row_hidden: bool = False) -> np.ndarray:
    """A rendered two-row plate (province and city letter above the other five) on a
    grey margin, as on a lorry's rear; ``upper_row_hidden`` paints its upper row over
    with the plate colour."""
    image = render_plate(plate, "cn", "cn-two-row", height=height)
    if upper_row_hidden:
        h = image.shape[0]
        image[3 : int(h * 0.36), 6:-6] = image[h // 2, 3]
    return np.pad(image, ((height, height // 2), (height, height), (0, 0)), constant_values=128)
