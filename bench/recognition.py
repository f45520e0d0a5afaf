"""Benchmark: plate recognition accuracy and latency on a labelled photo set.

Reads ``DATASET_DIR/labels.tsv`` (file, plate, then set-specific columns), runs the
plate recognizer on each whole image (decoded before the timer starts; models loaded
and warmed up first) and scores the best answer by normalized exact match. Prints the
misses grouped into error classes, the machine, and one closing line of key=value pairs.

    python bench/recognition.py ../shared/datasets/openalpr-us --region us
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop import plates
from desktop.recognition.engine import DEFAULT_ENGINE, OcrEngine, load_engine
from desktop.recognition.recognizer import PlateCandidate, PlateRecognizer

CLASSES = (
    "nothing read",
    "right text read but not chosen",
    "wrong text selected",
    "look-alike substitution",
    "1-2 substitutions",
    "extra/missing characters",
    "province character missing/wrong",
)


def read_labels(dataset: Path) -> list[tuple[Path, str]]:
    """(image path, normalized plate) for every row of labels.tsv."""
    rows = []
    for line in (dataset / "labels.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            cols = line.split("\t")
            rows.append((dataset / cols[0], plates.normalize(cols[1])))
    return rows


def classify(label: str, found: list[PlateCandidate]) -> str:
    """The error class of a miss."""
    if not found:
        return "nothing read"
    got = found[0].text
    seen = {p.text for p in found} | {alt for p in found for alt, _ in p.alternatives}
    if label and not label[0].isascii() and (got == label[1:] or got[1:] == label[1:]):
        return "province character missing/wrong"
    if len(got) == len(label):
        diffs = sum(a != b for a, b in zip(got, label, strict=True))
        if plates.equivalence_key(got) == plates.equivalence_key(label):
            return "look-alike substitution"
        if diffs <= 2:
            return "1-2 substitutions"
    elif plates.levenshtein(got, label, limit=2) <= 2:
        return "extra/missing characters"
    if label in seen:
        return "right text read but not chosen"
    return "wrong text selected"


def machine(engine: object) -> str:
    """One line describing the machine the figures come from."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = getattr(engine, "threads", "n/a")
    return (
        f"machine: {platform.platform()}, {cpu}, {os.cpu_count()} cores, "
        f"onnxruntime threads {threads}, python {platform.python_version()}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--region", default="us")
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--limit", type=int, default=0, help="first N images only")
    parser.add_argument(
        "--det-side", type=int, default=0, help="rapidocr detector long side (default: engine's)"
    )
    parser.add_argument("--quiet", action="store_true", help="do not list every miss")
    parser.add_argument(
        "--no-province-reader",
        action="store_true",
        help="Chinese plates: settle no province with the second (PP-OCRv4) recognizer",
    )
    return parser.parse_args(argv)


def make_engine(name: str, det_side: int) -> OcrEngine:
    """The engine to measure; ``det_side`` (rapidocr only) overrides its detector size."""
    if det_side and name == "rapidocr":
        from desktop.recognition.rapidocr_engine import RapidOcrEngine

        return RapidOcrEngine(det_side=det_side)
    return load_engine(name)


def extra_looks_of(recognizer: PlateRecognizer) -> list[tuple[str, bool]]:
    """Which of the recognizer's extra looks its last call took."""
    return [
        ("second detection pass", recognizer.last_passes > 1),
        ("tiled detection pass", recognizer.last_tiled),
        ("second look at the best read", recognizer.last_second_look),
        ("plate-like stroke band read", recognizer.last_region_look),
        ("line widened at an end, that read ranked", recognizer.last_widened),
        ("province or city letter changed by the province reader", recognizer.last_head_settled),
        ("loose line read again by the province reader", recognizer.last_loose_reread),
        ("upper row of a two-row plate read", recognizer.last_upper_row),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    rows = read_labels(args.dataset)
    if args.limit:
        rows = rows[: args.limit]
    engine = make_engine(args.engine, args.det_side)
    recognizer = PlateRecognizer(engine, args.region, province_reader=not args.no_province_reader)
    if rows:  # warm-up on a real image so first-call allocations are not timed
        warm = cv2.imread(str(rows[0][0]))
        if warm is not None:
            recognizer.recognize(warm)

    times: list[float] = []
    # Process CPU time (all threads) per image: unlike wall time it does not grow when
    # other programs compete for the cores.
    cpu_times: list[float] = []
    misses: dict[str, list[str]] = collections.defaultdict(list)
    correct = 0
    # How many images took each of the recognizer's extra looks.
    extra_looks: collections.Counter[str] = collections.Counter()
    for path, label in rows:
        image = cv2.imread(str(path))
        if image is None:
            print(f"cannot read {path}", file=sys.stderr)
            misses["nothing read"].append(f"{path.name}: unreadable file")
            continue
        start, cpu_start = time.perf_counter(), time.process_time()
        found = recognizer.recognize(image)
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
        extra_looks.update(look for look, taken in extra_looks_of(recognizer) if taken)
        got = found[0].text if found else ""
        if got == label:
            correct += 1
            continue
        kind = classify(label, found)
        misses[kind].append(f"{path.name}: want {label} got {got or '-'}")

    n = len(rows)
    print(f"dataset {args.dataset} ({n} images), region {args.region}, engine {args.engine}")
    print("misses by class:")
    for kind in CLASSES:
        print(f"  {kind}: {len(misses[kind])}")
        if not args.quiet:
            for line in misses[kind]:
                print(f"    {line}")
    if cpu_times:
        print(f"median process CPU time per image: {statistics.median(cpu_times):.0f} ms")
    for look, _ in extra_looks_of(recognizer):
        print(f"{look} on {extra_looks[look]} of {len(times)} images")
    print(machine(engine))
    median = statistics.median(times) if times else 0.0
    p90 = statistics.quantiles(times, n=10)[-1] if len(times) >= 2 else median
    accuracy = correct / n if n else 0.0
    print(
        f"accuracy={accuracy:.3f} median_ms={median:.0f} p90_ms={p90:.0f} n={n} "
        f"engine={args.engine} region={args.region} dataset={args.dataset.name}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
