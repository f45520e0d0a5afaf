"""Plate recognition on one image: scale, pad tight crops, read text, pick plates.

:class:`PlateRecognizer` turns a BGR frame (optionally a lane's region of interest)
into plate candidates, best first, in the frame's own pixel coordinates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from desktop import plates

from .candidates import (
    Candidate,
    confidence,
    score_candidates,
)
from .chinese import ChineseSteps
from .constrained import decode_patterns, greedy_reading
from .engine import (
    Box,
    DetailedOcrEngine,
    OcrEngine,
    ProbabilityOcrEngine,
    TextBox,
    overlap,
)
from .lines import LineProbabilities
from .plate_regions import plate_like_regions
from .province_reader import ProvinceReader, shared_province_reader
from .widen import wider_reads

log = logging.getLogger(__name__)


#: Longer side above which a photo is scaled down before anything else.
DEFAULT_MAX_SIDE = 1920
#: Regions whose plates (almost) never carry the letter O: read O as 0 unless the
#: region's positional format asks for a letter there.
DIGIT_ZERO_REGIONS = frozenset({"us"})
# A picture this small with a plate-like aspect is taken to be a tight plate crop.
_CROP_MAX_HEIGHT = 160
_CROP_ASPECT = (1.2, 6.5)
_CROP_MIN_HEIGHT = 64
#: A first-pass best candidate scoring at least this is taken without a second pass.
CONFIDENT_SCORE = 1.2
#: Detector long side of the second, finer pass (engines that support it).
SECOND_PASS_SIDE = 1280
#: Mean text probability a region needs in the finer pass (a whole photo's first pass
#: needs 0.5): it runs because nothing plate-like was found, so fainter regions are
#: worth reading. On openalpr-us 0.2, 0.3 and 0.4 each read one photo more; 0.3 on the
#: first pass too read two fewer.
SECOND_PASS_BOX_THRESH = 0.4
#: Width and height of each of the four overlapping tiles a tiled pass looks at, as a
#: fraction of the image's. The text detector misses some plates in a whole photo that
#: it finds in a part of it (signs and bodywork around them weigh on what it sees as
#: text); see :meth:`PlateRecognizer._read_tiles`.
TILE_FRACTION = 2 / 3
#: Longest side the detector sees a tile at: tiles of photos up to 1440 px wide are seen
#: at full resolution; a 1080p frame's 1280 px tiles are scaled down, which cut the
#: tiled pass on a 1080p photo (cn-easypr 0085) from 0.8 to 0.5 s and read the same.
TILE_MAX_SIDE = 960
#: A read longer than every specific plate format of its region, whose first or last
#: character the recognizer gives less than this probability, is also scored without
#: that character: state emblems beside the serial (Arizona's cactus read as "4") come
#: out as such doubtful edge characters. On the openalpr-us photos the emblems read so
#: had 0.41 and 0.49, the real characters of over-long reads 0.66 and up.
EDGE_DOUBT = 0.5
#: Over-long candidates (best first) whose line is re-read for a doubtful edge.
EDGE_REREADS = 2
#: Candidates (best first) whose format is chosen by the recognizer's probabilities
#: when several formats could fit them.
FORMAT_CHOICES = 2
#: What a read taken as it stands (a fallback format: vanity plates) pays against a
#: state serial, in log-probability: the log-odds of a standard plate, about 24 to 1 as
#: vanity plates are about 4% of US registrations. On openalpr-us 3.2 reads 192 photos,
#: 1.5 reads 190 (with look-alike choices only, both read 189).
FALLBACK_LOG_ODDS = 3.2
#: A best read scoring under this (a plate score: about 1.75 for a sure read of a
#: specific format) gets a second look: its surroundings, scaled up, are read again and
#: the better-scoring read of the same place is kept. The detector sees a whole photo
#: coarsely; closer up it finds the line's true ends (a sticker or frame left out, a
#: character no longer cut) and the recognizer gets a sharper line.
SECOND_LOOK_BELOW = 1.4
#: Line height, in pixels, the second look scales the best read's line to (never down,
#: at most SECOND_LOOK_MAX_ZOOM times up).
SECOND_LOOK_HEIGHT = 64
SECOND_LOOK_MAX_ZOOM = 3.0
#: Margin the second look keeps around the line, in line heights: above and below, and
#: on either side (a plate is about twice as wide as its characters are high).
SECOND_LOOK_MARGIN = (2, 4)
#: Plate-like regions looked at when a photo gave no sure read (``_look_at_regions``).
REGION_LOOKS = 3
#: Height (px) a plate-like region is scaled up to, at most 3 times: the detector
#: misses some plates whose characters are about 25 px high and finds them twice as big.
REGION_HEIGHT = 112


@dataclass(frozen=True)
class PlateCandidate:
    """One plate found in an image.

    ``box`` is x, y, w, h in the coordinates of the image given to
    :meth:`PlateRecognizer.recognize`; ``alternatives`` are other readings of the same
    place with their plate scores, best first; ``crop`` is the plate's pixels.
    """

    text: str
    confidence: float
    box: Box
    alternatives: tuple[tuple[str, float], ...] = ()
    crop: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.uint8), repr=False)
    score: float = 0.0
    format_name: str | None = None


def _confident(ranked: Sequence[Candidate]) -> bool:
    """True when the best of ``ranked`` scores :data:`CONFIDENT_SCORE` or more: no
    further detection pass is worth its time."""
    return bool(ranked) and ranked[0].score >= CONFIDENT_SCORE


def looks_like_crop(image: np.ndarray) -> bool:
    """True for a small picture with a plate's aspect ratio (text detection needs margin)."""
    h, w = image.shape[:2]
    return h <= _CROP_MAX_HEIGHT and _CROP_ASPECT[0] <= w / h <= _CROP_ASPECT[1]


class PlateRecognizer:
    """Reads plates of one region with an OCR engine.

    ``min_score`` drops candidates whose plate score is too low to be a plate;
    ``max_side`` scales large photos down first; ``digit_zero`` reads O as 0 (default:
    on for regions in ``DIGIT_ZERO_REGIONS``); ``second_pass_side`` is the detector size
    of a second pass run when the first finds nothing plate-like (None: no second
    pass); ``second_look`` re-reads the surroundings of a best read scoring under
    :data:`SECOND_LOOK_BELOW`, scaled up; ``tiled_pass`` looks for text in four
    overlapping tiles when the whole image still gave nothing confident (default: for
    engines whose reads are scored with their recognizer's probabilities; EasyOCR's
    reads score lower, so it would tile 57% of the US photos, doubling its median time
    for one photo more); ``region_look`` reads the photo's most plate-like stroke
    bands when it gave no sure read (same default as ``tiled_pass``, and only for
    engines that detect lines); ``default_province`` (Chinese plates) fills a province
    character the engine did not read, as booth systems let the operator set the local
    province; ``province_reader`` (Chinese plates, engines that give probabilities)
    settles the best read's province and city letter together with the engine's own
    recognizer, and with it reads the upper row of two-row plates (default: the shared
    :class:`ProvinceReader`; False: none).
    """

    def __init__(
        self,
        engine: OcrEngine,
        region: str = "us",
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        min_score: float = 0.3,
        max_plates: int = 3,
        digit_zero: bool | None = None,
        second_pass_side: int | None = SECOND_PASS_SIDE,
        second_look: bool = True,
        tiled_pass: bool | None = None,
        region_look: bool | None = None,
        default_province: str | None = None,
        province_reader: ProvinceReader | bool = True,
    ) -> None:
        self.engine = engine
        self.region = plates.profile(region).name
        self.max_side = max_side
        self.min_score = min_score
        self.max_plates = max_plates
        self.digit_zero = self.region in DIGIT_ZERO_REGIONS if digit_zero is None else digit_zero
        self.second_pass_side = second_pass_side
        self.second_look = second_look
        self.tiled_pass = (
            isinstance(engine, ProbabilityOcrEngine) if tiled_pass is None else tiled_pass
        )
        self.region_look = isinstance(engine, DetailedOcrEngine) and (
            isinstance(engine, ProbabilityOcrEngine) if region_look is None else region_look
        )
        if default_province is not None and default_province not in plates.CN_PROVINCES:
            raise ValueError(f"{default_province!r} is not a Chinese province character")
        reads_provinces = self.region == "cn" and isinstance(engine, ProbabilityOcrEngine)
        if province_reader is True:
            province_reader = shared_province_reader() if reads_provinces else False
        elif province_reader and not reads_provinces:
            raise ValueError("a province reader reads Chinese plates with a probability engine")
        self.province_reader = province_reader or None
        self._chinese = (
            ChineseSteps(
                engine,  # type: ignore[arg-type]
                self._rank,
                province_reader=self.province_reader,
                default_province=default_province,
            )
            if self.region == "cn"
            else None
        )
        # None for regions with fallback formats only: no read is longer than expected.
        self._longest_format = max(
            (fmt.length for fmt in plates.profile(region).formats if not fmt.fallback),
            default=None,
        )
        #: Detection passes the last :meth:`recognize` call ran (0 when a tight crop read
        #: as one line was already plate-like, else 1 or 2), for benchmarks.
        self.last_passes = 0
        #: Whether the last :meth:`recognize` call took a second look, for benchmarks.
        self.last_second_look = False
        #: Whether the last :meth:`recognize` call ran the tiled pass, for benchmarks.
        self.last_tiled = False
        #: Whether the last :meth:`recognize` call read a plate-like region, for benchmarks.
        self.last_region_look = False
        #: Whether the last :meth:`recognize` call read a line widened at an end and
        #: ranked that read (:meth:`_widen_ends`), for benchmarks.
        self.last_widened = False

    @property
    def last_head_settled(self) -> bool:
        """Whether the last :meth:`recognize` call changed its best read's province or
        city letter with the province reader, for benchmarks."""
        return self._chinese is not None and self._chinese.last_head_settled

    @property
    def last_loose_reread(self) -> bool:
        """Whether the last :meth:`recognize` call added the province reader's reading
        of a loose best read's line, for benchmarks."""
        return self._chinese is not None and self._chinese.last_loose_reread

    @property
    def last_upper_row(self) -> bool:
        """Whether the last :meth:`recognize` call read the upper row of a two-row
        plate, for benchmarks."""
        return self._chinese is not None and self._chinese.last_upper_row

    def recognize(self, image_bgr: np.ndarray, roi: Box | None = None) -> list[PlateCandidate]:
        """Plates in ``image_bgr`` (or in its ``roi`` x, y, w, h), best first."""
        image = _as_bgr(image_bgr)
        ox, oy = 0, 0
        if roi is not None:
            x, y, w, h = roi
            ox, oy = max(0, x), max(0, y)
            image = image[oy : y + h, ox : x + w]
        self.last_region_look = False
        self.last_widened = False
        if image.size == 0:
            return []
        work, scale, pad = self._prepare(image)
        whole_line: list[TextBox] = []
        if pad and isinstance(self.engine, DetailedOcrEngine):
            # A tight crop may be one text line already: read it as such first.
            raw, rec_score = self.engine.read_line(image)
            h, w = image.shape[:2]
            x1, y1 = pad + w * scale, pad + h * scale
            quad = ((pad, pad), (x1, pad), (x1, y1), (pad, y1))
            whole_line.append(TextBox.from_quad(raw, rec_score, quad))
        ranked = self._look_again(work, self._read(work, whole_line, tiles=not pad))
        if not pad:  # a tight crop is one plate already
            ranked = self._look_at_regions(work, ranked)
        if self._chinese is not None:
            ranked = self._chinese.read_heads(work, ranked)
            ranked = self._chinese.fill_default_province(ranked)
        plates_found = self._group(ranked)

        def to_source(cand: Candidate) -> Box:
            bx, by, bw, bh = cand.box
            return (
                ox + round((bx - pad) / scale),
                oy + round((by - pad) / scale),
                round(bw / scale),
                round(bh / scale),
            )

        results: list[PlateCandidate] = []
        for best, others in plates_found:
            box = _clip(to_source(best), image_bgr.shape)
            results.append(
                PlateCandidate(
                    text=best.text,
                    confidence=confidence(best),
                    box=box,
                    alternatives=tuple((o.text, round(o.score, 3)) for o in others),
                    crop=_crop(image_bgr, box),
                    score=round(best.score, 3),
                    format_name=best.format_name,
                )
            )
        return results

    def _read(self, work: np.ndarray, known: list[TextBox], *, tiles: bool) -> list[Candidate]:
        """Rank the candidates of ``known`` boxes plus those read in ``work``, with a finer
        second pass when the first finds nothing plate-like, and (with ``tiles``: not for
        a tight crop, which tiles would cut) a tiled pass when they read text but nothing
        confident."""
        self.last_passes = 0
        self.last_tiled = False
        ranked = self._rank(known)
        if _confident(ranked):
            return self._refine(work, ranked)
        boxes = known + self.engine.read(work)
        ranked = self._rank(boxes)
        self.last_passes = 1
        detailed = isinstance(self.engine, DetailedOcrEngine)
        if (
            detailed
            and self.second_pass_side
            and not _confident(ranked)
            and max(work.shape[:2]) > self.engine.det_side  # type: ignore[attr-defined]
        ):
            boxes = boxes + self.engine.read_at(  # type: ignore[attr-defined]
                work, self.second_pass_side, box_thresh=SECOND_PASS_BOX_THRESH
            )
            ranked = self._rank(boxes)
            self.last_passes = 2
        if (
            tiles
            and detailed
            and self.tiled_pass
            and boxes  # a frame with no text at all (an empty lane) is not worth tiles
            and not _confident(ranked)
        ):
            boxes = boxes + self._read_tiles(work)
            ranked = self._rank(boxes)
            self.last_tiled = True
        return self._refine(work, ranked)

    def _rank(self, boxes: Sequence[TextBox]) -> list[Candidate]:
        """The plate candidates of ``boxes`` in this recognizer's region, best first."""
        return score_candidates(boxes, self.region, digit_zero=self.digit_zero)

    def _read_tiles(self, work: np.ndarray) -> list[TextBox]:
        """The lines the detector finds in four overlapping tiles of ``work`` (corners,
        each :data:`TILE_FRACTION` of its width and height), seen at full resolution up
        to :data:`TILE_MAX_SIDE`, in ``work``'s coordinates; a line found in the same
        place in an earlier tile is not read again.

        In a whole photo the detector misses some plates that it finds at once in a part
        of the photo, even at the same scale: on openalpr-us it found one character of a
        clear Missouri plate (us-0028) at 736 or 1280 px; each tile holding it found the
        whole line. Lines the whole image gave are read again: found in a tile, a
        plate's line is often drawn tighter and reads better (us-0124's Florida plate:
        CU19, then CJUJ79)."""
        engine: DetailedOcrEngine = self.engine  # type: ignore[assignment]
        height, width = work.shape[:2]
        tile_h, tile_w = round(height * TILE_FRACTION), round(width * TILE_FRACTION)
        read: list[Box] = []
        found: list[TextBox] = []
        for ty in (0, height - tile_h):
            for tx in (0, width - tile_w):
                tile = work[ty : ty + tile_h, tx : tx + tile_w]
                skip = [(x - tx, y - ty, w, h) for x, y, w, h in read]
                side = min(TILE_MAX_SIDE, max(tile.shape[:2]))
                for line in engine.read_at(tile, side, skip=skip):
                    quad = [(px + tx, py + ty) for px, py in line.quad]
                    moved = TextBox.from_quad(line.text, line.score, quad, line.probabilities)
                    found.append(moved)
                    read.append((moved.x, moved.y, moved.w, moved.h))
        return found

    def _look_again(self, work: np.ndarray, ranked: list[Candidate]) -> list[Candidate]:
        """The ranking with a closer read of its best read's place put first, when the
        best scores under :data:`SECOND_LOOK_BELOW` and the closer read scores higher
        (the first read stays, as an alternative)."""
        self.last_second_look = False
        if not self.second_look or not ranked:
            return ranked
        best = ranked[0]
        if best.score >= SECOND_LOOK_BELOW or len(best.boxes) != 1:
            return ranked
        self.last_second_look = True
        x, y, w, h = best.box
        zoom = min(SECOND_LOOK_MAX_ZOOM, max(1.0, SECOND_LOOK_HEIGHT / h))
        above, beside = (round(m * h) for m in SECOND_LOOK_MARGIN)
        part = (max(0, x - beside), max(0, y - above), x + w + beside, y + h + above)
        for again in self._read_closer(work, part, zoom, near=best.box):
            if overlap(again.box, best.box) > 0.5:
                return [again, *ranked] if again.score > best.score else ranked
        return ranked

    def _look_at_regions(self, work: np.ndarray, ranked: list[Candidate]) -> list[Candidate]:
        """The ranking with the reads of plate-like regions that no read covers added,
        when the best read scores under :data:`SECOND_LOOK_BELOW` (or nothing was read).

        Each of the :data:`REGION_LOOKS` most stroke-dense bands of the photo
        (:func:`plate_like_regions`) with its surroundings (a third of its width either
        side, its height above and below) is scaled up until the band is
        :data:`REGION_HEIGHT` px high (at most 3 times), and the detector and recognizer
        read it; only lines centred in the band count, and none at the place of a read
        the photo already gave (that plate was read, and its own reads rank it)."""
        if not self.region_look or (ranked and ranked[0].score >= SECOND_LOOK_BELOW):
            return ranked
        found: list[Candidate] = []
        for region in plate_like_regions(work, REGION_LOOKS):
            x, y, w, h = region
            if any(_centre_inside(c.box, region) for c in ranked):
                continue
            self.last_region_look = True
            zoom = min(SECOND_LOOK_MAX_ZOOM, max(1.0, REGION_HEIGHT / h))
            part = (max(0, x - w // 3), max(0, y - h), x + w + w // 3, y + 2 * h)
            found.extend(
                read
                for read in self._read_closer(work, part, zoom)
                if _centre_inside(read.box, region)
                and not any(overlap(read.box, c.box) > 0.3 for c in ranked)
            )
        if not found:
            return ranked
        return sorted([*found, *ranked], key=lambda c: c.score, reverse=True)

    def _read_closer(
        self,
        work: np.ndarray,
        part: tuple[int, int, int, int],
        zoom: float,
        near: Box | None = None,
    ) -> list[Candidate]:
        """The one-line candidates read in ``part`` (x0, y0, x1, y1) of ``work`` scaled up
        by ``zoom``, best first, in ``work``'s coordinates; with ``near`` (an x, y, w, h
        box of ``work``), only the lines the detector finds over it.

        The detector sees the scaled-up part at the engine's own size (the recognizer
        reads the lines it finds at full scale); most parts are smaller already. 480 px
        saved the second look no time on openalpr-us and read fewer EasyOCR plates (31.5%
        against 34.7%)."""
        x0, y0, x1, y1 = part
        closer = cv2.resize(
            work[y0:y1, x0:x1], None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC
        )
        if isinstance(self.engine, DetailedOcrEngine):
            place = None
            if near is not None:
                x, y, w, h = near
                place = (
                    round((x - x0) * zoom),
                    round((y - y0) * zoom),
                    round(w * zoom),
                    round(h * zoom),
                )
            boxes = self.engine.read_at(closer, self.engine.det_side, near=place)
        else:
            boxes = self.engine.read(closer)
        return [
            _moved(cand, zoom, (x0, y0))
            for cand in self._refine(closer, self._rank(boxes))
            if len(cand.boxes) == 1
        ]

    def _refine(self, work: np.ndarray, ranked: list[Candidate]) -> list[Candidate]:
        """Second looks at the best reads' lines: doubtful edge characters of over-long
        reads, the format of reads several formats could be, missing Chinese
        provinces."""
        if not isinstance(self.engine, ProbabilityOcrEngine):
            return ranked
        lines = LineProbabilities(self.engine, work)
        ranked = self._trim_doubtful_edges(lines, ranked)
        ranked = self._widen_ends(work, ranked)
        ranked = self._choose_formats(lines, ranked)
        if self._chinese is not None:
            ranked = self._chinese.reread_provinces(lines, ranked)
        return ranked

    def _choose_formats(self, lines: LineProbabilities, ranked: list[Candidate]) -> list[Candidate]:
        """For each of the best few reads that more than one format of the region could
        be, take the format whose reading the recognizer finds likeliest, instead of the
        one needing the fewest swaps.

        A read that a fallback takes as it stands (a vanity plate, or a serial with a
        character misread, gained or lost) competes as read with any reading of its line
        in the specific formats within look-alike reach, or, when there are none, in
        those of about its length. Other reads keep their characters up to look-alike
        swaps: with no reading as read to weigh against, nothing else anchors them."""
        chosen = list(ranked)
        for i, cand in enumerate(ranked[:FORMAT_CHOICES]):
            options, look_alikes_only = format_options(cand.text, self.region)
            if len(options) < 2 or len(cand.boxes) != 1:
                continue
            probs, alphabet = lines.of(cand.boxes[0])
            best = likeliest_fitting(
                probs,
                alphabet,
                cand.text,
                options,
                digit_zero=self.digit_zero,
                look_alikes_only=look_alikes_only,
            )
            if best is not None and best[0] != cand.text:
                # The same line read again: its rank among the other lines stays.
                text, fmt = best
                chosen[i] = replace(
                    cand, text=text, format_name=fmt.name, fallback_format=fmt.fallback
                )
        return chosen

    def _widen_ends(self, work: np.ndarray, ranked: list[Candidate]) -> list[Candidate]:
        """The ranking with the best read's line read with both ends pushed out put
        first, when that sees a character the detector's box cut through (see
        :mod:`.widen`); the first read stays, as an alternative."""
        if not ranked or len(ranked[0].boxes) != 1:
            return ranked
        found = wider_reads(self.engine, work, ranked[0], self._rank)  # type: ignore[arg-type]
        if found:
            self.last_widened = True
        return [*found, *ranked]

    def _trim_doubtful_edges(
        self, lines: LineProbabilities, ranked: list[Candidate]
    ) -> list[Candidate]:
        """Add the read without its doubtful first or last character for each of the
        best few reads longer than any specific format of the region."""
        found: list[Candidate] = []
        for cand in ranked[:EDGE_REREADS]:
            longest = self._longest_format
            if longest is None or len(cand.text) <= longest or len(cand.boxes) != 1:
                continue
            box = cand.boxes[0]
            probs, alphabet = lines.of(box)
            trimmed = without_doubtful_edge(greedy_reading(probs, alphabet), cand.raw)
            if trimmed is not None:
                found.extend(self._rank([replace(box, text=trimmed)]))
        if not found:
            return ranked
        # Trimmed reads first: on an equal score the recognizer's doubt decides.
        return sorted([*found, *ranked], key=lambda c: c.score, reverse=True)

    def _prepare(self, image: np.ndarray) -> tuple[np.ndarray, float, int]:
        """Scale a large photo down, or give a tight crop a grey margin; returns the
        working image, the scale applied and the margin added (in working pixels)."""
        h, w = image.shape[:2]
        if looks_like_crop(image):
            scale = max(1.0, _CROP_MIN_HEIGHT / h)
            if scale > 1.0:
                image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            pad = max(4, image.shape[0] // 2)
            padded = cv2.copyMakeBorder(
                image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128)
            )
            return padded, scale, pad
        if max(h, w) > self.max_side:
            scale = self.max_side / max(h, w)
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            return image, scale, 0
        return image, 1.0, 0

    def _group(self, ranked: Sequence[Candidate]) -> list[tuple[Candidate, list[Candidate]]]:
        """Cluster candidates that overlap; the best of each cluster is a plate."""
        clusters: list[tuple[Candidate, list[Candidate]]] = []
        for cand in ranked:
            home = next((c for c in clusters if overlap(c[0].box, cand.box) > 0.5), None)
            if home is not None:
                home[1].append(cand)
            elif cand.score >= self.min_score and len(clusters) < self.max_plates:
                clusters.append((cand, []))
        return clusters


def without_doubtful_edge(reading: Sequence[tuple[str, float]], raw: str) -> str | None:
    """``raw`` without its first or last character (the less probable of the two) when
    that one is under :data:`EDGE_DOUBT` in ``reading``, the recognizer's per-character
    reading of the same line; None when both edges are sure, or when ``reading`` is not
    the text ``raw`` was read as."""
    chars = [(plates.normalize(ch), p) for ch, p in reading]
    chars = [(ch, p) for ch, p in chars if ch]
    if len(chars) < 2 or "".join(ch for ch, _ in chars) != plates.normalize(raw):
        return None
    first, last = chars[0][1], chars[-1][1]
    if min(first, last) >= EDGE_DOUBT:
        return None
    kept = chars[1:] if first <= last else chars[:-1]
    return "".join(ch for ch, _ in kept)


def formats_within_reach(text: str, region: str) -> list[plates.PlateFormat]:
    """The formats of ``region`` a read ``text`` could be: the specific ones it fits after
    at most ``MAX_LOOK_ALIKE_SUBSTITUTIONS`` look-alike swaps, and the fallback that
    takes it as read (a fallback accepts every letter and digit, so it never swaps)."""
    return [
        fmt
        for fmt in plates.profile(region).formats
        if (fitted := fmt.corrected(text)) is not None
        and fitted[1] <= plates.MAX_LOOK_ALIKE_SUBSTITUTIONS
    ]


def format_options(text: str, region: str) -> tuple[list[plates.PlateFormat], bool]:
    """The formats of ``region`` a read ``text`` could be (see
    :meth:`PlateRecognizer._choose_formats`): those within look-alike reach and, when
    only a fallback is, also the serial formats of about its length; and whether only
    look-alike variants of the read count (unless a fallback takes it as it stands)."""
    options = formats_within_reach(text, region)
    if options and all(fmt.fallback for fmt in options):
        options += serial_formats_near(len(text), region)
    return options, not any(fmt.fallback for fmt in options)


def serial_formats_near(length: int, region: str) -> list[plates.PlateFormat]:
    """The specific formats of ``region`` one character shorter than ``length``, as long,
    or one longer."""
    return [
        fmt
        for fmt in plates.profile(region).formats
        if not fmt.fallback and abs(fmt.length - length) <= 1
    ]


def likeliest_fitting(
    probs: np.ndarray,
    alphabet: Sequence[str],
    text: str,
    formats: Sequence[plates.PlateFormat],
    *,
    digit_zero: bool = False,
    look_alikes_only: bool = True,
) -> tuple[str, plates.PlateFormat] | None:
    """The reading of a line read as ``text``, and its format, that the recognizer's
    probabilities make likeliest among ``formats``, a fallback format paying
    :data:`FALLBACK_LOG_ODDS`. With ``look_alikes_only``, only readings that differ from
    ``text`` by look-alike swaps count. None when no format gives a reading that counts."""
    key = plates.equivalence_key(text)
    best: tuple[float, str, plates.PlateFormat] | None = None
    readings = decode_patterns(probs, alphabet, [fmt.allowed for fmt in formats])
    for fmt, reading in zip(formats, readings, strict=True):
        if reading is None:
            continue
        found = reading.text.replace("O", "0") if digit_zero else reading.text
        log_prob = reading.log_prob - (FALLBACK_LOG_ODDS if fmt.fallback else 0.0)
        counts = not look_alikes_only or plates.equivalence_key(found) == key
        if counts and (best is None or log_prob > best[0]):
            best = (log_prob, found, fmt)
    return None if best is None else (best[1], best[2])


def _moved(cand: Candidate, zoom: float, origin: tuple[int, int]) -> Candidate:
    """``cand``, read in a part of an image scaled by ``zoom`` whose top-left corner
    sits at ``origin``, in the whole image's coordinates."""
    ox, oy = origin
    boxes = tuple(
        TextBox.from_quad(b.text, b.score, [(px / zoom + ox, py / zoom + oy) for px, py in b.quad])
        for b in cand.boxes
    )
    return replace(cand, boxes=boxes)


def _centre_inside(box: Box, region: Box) -> bool:
    """Whether the centre of the x, y, w, h ``box`` lies in ``region``."""
    x, y, w, h = region
    return x <= box[0] + box[2] / 2 <= x + w and y <= box[1] + box[3] / 2 <= y + h


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _clip(box: Box, shape: tuple[int, ...]) -> Box:
    x, y, w, h = box
    height, width = shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def _crop(image: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return image[y : y + h, x : x + w].copy()
