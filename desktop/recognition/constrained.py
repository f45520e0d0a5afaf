"""Reading a plate line under a plate format, from a CTC recognizer's probabilities.

A CTC text recognizer gives, for each horizontal step of a line, a probability for
every character of its alphabet (index 0 is the blank). Its greedy reading takes the
likeliest character at each step, so a province character it finds hard (川 looks
like "M" or "III") comes out as a Latin letter, or as nothing at all. Decoding the
same probabilities under a format's slots (province, letter, digit...) finds the
likeliest reading that fits the layout, and for each slot how clearly its character
beats the next one allowed there: a wide margin is a real read, a narrow one a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Characters a recognizer may put between plate characters (the dot after a Chinese
#: plate's city letter, hyphens, colons); decoding treats them like the blank.
SEPARATORS = "·.-:• "
_FLOOR = 1e-12
_IMPOSSIBLE = -1e18


@dataclass(frozen=True)
class SlotReading:
    """The likeliest reading of a line that fits a slot pattern.

    ``margins`` holds, per slot, the probability mass of the chosen character over
    that of the runner-up allowed in the same slot (infinite when the slot allows one
    character); ``presence``, per slot, the highest probability along its steps that
    some character (any, not a blank or separator) is there; ``log_prob`` is the
    log-probability of the whole path.
    """

    text: str
    margins: tuple[float, ...]
    presence: tuple[float, ...]
    log_prob: float


def decode_slots(
    probs: np.ndarray,
    alphabet: Sequence[str],
    allowed: Sequence[frozenset[str]],
    *,
    skip: str = SEPARATORS,
) -> SlotReading | None:
    """Best CTC path through ``allowed`` (one character set per slot, in order).

    ``probs`` is T x len(alphabet), rows summing to 1, with the blank at index 0.
    Returns None when a slot allows no character of the alphabet or the line has fewer
    steps than slots.
    """
    return decode_patterns(probs, alphabet, [allowed], skip=skip)[0]


def decode_patterns(
    probs: np.ndarray,
    alphabet: Sequence[str],
    patterns: Sequence[Sequence[frozenset[str]]],
    *,
    skip: str = SEPARATORS,
) -> list[SlotReading | None]:
    """:func:`decode_slots` for each of several slot patterns of the same line, in one
    pass over the line's steps for all of them."""
    steps = probs.shape[0]
    index = _index(alphabet)
    pattern_ids = [[_ids(index, chars) for chars in allowed] for allowed in patterns]
    decodable = [
        i
        for i, slot_ids in enumerate(pattern_ids)
        if slot_ids and all(ids.size for ids in slot_ids) and steps >= len(slot_ids)
    ]
    readings: list[SlotReading | None] = [None] * len(patterns)
    if not decodable:
        return readings
    gap_ids = np.array([0, *_ids(index, frozenset(skip))], dtype=np.int64)
    # The logarithm of the few columns the slots and gaps use, not of the whole alphabet
    # (PP-OCR's has 18 710 characters).
    used = np.unique(np.concatenate([gap_ids, *(ids for i in decodable for ids in pattern_ids[i])]))
    log_used = np.log(np.maximum(probs[:, used], _FLOOR))

    def log_of(ids: np.ndarray) -> np.ndarray:
        return log_used[:, np.searchsorted(used, ids)]

    gap = log_of(gap_ids).max(axis=1)
    paths = _viterbi(
        gap,
        [[log_of(ids) for ids in pattern_ids[i]] for i in decodable],
        [pattern_ids[i] for i in decodable],
    )
    ink = 1.0 - probs[:, gap_ids].sum(axis=1)
    for i, path in zip(decodable, paths, strict=True):
        if path is not None:
            readings[i] = _reading(probs, alphabet, pattern_ids[i], ink, path)
    return readings


def _reading(
    probs: np.ndarray,
    alphabet: Sequence[str],
    slot_ids: Sequence[np.ndarray],
    ink: np.ndarray,
    path: tuple[np.ndarray, np.ndarray, float],
) -> SlotReading:
    """The :class:`SlotReading` of a path from :func:`_viterbi` (``ink``: each step's
    probability of some character)."""
    states, chars, total = path
    text: list[str] = []
    margins: list[float] = []
    presence: list[float] = []
    for slot, ids in enumerate(slot_ids):
        run = np.flatnonzero(states == 2 * slot + 1)
        presence.append(float(ink[run].max()))
        chosen = int(chars[run[0]])
        text.append(alphabet[ids[chosen]])
        mass = probs[run][:, ids].sum(axis=0)
        runner_up = np.delete(mass, chosen).max() if ids.size > 1 else 0.0
        margins.append(float(mass[chosen] / runner_up) if runner_up > 0 else float("inf"))
    return SlotReading("".join(text), tuple(margins), tuple(presence), total)


def greedy_reading(
    probs: np.ndarray, alphabet: Sequence[str], *, skip: str = SEPARATORS
) -> list[tuple[str, float]]:
    """The recognizer's own reading of a line, as (character, probability) pairs.

    Greedy CTC: the likeliest entry at each step, repeats merged, blanks and
    ``skip`` separators left out; each character carries its highest probability
    along its run.
    """
    best = probs.argmax(axis=1)
    reading: list[tuple[str, float]] = []
    previous = 0
    for step, i in enumerate(best):
        char = alphabet[i] if i else ""
        if char and char not in skip:
            p = float(probs[step, i])
            if i == previous:  # the same run: this step appended it
                reading[-1] = (char, max(reading[-1][1], p))
            else:
                reading.append((char, p))
        previous = i
    return reading


def _ids(index: dict[str, list[int]], chars: frozenset[str]) -> np.ndarray:
    """Alphabet positions of ``chars``, in order, the blank excluded."""
    return np.array(sorted(i for ch in chars for i in index.get(ch, ())), dtype=np.int64)


_indexes: dict[int, tuple[Sequence[str], dict[str, list[int]]]] = {}


def _index(alphabet: Sequence[str]) -> dict[str, list[int]]:
    """Each character's positions in ``alphabet`` (the blank left out), built once per
    alphabet: a recognizer passes the same list on every call."""
    cached = _indexes.get(id(alphabet))
    if cached is None or cached[0] is not alphabet:
        if len(_indexes) >= 8:
            _indexes.clear()
        positions: dict[str, list[int]] = {}
        for i, ch in enumerate(alphabet):
            if i:
                positions.setdefault(ch, []).append(i)
        cached = _indexes[id(alphabet)] = (alphabet, positions)
    return cached[1]


def _viterbi(
    gap: np.ndarray,
    emit: Sequence[Sequence[np.ndarray]],
    ids: Sequence[Sequence[np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray, float] | None]:
    """Most probable CTC path over gap, slot 1, gap, slot 2, ..., gap, for each of
    several slot patterns at once.

    ``gap`` holds each step's log-probability of a blank (or separator); for pattern
    ``p``, ``emit[p][s]`` holds each step's log-probability of every character its slot
    ``s`` allows (steps x chars), ``ids[p][s]`` those characters' alphabet positions.
    A slot emits one character along all its steps, as a CTC path does, and two slots
    may follow each other without a gap only with different characters (a repeated
    character needs a blank between its two runs). Returns, per pattern, the state of
    each step (even: gap, odd: slot) and its character (its column in ``emit``; -1 in a
    gap), and the path's log-probability; None where no path fits.
    """
    steps, batch = gap.shape[0], len(emit)
    lengths = [len(pattern) for pattern in emit]
    slots = max(lengths)
    width = max(e.shape[1] for pattern in emit for e in pattern)
    # Patterns share one (batch x slots x width) grid: a shorter pattern's extra slots
    # and a slot's extra columns can never be chosen.
    gain = np.full((steps, batch, slots, width), _IMPOSSIBLE)
    char_ids = np.full((batch, slots, width), -1, dtype=np.int64)
    for p, pattern in enumerate(emit):
        for s, e in enumerate(pattern):
            gain[:, p, s, : e.shape[1]] = e
            char_ids[p, s, : e.shape[1]] = ids[p][s]
    in_gap = np.full((batch, slots + 1), _IMPOSSIBLE)  # gap before slot s (s == slots: end)
    in_slot = np.full((batch, slots, width), _IMPOSSIBLE)
    in_gap[:, 0] = gap[0]
    in_slot[:, 0] = gain[0, :, 0]
    # Back pointers: a gap came from itself (-1) or the previous slot's character c
    # (c); a slot character from itself (-1), its gap (-2) or the previous slot's c.
    gap_from = np.full((steps, batch, slots + 1), -1, dtype=np.int64)
    slot_from = np.full((steps, batch, slots, width), -1, dtype=np.int64)
    columns = np.arange(width)
    no_gap = np.full((batch, 1), _IMPOSSIBLE)
    no_char = np.full((batch, 1), -1, dtype=np.int64)
    for t in range(1, steps):
        best = in_slot.argmax(axis=2)
        best_score = np.take_along_axis(in_slot, best[..., None], 2)[..., 0]
        others = np.where(columns == best[..., None], _IMPOSSIBLE, in_slot)
        runner_up_at = others.argmax(axis=2)
        runner_up = np.take_along_axis(others, runner_up_at[..., None], 2)[..., 0]
        # Entering slot s straight from slot s - 1: the best different character.
        direct = np.full((batch, slots, width), _IMPOSSIBLE)
        direct_from = np.full((batch, slots, width), -1, dtype=np.int64)
        if slots > 1:
            best_id = np.take_along_axis(char_ids[:, :-1], best[:, :-1, None], 2)
            same = char_ids[:, 1:] == best_id
            direct[:, 1:] = np.where(same, runner_up[:, :-1, None], best_score[:, :-1, None])
            direct_from[:, 1:] = np.where(same, runner_up_at[:, :-1, None], best[:, :-1, None])
        from_gap = np.broadcast_to(in_gap[:, :slots, None], (batch, slots, width))
        options = np.stack([in_slot, from_gap, direct])
        choice = options.argmax(axis=0)
        slot_from[t] = np.where(choice == 0, -1, np.where(choice == 1, -2, direct_from))
        in_slot = options.max(axis=0) + gain[t]
        leave = np.concatenate([no_gap, best_score], axis=1)
        gap_from[t] = np.where(leave > in_gap, np.concatenate([no_char, best], axis=1), -1)
        in_gap = np.maximum(in_gap, leave) + gap[t]
    paths: list[tuple[np.ndarray, np.ndarray, float] | None] = []
    for p, n in enumerate(lengths):
        last = int(in_slot[p, n - 1].argmax())
        if in_gap[p, n] >= in_slot[p, n - 1, last]:
            state, char, total = 2 * n, -1, in_gap[p, n]
        else:
            state, char, total = 2 * n - 1, last, in_slot[p, n - 1, last]
        if total <= _IMPOSSIBLE / 2:
            paths.append(None)
            continue
        states, chars = _trace_back(state, char, gap_from[:, p], slot_from[:, p])
        paths.append((states, chars, float(total)))
    return paths


def _trace_back(
    state: int, char: int, gap_from: np.ndarray, slot_from: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The states and characters of the path ending in ``state`` with ``char``, from
    :func:`_viterbi`'s back pointers."""
    steps = gap_from.shape[0]
    states = np.empty(steps, dtype=np.int64)
    chars = np.empty(steps, dtype=np.int64)
    for t in range(steps - 1, -1, -1):
        states[t], chars[t] = state, char
        if t == 0:
            break
        if state % 2 == 0:
            came = gap_from[t, state // 2]
            if came >= 0:
                state, char = state - 1, int(came)
        else:
            came = slot_from[t, state // 2, char]
            if came == -2:
                state, char = state - 1, -1
            elif came >= 0:
                state, char = state - 2, int(came)
    return states, chars
