"""Synthetic plates, lane scenes and lane videos for tests, benchmarks and the demo.

Everything is drawn with the fonts in ``resources/fonts/`` and is deterministic for a
given ``numpy.random.Generator`` state, so a seed reproduces the same images and videos.
"""

from .degrade import degrade
from .fonts import font_path
from .render import PLATE_STYLES, default_style, random_plate_text, render_plate
from .scene import Box, compose_scene, road_background
from .video import (
    FrameTruth,
    LaneVideo,
    Phase,
    PlateSpec,
    VehicleVisit,
    make_lane_video,
    make_queue_video,
)

__all__ = [
    "PLATE_STYLES",
    "Box",
    "FrameTruth",
    "LaneVideo",
    "Phase",
    "PlateSpec",
    "VehicleVisit",
    "compose_scene",
    "default_style",
    "degrade",
    "font_path",
    "make_lane_video",
    "make_queue_video",
    "random_plate_text",
    "render_plate",
    "road_background",
]
