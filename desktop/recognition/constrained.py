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
    steps = probs.shape[0]
    index = _index(alphabet)
    slot_ids = [_ids(index, chars) for chars in allowed]
    if not slot_ids or any(ids.size == 0 for ids in slot_ids) or steps < len(slot_ids):
        return None
    gap_ids = np.array([0, *_ids(index, frozenset(skip))], dtype=np.int64)
    # The logarithm of the few columns the slots and gaps use, not of the whole alphabet
    # (PP-OCR's has 18 710 characters).
    used = np.unique(np.concatenate([gap_ids, *slot_ids]))
    log_used = np.log(np.maximum(probs[:, used], _FLOOR))

    def log_of(ids: np.ndarray) -> np.ndarray:
        return log_used[:, np.searchsorted(used, ids)]

    gap = log_of(gap_ids).max(axis=1)
    emit = np.stack([log_of(ids).max(axis=1) for ids in slot_ids], axis=1)
    best_char = np.stack([ids[log_of(ids).argmax(axis=1)] for ids in slot_ids], axis=1)
    path = _viterbi(gap, emit, best_char)
    if path is None:
        return None
    states, total = path
    ink = 1.0 - probs[:, gap_ids].sum(axis=1)
    text: list[str] = []
    margins: list[float] = []
    presence: list[float] = []
    for slot, ids in enumerate(slot_ids):
        run = np.flatnonzero(states == 2 * slot + 1)
        presence.append(float(ink[run].max()))
        mass = probs[run][:, ids].sum(axis=0)
        order = np.argsort(mass)[::-1]
        text.append(alphabet[ids[order[0]]])
        runner_up = mass[order[1]] if ids.size > 1 else 0.0
        margins.append(float(mass[order[0]] / runner_up) if runner_up > 0 else float("inf"))
    return SlotReading("".join(text), tuple(margins), tuple(presence), float(total))


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
    gap: np.ndarray, emit: np.ndarray, best_char: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """Most probable state sequence over gap, slot 1, gap, slot 2, ..., gap.

    Odd states are slots, even states gaps (blank or separator). Two slots may follow
    each other without a gap only when their likeliest characters differ, as in CTC
    where a repeated character needs a blank between its two runs.
    """
    steps, slots = emit.shape
    n_states = 2 * slots + 1
    score = np.full(n_states, _IMPOSSIBLE)
    score[0] = gap[0]
    score[1] = emit[0, 0]
    back = np.zeros((steps, n_states), dtype=np.int64)
    is_slot = np.arange(n_states) % 2 == 1
    for t in range(1, steps):
        stay = score
        step = np.concatenate(([_IMPOSSIBLE], score[:-1]))
        skip = np.full(n_states, _IMPOSSIBLE)
        for state in range(3, n_states, 2):
            if best_char[t - 1, (state - 2) // 2] != best_char[t, state // 2]:
                skip[state] = score[state - 2]
        options = np.stack([stay, step, skip])
        choice = options.argmax(axis=0)
        back[t] = np.arange(n_states) - choice  # stay 0, step 1, skip 2 states back
        gain = np.where(is_slot, emit[t, np.arange(n_states) // 2 % slots], gap[t])
        score = options.max(axis=0) + gain
    end = n_states - 1 if score[-1] >= score[-2] else n_states - 2
    if score[end] <= _IMPOSSIBLE / 2:
        return None
    states = np.empty(steps, dtype=np.int64)
    states[-1] = end
    for t in range(steps - 1, 0, -1):
        states[t - 1] = back[t, states[t]]
    return states, float(score[end])
