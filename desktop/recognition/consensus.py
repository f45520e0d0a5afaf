"""Multi-frame consensus per lane: many per-frame OCR candidates become one read per vehicle.

Like Frigate's habit of merging plate reads across frames before anyone sees them, the
booth never reports a single frame's OCR. :class:`PlateConsensus` groups a lane's
per-frame candidates into *vehicles* (reads that are the same plate, or OCR-equivalent or
near to it by :func:`desktop.plates.match`, or read at the place of the vehicle's plate in
the very next frame), and emits exactly one :class:`~desktop.domain.PlateRead` per
vehicle:

* as soon as enough frames agree: the same text in at least ``agree_frames`` of the
  vehicle's last ``window_frames`` frames with reads, summed confidence at least
  ``agree_confidence``, and clearly ahead of any rival text; or
* when the vehicle leaves (no matching read for ``gap_s`` seconds, or the worker says the
  lane is empty), with the best-supported text if its support is sufficient.

Once emitted, later reads of the same vehicle are absorbed silently, except a plate of
another car far from the vehicle's own (a car queuing behind it), which is collected
aside as the next vehicle. The vehicle waits at the barrier while the attendant takes
payment: :meth:`PlateConsensus.wants_frame` then asks for one frame every
``settled_read_interval_s``, enough to notice when it leaves without taking its dealer
frame or a different read of its plate for a new vehicle. A per-lane cooldown keeps a
plate that re-appears within ``cooldown_s`` of its last sighting (a car reversing,
re-reads after a gap) from being emitted again. Time comes only from the frame
timestamps the caller passes in, so the behaviour is deterministic and testable without
a clock.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from desktop.domain import PlateRead
from desktop.plates import correct, match, normalize, validate
from desktop.recognition.engine import Box

log = logging.getLogger(__name__)

# Tracks of other plates kept aside while a vehicle is being read.
MAX_PENDING = 3
#: A read whose box centre lies within this many plate widths of a box the vehicle was
#: read at in the frame just before (and whose height is within SAME_PLACE_HEIGHT_RATIO
#: of it) is the same plate, however differently it is read: a plate moves little from
#: one processed frame to the next, and a vehicle never gives way to the next one
#: between two frames.
SAME_PLACE_WIDTHS = 0.75
SAME_PLACE_HEIGHT_RATIO = 1.5
#: Once a vehicle has its read, texts read within this many plate widths either side of
#: its plate, and plate heights above and below, are its own (a dealer frame, a state
#: name, a sticker, the plate misread); a plate read farther off is another car's.
OWN_TEXT_WIDTHS = 1.0
OWN_TEXT_HEIGHTS = 2.0


@dataclass(frozen=True)
class FrameCandidate:
    """One plate text read in one frame, with what the recognizer can attach to it.

    ``crop`` and ``snapshot`` are opaque references (e.g. numpy images) handed back with
    the emitted read; ``crop_path`` / ``snapshot_path`` go into the :class:`PlateRead`.
    """

    text: str
    confidence: float
    crop: Any = None
    snapshot: Any = None
    crop_path: Path | None = None
    snapshot_path: Path | None = None
    box: Box | None = None


@dataclass(frozen=True)
class ConsensusConfig:
    """Tuning of :class:`PlateConsensus`; times in seconds of frame timestamps."""

    window_frames: int = 10
    """How many of the vehicle's latest frames with reads the agreement looks at."""
    agree_frames: int = 3
    """Frames of the window that must read the same text."""
    agree_confidence: float = 2.0
    """Summed confidence of that text within the window."""
    dominance: float = 1.5
    """The agreed text's summed confidence must be this many times any rival's."""
    gap_s: float = 2.0
    """No matching read for this long means the vehicle has left."""
    leave_frames: int = 2
    """Frames a text needs to be emitted when the vehicle leaves before agreement."""
    leave_confidence: float = 1.0
    """Summed confidence a text needs to be emitted when the vehicle leaves."""
    settled_read_interval_s: float = 0.75
    """Once the vehicle has its read, how often a frame is still read: under half of
    ``gap_s``, so one read that misses the plate never ends a waiting vehicle."""
    cooldown_s: float = 60.0
    """A plate seen again within this long of its last sighting is not emitted again."""
    min_confidence: float = 0.0
    """Candidates below this confidence are ignored."""


class Decision(StrEnum):
    """Why a vehicle's read was emitted."""

    AGREEMENT = "agreement"
    LEFT = "left"


@dataclass(frozen=True)
class TextSupport:
    """How well one text was supported over a vehicle's frames."""

    text: str
    frames: int
    confidence_sum: float

    @property
    def mean_confidence(self) -> float:
        """Average confidence of the frames that read this text."""
        return self.confidence_sum / self.frames if self.frames else 0.0


@dataclass(frozen=True)
class VehicleRead:
    """The one read emitted for a vehicle: the :class:`PlateRead` plus its evidence.

    ``crop`` / ``snapshot`` are those of the best-confidence candidate of the emitted text;
    ``box`` is the plate's box in the latest frame that read it (where the screen draws it);
    ``support`` lists every text seen for the vehicle, best first. ``read.alternatives``
    holds only the other texts that are readings of the same plate (OCR-equivalent or near
    by :func:`desktop.plates.match`), best supported first; a sticker read alongside the
    plate is kept in ``support`` but is not an alternative.
    """

    read: PlateRead
    decision: Decision
    support: tuple[TextSupport, ...]
    frames: int
    first_seen: float
    decided_at: float
    crop: Any = None
    snapshot: Any = None
    box: Box | None = None


@dataclass
class _Support:
    frames: int = 0
    confidence_sum: float = 0.0
    best: FrameCandidate | None = None
    best_at: float = 0.0
    best_seen_at: datetime | None = None
    latest_box: Box | None = None


@dataclass
class _Track:
    """One vehicle's reads so far."""

    first_seen: float
    last_seen: float
    last_frame_no: int
    window: deque[dict[str, float]]
    totals: dict[str, _Support] = field(default_factory=dict)
    frames: int = 0
    emitted: bool = False
    emitted_text: str | None = None
    plate_box: Box | None = None  # where the emitted plate was read last
    last_boxes: list[Box] = field(default_factory=list)

    def matches(self, text: str) -> bool:
        return any(match(text, known) is not None for known in self.totals)

    def takes(self, reads: dict[str, FrameCandidate], frame_no: int) -> bool:
        """True when this frame's ``reads`` belong to this vehicle: one reads its plate,
        or one was read where its plate was in the frame just before."""
        if any(self.matches(text) for text in reads):
            return True
        if frame_no != self.last_frame_no + 1:
            return False
        return any(
            cand.box is not None and _same_place(cand.box, box)
            for cand in reads.values()
            for box in self.last_boxes
        )

    def add(
        self, reads: dict[str, FrameCandidate], at: float, seen_at: datetime, frame_no: int
    ) -> None:
        self.window.append({text: cand.confidence for text, cand in reads.items()})
        self.frames += 1
        self.last_seen = at
        self.last_frame_no = frame_no
        self.last_boxes = [cand.box for cand in reads.values() if cand.box is not None]
        for text, cand in reads.items():
            support = self.totals.setdefault(text, _Support())
            support.frames += 1
            support.confidence_sum += cand.confidence
            support.latest_box = cand.box
            if (
                cand.box is not None
                and self.emitted_text is not None
                and match(text, self.emitted_text) is not None
            ):
                self.plate_box = cand.box
            if support.best is None or cand.confidence > support.best.confidence:
                support.best, support.best_at, support.best_seen_at = cand, at, seen_at

    def window_support(self) -> list[TextSupport]:
        frames: dict[str, int] = {}
        sums: dict[str, float] = {}
        for reads in self.window:
            for text, conf in reads.items():
                frames[text] = frames.get(text, 0) + 1
                sums[text] = sums.get(text, 0.0) + conf
        return _ranked(TextSupport(t, frames[t], sums[t]) for t in frames)

    def total_support(self) -> list[TextSupport]:
        return _ranked(TextSupport(t, s.frames, s.confidence_sum) for t, s in self.totals.items())


def _ranked(items: Iterable[TextSupport]) -> list[TextSupport]:
    """Texts best first: those reading the best-supported plate, then the others.

    A plate's support is the confidence of every text that reads it (OCR-equivalent or
    near, by :func:`desktop.plates.match`), so a plate misread a different way in each
    frame (CMM3083, CNM3083, CMH3083) still outweighs a state name read alike in every
    frame beside it (TEXAS). Among the texts of that plate, and among the others, the
    order is their own confidence, then frames, then text (stable and deterministic)."""
    supports = list(items)
    if not supports:
        return []

    def own(s: TextSupport) -> tuple[float, int, str]:
        return (-s.confidence_sum, -s.frames, s.text)

    def plate_support(s: TextSupport) -> float:
        return sum(o.confidence_sum for o in supports if match(o.text, s.text) is not None)

    leader = min(supports, key=lambda s: (-plate_support(s), *own(s)))
    return sorted(supports, key=lambda s: (match(s.text, leader.text) is None, *own(s)))


def _same_place(box: Box, other: Box) -> bool:
    """True when x, y, w, h ``box`` is where ``other`` was, as one plate moves between two
    processed frames (see :data:`SAME_PLACE_WIDTHS`). Not :func:`.engine.same_place`,
    which asks two detections of one line in one image to cover the same area: a plate
    driving up may barely overlap its box of the frame before."""
    x, y, w, h = box
    ox, oy, ow, oh = other
    if min(h, oh) <= 0 or max(h, oh) > SAME_PLACE_HEIGHT_RATIO * min(h, oh):
        return False
    dx = (x + w / 2) - (ox + ow / 2)
    dy = (y + h / 2) - (oy + oh / 2)
    return (dx * dx + dy * dy) ** 0.5 <= SAME_PLACE_WIDTHS * max(w, ow)


def _near(box: Box, plate: Box) -> bool:
    """True when the centre of x, y, w, h ``box`` lies within :data:`OWN_TEXT_WIDTHS`
    plate widths either side of the ``plate`` box and :data:`OWN_TEXT_HEIGHTS` plate
    heights above or below it."""
    x, y, w, h = box
    px, py, pw, ph = plate
    cx, cy = x + w / 2, y + h / 2
    return (
        px - OWN_TEXT_WIDTHS * pw <= cx <= px + (1 + OWN_TEXT_WIDTHS) * pw
        and py - OWN_TEXT_HEIGHTS * ph <= cy <= py + (1 + OWN_TEXT_HEIGHTS) * ph
    )


def _default_seen_at(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class PlateConsensus:
    """Turn one lane's per-frame plate candidates into one :class:`PlateRead` per vehicle.

    Call :meth:`feed` for every frame the recognizer processed (an empty candidate list
    for a frame with no plate), :meth:`empty_frame` for a frame the motion gate finds
    empty, :meth:`tick` for a frame skipped because :meth:`wants_frame` said so, and
    :meth:`lane_empty` when the worker knows the lane is empty (:meth:`tick` also lets
    time pass when no frame comes at all). Each returns the reads emitted by that call
    (usually none, at most one per vehicle). With ``region`` set, a candidate that fits
    none of the region's formats as it stands is fitted by
    :func:`desktop.plates.correct`, and dropped when it fits none then either. One that
    fits is kept as it stands: the recognizer has already chosen among the formats a
    read could be, by its probabilities (a vanity CK0AIP over Missouri's CK0A1P, say),
    which the fewest look-alike swaps would undo.
    Not thread-safe: one instance per lane, owned by the lane's recognition worker.
    """

    def __init__(
        self,
        lane: str,
        *,
        region: str | None = None,
        config: ConsensusConfig | None = None,
        id_factory: Callable[[], uuid.UUID] = uuid.uuid4,
        wall_time: Callable[[float], datetime] = _default_seen_at,
    ) -> None:
        self.lane = lane
        self.region = region
        self.config = config or ConsensusConfig()
        self._new_id = id_factory
        self._wall_time = wall_time
        self._track: _Track | None = None
        self._pending: list[_Track] = []  # reads of other plates, oldest first
        self._frame_no = 0
        self._last_fed_at = -math.inf
        self._recent: dict[str, float] = {}  # emitted plate -> last time it was seen

    # -- public API -------------------------------------------------------------------

    @property
    def vehicle_present(self) -> bool:
        """True while a vehicle's reads are being collected."""
        return self._track is not None

    @property
    def settled(self) -> bool:
        """True when the current vehicle already has its read (the worker may read less often)."""
        return self._track is not None and self._track.emitted

    def wants_frame(self, at: float) -> bool:
        """True when the frame taken at ``at`` should be read and fed: every frame while a
        vehicle is being read, then one per ``settled_read_interval_s`` once it has its
        read (pass the others to :meth:`tick`).

        Reading nothing once a vehicle has its read would end it after ``gap_s`` while
        it still waits at the barrier; read again from scratch, its dealer frame or a
        different misreading of its plate would then be reported as a second vehicle.
        """
        return not self.settled or at - self._last_fed_at >= self.config.settled_read_interval_s

    def feed(
        self,
        at: float,
        candidates: Sequence[FrameCandidate],
        *,
        seen_at: datetime | None = None,
    ) -> list[VehicleRead]:
        """Add one processed frame taken at ``at`` (seconds, e.g. ``Frame.captured_at``).

        ``seen_at`` is the frame's wall-clock time for the emitted read (``wall_time(at)``
        when omitted). Returns the reads emitted because of this frame.
        """
        self._frame_no += 1
        self._last_fed_at = at
        wall = seen_at or self._wall_time(at)
        emitted = self.tick(at)
        reads = self._clean(candidates)
        if not reads:
            return emitted
        track = self._track
        if track is None:
            self._track = self._new_track(reads, at, wall)
            emitted.extend(self._check_agreement(at))
            return emitted
        if track.takes(reads, self._frame_no):
            # One lane, one vehicle: every text of a frame that reads this vehicle's plate
            # belongs to it (a sticker or dealer frame then only competes on support),
            # except, once it has its read, the plate of a car queuing behind it.
            queued = self._queued_plates(track, reads)
            own = {text: cand for text, cand in reads.items() if text not in queued}
            if own:
                track.add(own, at, wall, self._frame_no)
                emitted.extend(self._check_agreement(at))
            if not queued:
                return emitted
            reads = queued
        # Reads of some other plate: the next vehicle, or noise. Collect them aside and
        # switch only once they agree among themselves while this vehicle has gone quiet.
        self._add_pending(reads, at, wall)
        quiet = self._frame_no - track.last_frame_no >= self.config.agree_frames
        agreed = [p for p in self._pending if self._agreed(p) is not None]
        if quiet and agreed:
            emitted.extend(self._close(at, successor=agreed[0]))
            emitted.extend(self._check_agreement(at))
        return emitted

    def tick(self, at: float) -> list[VehicleRead]:
        """Advance time to ``at`` without a frame; emits for a vehicle that has left."""
        if self._track is not None and at - self._track.last_seen > self.config.gap_s:
            return self._close(at)
        self._pending = [p for p in self._pending if at - p.last_seen <= self.config.gap_s]
        return []

    def empty_frame(self, at: float) -> list[VehicleRead]:
        """A frame taken at ``at`` shows no vehicle (the motion gate's word): no OCR, and
        a car read next at the spot where the last plate was read is another car."""
        self._frame_no += 1
        return self.tick(at)

    def lane_empty(self, at: float) -> list[VehicleRead]:
        """The lane is known to be empty at ``at``: the current vehicle has left."""
        self._pending = []
        return self._close(at) if self._track is not None else []

    # -- internals --------------------------------------------------------------------

    def _new_track(self, reads: dict[str, FrameCandidate], at: float, wall: datetime) -> _Track:
        track = _Track(at, at, self._frame_no, deque(maxlen=self.config.window_frames))
        track.add(reads, at, wall, self._frame_no)
        return track

    def _add_pending(self, reads: dict[str, FrameCandidate], at: float, wall: datetime) -> None:
        self._pending = [p for p in self._pending if at - p.last_seen <= self.config.gap_s]
        for pending in self._pending:
            if pending.takes(reads, self._frame_no):
                pending.add(reads, at, wall, self._frame_no)
                return
        if len(self._pending) >= MAX_PENDING:
            weakest = min(
                self._pending, key=lambda p: (p.total_support()[0].confidence_sum, p.last_seen)
            )
            self._pending.remove(weakest)
        self._pending.append(self._new_track(reads, at, wall))

    def _queued_plates(
        self, track: _Track, reads: dict[str, FrameCandidate]
    ) -> dict[str, FrameCandidate]:
        """The ``reads`` of a vehicle that has its read which are another car's plate:
        texts fitting one of the region's plate layouts (not a fallback), no reading of
        its own plate, and either far from where that was read last
        (:data:`OWN_TEXT_WIDTHS`, :data:`OWN_TEXT_HEIGHTS`) or a reading of a plate
        already collected aside, wherever it is (the car behind drives up past the place
        of the first one's plate).

        Without this, a car queuing behind the one at the barrier, its plate read in the
        same frames, was taken for a sticker on the first car, then kept that vehicle
        open after it left: the second car was never reported."""
        plate, plate_box = track.emitted_text, track.plate_box
        if plate is None:
            return {}

        def queued(text: str, box: Box | None) -> bool:
            if not self._plate_layout(text):
                return False  # a dealer frame, a fleet number: never another car
            if any(p.matches(text) for p in self._pending):
                return True
            return box is not None and plate_box is not None and not _near(box, plate_box)

        return {
            text: cand
            for text, cand in reads.items()
            if match(text, plate) is None and queued(text, cand.box)
        }

    def _plate_layout(self, text: str) -> bool:
        """Whether ``text`` fits one of the region's plate layouts, not only a fallback
        (any text counts with no region)."""
        if self.region is None:
            return True
        fmt = validate(text, self.region)
        return fmt is not None and not fmt.fallback

    def _clean(self, candidates: Sequence[FrameCandidate]) -> dict[str, FrameCandidate]:
        """Normalized (and region-corrected) texts of one frame, best candidate per text."""
        reads: dict[str, FrameCandidate] = {}
        for cand in candidates:
            if cand.confidence < self.config.min_confidence:
                continue
            text = normalize(cand.text)
            if self.region is not None and validate(text, self.region) is None:
                fitted = correct(text, self.region)
                if fitted is None:
                    continue
                text = fitted.text
            if not text:
                continue
            if text not in reads or cand.confidence > reads[text].confidence:
                reads[text] = cand
        return reads

    def _agreed(self, track: _Track | None) -> TextSupport | None:
        if track is None:
            return None
        cfg = self.config
        ranked = track.window_support()
        if not ranked:
            return None
        top = ranked[0]
        rival = ranked[1].confidence_sum if len(ranked) > 1 else 0.0
        if (
            top.frames >= cfg.agree_frames
            and top.confidence_sum >= cfg.agree_confidence
            and top.confidence_sum >= cfg.dominance * rival
        ):
            return top
        return None

    def _check_agreement(self, at: float) -> list[VehicleRead]:
        track = self._track
        if track is None or track.emitted:
            return []
        top = self._agreed(track)
        if top is None:
            return []
        return self._emit(track, top.text, Decision.AGREEMENT, at)

    def _close(self, at: float, successor: _Track | None = None) -> list[VehicleRead]:
        """The current vehicle has left: emit its best text if needed, forget it.

        The next vehicle is ``successor`` or else the best-supported fresh pending track.
        """
        track, self._track = self._track, None
        out: list[VehicleRead] = []
        if track is not None:
            if not track.emitted:
                best = track.total_support()[0]
                if (
                    best.frames >= self.config.leave_frames
                    and best.confidence_sum >= self.config.leave_confidence
                ):
                    out = self._emit(track, best.text, Decision.LEFT, at)
                else:
                    log.debug(
                        "lane %s: vehicle left with too little support (%s, %d frames)",
                        self.lane,
                        best.text,
                        best.frames,
                    )
            if track.emitted_text is not None:
                self._recent[track.emitted_text] = max(
                    self._recent.get(track.emitted_text, track.last_seen), track.last_seen
                )
        fresh = [p for p in self._pending if at - p.last_seen <= self.config.gap_s]
        if successor is None and fresh:
            successor = max(fresh, key=lambda p: (p.total_support()[0].confidence_sum, p.last_seen))
        self._track = successor
        self._pending = [p for p in fresh if p is not successor]
        return out

    def _in_cooldown(self, text: str, at: float) -> str | None:
        cooldown = self.config.cooldown_s
        for plate, last_seen in list(self._recent.items()):
            if at - last_seen > cooldown:
                del self._recent[plate]
            elif match(text, plate) is not None:
                return plate
        return None

    def _emit(self, track: _Track, text: str, decision: Decision, at: float) -> list[VehicleRead]:
        track.emitted = True
        recent = self._in_cooldown(text, at)
        if recent is not None:
            track.emitted_text = recent
            log.info("lane %s: %s seen again within the cooldown; not reported", self.lane, text)
            return []
        track.emitted_text = text
        self._recent[text] = track.last_seen
        ranked = track.total_support()
        chosen = track.totals[text]
        track.plate_box = chosen.latest_box
        total = sum(s.confidence_sum for s in ranked)
        mean = chosen.confidence_sum / chosen.frames
        confidence = max(0.0, min(1.0, mean * chosen.confidence_sum / total)) if total else 0.0
        best = chosen.best
        assert best is not None
        read = PlateRead(
            plate=text,
            lane=self.lane,
            confidence=confidence,
            source="camera",
            seen_at=chosen.best_seen_at or self._wall_time(chosen.best_at),
            read_id=self._new_id(),
            alternatives=tuple(
                s.text for s in ranked if s.text != text and match(s.text, text) is not None
            ),
            snapshot_path=best.snapshot_path,
            crop_path=best.crop_path,
        )
        log.info(
            "lane %s: read %s (%s, confidence %.2f, %d frames)",
            self.lane,
            text,
            decision.value,
            confidence,
            track.frames,
        )
        return [
            VehicleRead(
                read=read,
                decision=decision,
                support=tuple(ranked),
                frames=track.frames,
                first_seen=track.first_seen,
                decided_at=at,
                crop=best.crop,
                snapshot=best.snapshot,
                box=chosen.latest_box,
            )
        ]
