"""Benchmark: one read per vehicle, from short clips made of each labelled photo.

A booth never reports one frame's read: its consensus (``desktop.recognition.consensus``)
turns the frames of a vehicle into one read. This makes a clip of each photo of a
labelled set, as a camera would see the vehicle drive up and wait at the barrier while
the attendant takes payment: the photo shrunk (the vehicle farther away) then whole,
each frame with its own sensor noise and JPEG compression. The frames go through the
real recognizer and the lane's consensus as the recognition worker feeds them: every
frame until the vehicle has its read, then only those the consensus still asks for
(``wants_frame``). The lane is declared empty at the end of the clip. A vehicle counts
as read when the clip gives exactly one read and it equals the label.

The frames of a clip come from one photo, so they differ less than real video does:
scale, noise and compression, not viewpoint, motion or light.

    python bench/approach.py ../shared/datasets/openalpr-us --region us
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recognition import machine, read_labels

from desktop.recognition.consensus import FrameCandidate, PlateConsensus
from desktop.recognition.engine import DEFAULT_ENGINE, load_engine
from desktop.recognition.recognizer import PlateRecognizer

#: Size of the vehicle in each frame of a clip, as a fraction of the photo: driving up,
#: then waiting at the barrier for eight seconds.
CLIP_SCALES = (0.7, 0.8, 0.9, 0.95) + (1.0,) * 32
#: Seconds between frames (the worker reads about 4 frames a second per lane).
FRAME_INTERVAL_S = 0.25
NOISE_SIGMA = 2.5
JPEG_QUALITY = (70, 95)


def clip_frame(photo: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """One frame of the vehicle of ``photo`` seen at ``scale`` (1.0: at the barrier)."""
    height, width = photo.shape[:2]
    frame = photo
    if scale < 1.0:
        small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
        frame = cv2.copyMakeBorder(
            small,
            top,
            height - small.shape[0] - top,
            left,
            width - small.shape[1] - left,
            cv2.BORDER_REPLICATE,
        )
    noisy = frame.astype(np.float32) + rng.normal(0.0, NOISE_SIGMA, frame.shape)
    quality = int(rng.integers(*JPEG_QUALITY))
    _, encoded = cv2.imencode(
        ".jpg", np.clip(noisy, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


def vehicle_reads(
    recognizer: PlateRecognizer, photo: np.ndarray, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """The clip's reads (one per vehicle the consensus saw) and the best read of each
    frame the consensus asked for ("" for none). Frames it does not ask for are never
    made: the worker would not read them either."""
    consensus = PlateConsensus("bench", region=recognizer.region)
    reads: list[str] = []
    per_frame: list[str] = []
    at = 0.0
    for scale in CLIP_SCALES:
        at += FRAME_INTERVAL_S
        if consensus.wants_frame(at):
            found = recognizer.recognize(clip_frame(photo, scale, rng))
            per_frame.append(found[0].text if found else "")
            candidates = [FrameCandidate(p.text, p.confidence, box=p.box) for p in found]
            emitted = consensus.feed(at, candidates)
        else:
            emitted = consensus.tick(at)
        reads.extend(v.read.plate for v in emitted)
    reads.extend(v.read.plate for v in consensus.lane_empty(at + FRAME_INTERVAL_S))
    return reads, per_frame


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--region", default="us")
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--limit", type=int, default=0, help="first N photos only")
    parser.add_argument("--quiet", action="store_true", help="do not list every miss")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = read_labels(args.dataset)
    if args.limit:
        rows = rows[: args.limit]
    engine = load_engine(args.engine)
    recognizer = PlateRecognizer(engine, args.region)
    vehicles_right = last_frame_right = frames_right = frames_total = 0
    wrong_count: dict[str, int] = {"none": 0, "one, wrong": 0, "several": 0}
    ocr_frames: list[int] = []
    started = time.perf_counter()
    for index, (path, label) in enumerate(rows):
        photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if photo is None:
            print(f"cannot decode {path}", file=sys.stderr)
            return 1
        reads, per_frame = vehicle_reads(recognizer, photo, np.random.default_rng(index))
        ocr_frames.append(len(per_frame))
        frames_right += sum(text == label for text in per_frame)
        frames_total += len(per_frame)
        last_frame_right += per_frame[-1] == label
        if reads == [label]:
            vehicles_right += 1
            continue
        kind = "none" if not reads else "one, wrong" if len(reads) == 1 else "several"
        wrong_count[kind] += 1
        if not args.quiet:
            print(f"  {path.name}: want {label} got {reads} frames {per_frame}")
    n = len(rows)
    print(
        f"dataset {args.dataset} ({n} photos, {len(CLIP_SCALES)} frames each), region {args.region}"
    )
    print(f"vehicles read right: {vehicles_right} of {n}; misses: {wrong_count}")
    print(
        f"frames read right, each on its own: {frames_right} of {frames_total}; "
        f"the last frame read: {last_frame_right} of {n}"
    )
    print(
        f"frames read of {len(CLIP_SCALES)} ({len(CLIP_SCALES) * FRAME_INTERVAL_S:.0f} s): "
        f"median {statistics.median(ocr_frames)}, most {max(ocr_frames)}"
    )
    print(f"wall time {time.perf_counter() - started:.0f} s")
    print(machine(engine))
    print(
        f"vehicle_accuracy={vehicles_right / n:.3f} "
        f"frame_accuracy={frames_right / frames_total:.3f} n={n} frames={len(CLIP_SCALES)} "
        f"engine={args.engine} region={args.region} dataset={args.dataset.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
