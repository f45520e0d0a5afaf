"""Multi-frame consensus: one read per vehicle from noisy per-frame OCR, with a cooldown."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path

import cv2
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.plates import match
from desktop.recognition.consensus import (
    ConsensusConfig,
    Decision,
    FrameCandidate,
    PlateConsensus,
    VehicleRead,
)
from desktop.recognition.motion import MotionGate
from desktop.synthetic import make_lane_video

FPS = 10.0
STEP = 1.0 / FPS


def make(lane: str = "lane-1", **config: float) -> PlateConsensus:
    counter = itertools.count(1)
    return PlateConsensus(
        lane,
        config=ConsensusConfig(**config),  # type: ignore[arg-type]
        id_factory=lambda: uuid.UUID(int=next(counter)),
    )


def play(
    consensus: PlateConsensus, frames: list[list[FrameCandidate]], start: float = 0.0
) -> tuple[list[VehicleRead], float]:
    """Feed one frame per STEP seconds; return every read emitted and the next timestamp."""
    reads: list[VehicleRead] = []
    at = start
    for candidates in frames:
        reads.extend(consensus.feed(at, candidates))
        at += STEP
    return reads, at


def c(text: str, confidence: float = 0.9, **extra: object) -> FrameCandidate:
    return FrameCandidate(text, confidence, **extra)  # type: ignore[arg-type]


def test_agreeing_frames_give_one_read_as_soon_as_they_agree() -> None:
    consensus = make()
    reads, at = play(consensus, [[c("ABC1234")]] * 3)
    assert [r.read.plate for r in reads] == ["ABC1234"]
    read = reads[0]
    assert read.decision is Decision.AGREEMENT
    assert read.read.lane == "lane-1"
    assert read.read.source == "camera"
    assert read.read.confidence > 0.8
    assert read.frames == 3
    more, at = play(consensus, [[c("ABC1234")]] * 20, start=at)
    assert more == []
    assert consensus.settled
    assert consensus.lane_empty(at) == []
    assert not consensus.vehicle_present


def test_noisy_frames_with_look_alike_misreads_the_majority_wins_with_alternatives() -> None:
    consensus = make()
    frames = [
        [c("A8C1234", 0.6)],
        [c("abc-1234", 0.92)],
        [c("ABC1Z34", 0.5), c("EXIT", 0.3)],
        [],
        [c("ABC1234", 0.88)],
        [c("A8C1234", 0.55)],
        [c("ABC1234", 0.9)],
    ]
    reads, _ = play(consensus, frames)
    assert len(reads) == 1
    read = reads[0].read
    assert read.plate == "ABC1234"
    # Alternatives are the other readings of this plate, best supported first; the
    # "EXIT" sign read in one frame is evidence, not an alternative.
    assert read.alternatives == ("A8C1234", "ABC1Z34")
    support = {s.text: s.frames for s in reads[0].support}
    assert support == {"ABC1234": 3, "A8C1234": 2, "ABC1Z34": 1, "EXIT": 1}
    assert 0 < read.confidence < 0.9


def test_the_best_crop_and_snapshot_travel_with_the_read_and_the_box_is_the_latest() -> None:
    """Evidence is the clearest frame; the box is where the plate is now (for the screen)."""
    consensus = make()
    frames = [
        [c("ABC1234", 0.7, crop="crop-a", snapshot="snap-a", box=(0, 0, 3, 4))],
        [c("ABC1234", 0.95, crop="crop-b", snapshot="snap-b", box=(1, 2, 3, 4))],
        [c("ABC1234", 0.8, crop="crop-c", snapshot="snap-c", box=(5, 6, 3, 4))],
    ]
    seen = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    reads = []
    for index, candidates in enumerate(frames):
        reads += consensus.feed(index * STEP, candidates, seen_at=seen.replace(second=index))
    assert len(reads) == 1
    assert (reads[0].crop, reads[0].snapshot, reads[0].box) == ("crop-b", "snap-b", (5, 6, 3, 4))
    assert reads[0].read.seen_at == seen.replace(second=1)
    assert reads[0].read.read_id == uuid.UUID(int=1)


def test_a_plate_misread_differently_in_each_frame_outweighs_a_caption_read_alike() -> None:
    # The state name beside the plate is read the same way in every frame, the plate
    # (CWM3083) a different way in most: the plate's readings together weigh more.
    plate_reads = ["CMM3083", "CNM3083", "CMM3083", "CNM3083", "CMH3083", "CKM3083", "CMM3083"]
    consensus = make()
    reads, at = play(consensus, [[c(text, 0.95), c("TEXAS", 0.57)] for text in plate_reads])
    reads += consensus.lane_empty(at)

    assert [r.read.plate for r in reads] == ["CMM3083"]
    assert set(reads[0].read.alternatives) >= {"CNM3083", "CKM3083"}
    assert "TEXAS" not in reads[0].read.alternatives


def test_of_the_plates_readings_the_best_supported_one_is_given() -> None:
    # No reading of the plate (002HHM) comes up three times: the vehicle still gets
    # one read when it leaves, the best-supported of them, not none.
    plate_reads = ["002CHH", "002CHH", "0020HHH", "002HHN", "002HHM", "002HHH", "0020HHH"]
    consensus = make()
    reads, at = play(consensus, [[c(text)] for text in plate_reads])
    reads += consensus.lane_empty(at)

    assert [r.read.plate for r in reads] == ["002CHH"]


def test_vehicle_leaving_before_agreement_gives_its_best_supported_text() -> None:
    consensus = make()
    reads, at = play(consensus, [[c("ABC1234", 0.7)], [c("A8C1234", 0.4)], [c("ABC1234", 0.6)]])
    assert reads == []
    # No read for longer than the gap: the vehicle has gone.
    reads = consensus.feed(at + 2.5, [])
    assert [r.read.plate for r in reads] == ["ABC1234"]
    assert reads[0].decision is Decision.LEFT
    assert reads[0].read.alternatives == ("A8C1234",)


def test_empty_lane_signal_ends_the_vehicle() -> None:
    consensus = make()
    reads, at = play(consensus, [[c("7XYZ042", 0.8)], [c("7XYZ042", 0.7)]])
    assert reads == []
    reads = consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["7XYZ042"]


def test_vehicle_leaving_with_too_little_support_gives_no_read() -> None:
    consensus = make()
    reads, at = play(consensus, [[c("ABC1234", 0.9)], [], [c("QQ", 0.2)]])
    reads += consensus.tick(at + 10)
    reads += consensus.lane_empty(at + 11)
    assert reads == []


def test_two_vehicles_one_after_another_give_two_reads() -> None:
    consensus = make()
    first, at = play(consensus, [[c("ABC1234")]] * 8 + [[]] * 5)
    second, at = play(consensus, [[]] * 25 + [[c("XYZ9876")]] * 8, start=at)
    assert [r.read.plate for r in first + second] == ["ABC1234", "XYZ9876"]
    assert first[0].read.read_id != second[0].read.read_id


def test_next_vehicle_right_behind_takes_over_once_the_first_goes_quiet() -> None:
    consensus = make()
    frames = [[c("ABC1234")]] * 6 + [[c("XYZ9876")]] * 6
    reads, _ = play(consensus, frames)
    assert [r.read.plate for r in reads] == ["ABC1234", "XYZ9876"]


def at_place(text: str, x: int, y: int = 300, width: int = 120) -> FrameCandidate:
    """A read of ``text`` whose plate box (a 3:1 plate) starts at ``x``, ``y``."""
    return c(text, box=(x, y, width, width // 3))


def test_a_plate_read_two_ways_at_the_same_place_is_one_vehicle() -> None:
    """A plate drives up a few pixels per frame and is read FK4073, then FK4W3L: three
    characters apart, so no plate match, but where the plate was a frame before."""
    consensus = make()
    frames = [[at_place("FK4073", 400 + 6 * i, width=120 + 4 * i)] for i in range(3)]
    frames += [[at_place("FK4W3L", 418 + 6 * i, width=132 + 4 * i)] for i in range(5)]
    reads, at = play(consensus, frames)
    reads += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["FK4073"]


def test_another_plate_elsewhere_in_the_next_frame_is_not_taken_for_this_one() -> None:
    consensus = make()
    frames = [[at_place("ABC1234", 400)]] * 6 + [[at_place("XYZ9876", 100, y=80)]] * 6
    reads, _ = play(consensus, frames)
    assert [r.read.plate for r in reads] == ["ABC1234", "XYZ9876"]


def test_the_next_car_where_the_last_one_stood_is_a_new_vehicle() -> None:
    """Place joins reads only from one frame to the next: a frame without the plate in
    between (the first car gone) leaves the spot at the barrier to the next car."""
    consensus = make()
    frames = [[at_place("ABC1234", 400)]] * 6 + [[]] + [[at_place("XYZ9876", 402)]] * 6
    reads, _ = play(consensus, frames)
    assert [r.read.plate for r in reads] == ["ABC1234", "XYZ9876"]


def test_a_car_at_the_spot_after_the_gate_saw_the_lane_empty_is_a_new_vehicle() -> None:
    """The worker skips OCR while the motion gate sees an empty lane; such a frame still
    parts the car that stood at the barrier from the next one stopping there."""
    consensus = make()
    reads, at = play(consensus, [[at_place("ABC1234", 400)]] * 4)
    reads += consensus.empty_frame(at)
    more, _ = play(consensus, [[at_place("XYZ9876", 402)]] * 6, start=at + STEP)
    assert [r.read.plate for r in reads + more] == ["ABC1234", "XYZ9876"]


#: Seconds between the frames a lane's camera gives the recognition worker.
WORKER_STEP = 0.25


def play_as_worker(
    consensus: PlateConsensus, frames: list[list[FrameCandidate]], start: float = 0.0
) -> tuple[list[VehicleRead], int, float]:
    """Hand one frame per WORKER_STEP seconds to the consensus as the recognition worker
    does: read and fed when the consensus asks for it, a tick otherwise. Returns every
    read emitted, how many frames were read and the next timestamp."""
    reads: list[VehicleRead] = []
    read_frames = 0
    at = start
    for candidates in frames:
        if consensus.wants_frame(at):
            read_frames += 1
            reads.extend(consensus.feed(at, candidates))
        else:
            reads.extend(consensus.tick(at))
        at += WORKER_STEP
    return reads, read_frames, at


def test_a_vehicle_waiting_at_the_barrier_is_read_once_and_then_now_and_then() -> None:
    """The car waits 20 s while the attendant takes payment, its plate glaring in most
    frames so that only the dealer's name under it reads. Once the car has its read,
    about one frame in three is read: enough to know it is still there, so its dealer
    frame never becomes a second vehicle (ended after ``gap_s`` with nothing read, the
    vehicle was read anew and DOMINION reported)."""
    consensus = make()
    plate = at_place("5LTA600", 400)
    dealer = c("DOMINION", 0.6, box=(410, 350, 100, 14))
    frames = [[plate, dealer]] * 4 + [[dealer]] * 60 + [[plate, dealer]] * 4 + [[dealer]] * 12
    reads, read_frames, at = play_as_worker(consensus, frames)
    reads += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["5LTA600"]
    interval = consensus.config.settled_read_interval_s
    assert read_frames <= 3 + len(frames) * WORKER_STEP / interval + 1


def test_the_next_car_after_a_waiting_one_gets_its_own_read() -> None:
    consensus = make()
    frames = [[at_place("ABC1234", 400)]] * 40 + [[]] * 6 + [[at_place("XYZ9876", 402)]] * 12
    reads, _, at = play_as_worker(consensus, frames)
    reads += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["ABC1234", "XYZ9876"]


def test_a_car_queuing_behind_the_one_at_the_barrier_gets_its_own_read() -> None:
    """A second car stops behind the first while the attendant takes payment, its plate
    smaller and higher in the frame, read in the same frames as the first car's. It was
    taken for a sticker on the first car, whose vehicle then stayed open for as long as
    the second car was read: the second car was never reported."""
    consensus = PlateConsensus("lane-1", region="us")
    first = at_place("ABC1234", 400, width=150)
    behind = at_place("XYZ9876", 150, y=100, width=60)
    waiting = [[first]] * 8 + [[first, behind]] * 40  # 12 s, the second car behind
    first_gone = [[behind]] * 12
    drives_up = [[at_place("XYZ9876", 400 + i, width=150)] for i in range(20)]
    reads, _, at = play_as_worker(consensus, waiting + first_gone + drives_up)
    reads += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["ABC1234", "XYZ9876"]
    assert reads[1].decided_at >= len(waiting) * WORKER_STEP  # once the first car has left


def test_a_car_queuing_behind_one_back_within_the_cooldown_gets_its_own_read() -> None:
    """The first car reverses and comes back within the cooldown, and a second car
    queues behind it: the first plate is not reported again, the second car is, once.
    The first car's plate place is only noted from its first read after the swallowed
    report (one processed frame later than for a reported read); that is enough."""
    consensus = PlateConsensus("lane-1", region="us")
    first = at_place("ABC1234", 400, width=150)
    behind = at_place("XYZ9876", 150, y=100, width=60)
    reads, _, at = play_as_worker(consensus, [[first]] * 8)
    reads += consensus.lane_empty(at)
    back = [[first]] * 8 + [[first, behind]] * 40
    drives_up = [[at_place("XYZ9876", 400 + i, width=150)] for i in range(20)]
    again, _, at = play_as_worker(consensus, back + drives_up, start=at + 10)
    again += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["ABC1234"]
    assert [r.read.plate for r in again] == ["XYZ9876"]


def test_a_plate_shaped_text_beside_the_plate_stays_the_vehicles_own() -> None:
    """A text that fits a plate layout read just under the plate (a dealer's stock
    number), alone for 4 s while glare hides the plate, is the vehicle's, not a car
    behind it."""
    consensus = PlateConsensus("lane-1", region="us")
    plate = at_place("ABC1234", 400, width=150)
    under = c("JKL5678", 0.7, box=(420, 380, 110, 30))
    frames = [[plate]] * 4 + [[plate, under]] * 20 + [[under]] * 16
    reads, _, at = play_as_worker(consensus, frames)
    reads += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["ABC1234"]


def test_a_dealer_frame_first_read_alone_stays_the_waiting_cars() -> None:
    """The dealer's name is first read in a frame without the plate, away from where the
    plate was: it is collected aside. It fits no plate layout, so later reads of it stay
    the car's, and 5 s of glare on the plate with only the dealer's name readable end
    nothing."""
    consensus = PlateConsensus("lane-1", region="us")
    plate = at_place("5LTA600", 400, width=150)
    dealer = c("DOMINION", 0.6, box=(420, 420, 110, 16))
    frames = [[plate]] * 2 + [[dealer]] + [[plate, dealer]] * 8 + [[dealer]] * 20
    reads, _, at = play_as_worker(consensus, frames)
    reads += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["5LTA600"]


def test_a_fleet_number_far_from_the_plate_is_not_another_car() -> None:
    """A van's fleet number, painted high on its back door, is read in every frame, and
    alone for 4 s while the barrier arm hides the plate: it fits no state's layout, so
    it stays the van's and is no car queuing behind it."""
    consensus = PlateConsensus("lane-1", region="us")
    plate = at_place("ABC1234", 400, width=150)
    fleet = c("205014", 0.6, box=(380, 60, 200, 50))
    frames = [[plate, fleet]] * 30 + [[fleet]] * 16
    reads, _, at = play_as_worker(consensus, frames)
    reads += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["ABC1234"]


def test_same_plate_within_the_cooldown_is_not_read_again() -> None:
    consensus = make(cooldown_s=30.0)
    reads, at = play(consensus, [[c("ABC1234")]] * 5)
    reads += consensus.lane_empty(at)
    # The car reverses and comes back 10 s later; one frame even misreads a look-alike.
    again, at = play(consensus, [[c("A8C1234")]] + [[c("ABC1234")]] * 6, start=at + 10)
    again += consensus.lane_empty(at)
    assert [r.read.plate for r in reads] == ["ABC1234"]
    assert again == []
    # Well after the cooldown (counted from the last sighting) it is a new visit.
    later, at = play(consensus, [[c("ABC1234")]] * 5, start=at + 31)
    assert [r.read.plate for r in later] == ["ABC1234"]


def test_cooldown_is_per_lane_object() -> None:
    lane_a, lane_b = make("a"), make("b")
    reads_a, _ = play(lane_a, [[c("ABC1234")]] * 3)
    reads_b, _ = play(lane_b, [[c("ABC1234")]] * 3)
    assert [r.read.lane for r in reads_a + reads_b] == ["a", "b"]


def test_region_correction_merges_positional_misreads() -> None:
    consensus = PlateConsensus("cn-lane", region="cn")
    # A digit 8 in the issuing-office letter slot can only be a B; "hello" fits no format.
    frames = [[c("京812345")], [c("hello", 0.99)], [c("京B12345")], [c("京B12345")]]
    reads, _ = play(consensus, frames)
    assert [r.read.plate for r in reads] == ["京B12345"]
    assert reads[0].read.alternatives == ()


def test_a_read_that_fits_a_format_as_it_stands_is_kept_as_the_recognizer_chose_it() -> None:
    # The recognizer chose these by its probabilities; the fewest look-alike swaps would
    # make them Missouri's CK0A1P and a standard RON464 (US registries take O and 0 for
    # one symbol, and the recognizer writes 0).
    consensus = PlateConsensus("us-lane", region="us")
    reads, at = play(consensus, [[c("CK0AIP")]] * 3)
    reads += consensus.lane_empty(at)
    more, _ = play(consensus, [[c("R0N464")]] * 3, start=at + 1)
    assert [r.read.plate for r in reads + more] == ["CK0AIP", "R0N464"]


def test_same_input_gives_same_output() -> None:
    frames = [[c("A8C1234", 0.6)], [c("ABC1234", 0.9)], [], [c("ABC1234", 0.8)]] * 3
    first, _ = play(make(), frames)
    second, _ = play(make(), frames)
    assert first == second


# --- property: noise never makes more than one read per vehicle ------------------------

PLATES = ("ABC1234", "7XYZ042", "KLM5678", "GO2BIG9")
SWAPS = {"B": "8", "O": "0", "Z": "2", "S": "5", "G": "6", "I": "1", "8": "B", "0": "O"}


def misread(plate: str, position: int) -> str:
    """A look-alike misread of ``plate`` (OCR-equivalent), or ``plate`` when none applies."""
    chars = list(plate)
    swappable = [i for i, ch in enumerate(chars) if ch in SWAPS]
    if not swappable:
        return plate
    index = swappable[position % len(swappable)]
    chars[index] = SWAPS[chars[index]]
    return "".join(chars)


noise_frame = st.one_of(
    st.just(("empty", 0, 0.0)),
    st.tuples(st.just("misread"), st.integers(0, 6), st.floats(0.05, 0.6)),
    st.tuples(st.just("junk"), st.integers(0, 10**6), st.floats(0.05, 0.4)),
    st.tuples(st.just("true"), st.just(0), st.floats(0.6, 0.99)),
)


@settings(max_examples=300, deadline=None)
@given(
    visits=st.lists(
        st.tuples(st.sampled_from(PLATES), st.lists(noise_frame, min_size=1, max_size=40)),
        min_size=1,
        max_size=4,
    ),
    leave_by_signal=st.booleans(),
)
def test_interleaved_noise_never_gives_more_than_one_read_per_vehicle(
    visits: list[tuple[str, list[tuple[str, int, float]]]], leave_by_signal: bool
) -> None:
    consensus = make(cooldown_s=30.0)
    at = 0.0
    junk_serial = itertools.count()
    per_vehicle: list[list[VehicleRead]] = []
    for plate, frames in visits:
        reads: list[VehicleRead] = []
        for kind, number, confidence in frames:
            if kind == "empty":
                candidates: list[FrameCandidate] = []
            elif kind == "misread":
                candidates = [c(misread(plate, number), confidence)]
            elif kind == "junk":
                # Stickers and dealer frames: short texts that never repeat.
                candidates = [c(f"J{next(junk_serial) % 1000}", confidence)]
            else:
                candidates = [c(plate, confidence)]
            reads += consensus.feed(at, candidates)
            at += STEP
        if leave_by_signal:
            reads += consensus.lane_empty(at)
        at += 60.0  # the lane stays empty well beyond the gap and the cooldown
        reads += consensus.tick(at)
        per_vehicle.append(reads)
    for (plate, frames), reads in zip(visits, per_vehicle, strict=True):
        assert len(reads) <= 1
        for read in reads:
            assert match(read.read.plate, plate) is not None
        true_support = sum(conf for kind, _, conf in frames if kind == "true")
        true_frames = sum(kind == "true" for kind, _, _ in frames)
        noisy = sum(conf for kind, _, conf in frames if kind == "misread")
        if true_frames >= 3 and true_support >= 2.0 and noisy == 0:
            assert [r.read.plate for r in reads] == [plate]


# --- a lane video through the motion gate and consensus ------------------------------


def test_lane_video_through_gate_and_consensus_gives_one_read_per_vehicle(
    tmp_path: Path,
) -> None:
    plates = ["ABC1234", "7XYZ042", "ABC1234"]
    video = make_lane_video(
        tmp_path / "lane.avi",
        plates,
        fps=10,
        size=(480, 270),
        seconds_per_vehicle=5,
        rng=4,
        empty_seconds=3.0,
    )
    gate = MotionGate()
    consensus = PlateConsensus("lane-1", region="us", config=ConsensusConfig(cooldown_s=2.0))
    capture = cv2.VideoCapture(str(video.path))
    reads: list[VehicleRead] = []
    ocr_frames = 0
    try:
        for truth in video.frames:
            ok, frame = capture.read()
            assert ok
            at = truth.index / video.fps
            if not gate.update(frame):
                reads += consensus.tick(at)
                continue
            ocr_frames += 1
            # Stand-in for the recognizer: it reads the plate when it is big enough,
            # every third read with a look-alike slip.
            candidates = []
            if truth.plate and truth.box and truth.box[2] >= 40:
                text = truth.plate if truth.index % 3 else truth.plate.replace("1", "I")
                candidates = [c(text, 0.85 if truth.index % 3 else 0.5, crop=truth.box)]
            reads += consensus.feed(at, candidates)
    finally:
        capture.release()
    reads += consensus.lane_empty(video.frame_count / video.fps)
    assert [r.read.plate for r in reads] == plates
    for read, visit in zip(reads, video.visits, strict=True):
        assert read.decision is Decision.AGREEMENT
        assert read.decided_at * video.fps < visit.leave_frame  # decided while it waits
        assert read.crop is not None
    assert ocr_frames < video.frame_count - 3 * 20  # empty lanes cost no OCR
