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
    path = _viterbi(gap, [log_of(ids) for ids in slot_ids], slot_ids)
    if path is None:
        return None
    states, chars, total = path
    ink = 1.0 - probs[:, gap_ids].sum(axis=1)
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
    gap: np.ndarray, emit: Sequence[np.ndarray], ids: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Most probable CTC path over gap, slot 1, gap, slot 2, ..., gap.

    ``gap`` holds each step's log-probability of a blank (or separator), ``emit[s]``
    each step's log-probability of every character slot ``s`` allows (steps x chars),
    ``ids[s]`` those characters' alphabet positions.
    A slot emits one character along all its steps, as a CTC path does, and two slots
    may follow each other without a gap only with different characters (a repeated
    character needs a blank between its two runs). Returns, per step, the state
    (even: gap, odd: slot) and the path's log-probability.
    """
    steps, slots = gap.shape[0], len(emit)
    width = max(e.shape[1] for e in emit)
    # Slot scores as one (slots x width) array; padding columns can never be chosen.
    gain = np.full((steps, slots, width), _IMPOSSIBLE)
    char_ids = np.full((slots, width), -1, dtype=np.int64)
    for s, e in enumerate(emit):
        gain[:, s, : e.shape[1]] = e
        char_ids[s, : e.shape[1]] = ids[s]
    in_gap = np.full(slots + 1, _IMPOSSIBLE)  # gap before slot s (s == slots: the end)
    in_slot = np.full((slots, width), _IMPOSSIBLE)
    in_gap[0] = gap[0]
    in_slot[0] = gain[0, 0]
    # Back pointers: a gap came from itself (-1) or the previous slot's character c
    # (c); a slot character from itself (-1), its gap (-2) or the previous slot's c.
    gap_from = np.full((steps, slots + 1), -1, dtype=np.int64)
    slot_from = np.full((steps, slots, width), -1, dtype=np.int64)
    columns = np.arange(width)
    for t in range(1, steps):
        best = in_slot.argmax(axis=1)
        best_score = in_slot[np.arange(slots), best]
        others = np.where(columns == best[:, None], _IMPOSSIBLE, in_slot)
        runner_up_at = others.argmax(axis=1)
        runner_up = others[np.arange(slots), runner_up_at]
        # Entering slot s straight from slot s - 1: the best different character.
        direct = np.full((slots, width), _IMPOSSIBLE)
        direct_from = np.full((slots, width), -1, dtype=np.int64)
        if slots > 1:
            same = char_ids[1:] == char_ids[np.arange(slots - 1), best[:-1]][:, None]
            direct[1:] = np.where(same, runner_up[:-1, None], best_score[:-1, None])
            direct_from[1:] = np.where(same, runner_up_at[:-1, None], best[:-1, None])
        from_gap = np.broadcast_to(in_gap[:slots, None], (slots, width))
        options = np.stack([in_slot, from_gap, direct])
        choice = options.argmax(axis=0)
        slot_from[t] = np.choose(choice, [np.full_like(direct_from, -1), -2, direct_from])
        new_slot = options.max(axis=0) + gain[t]
        leave = np.concatenate(([_IMPOSSIBLE], best_score))
        gap_from[t] = np.where(leave > in_gap, np.concatenate(([-1], best)), -1)
        in_gap = np.maximum(in_gap, leave) + gap[t]
        in_slot = new_slot
    last = int(in_slot[-1].argmax())
    if in_gap[-1] >= in_slot[-1, last]:
        state, char = 2 * slots, -1
    else:
        state, char = 2 * slots - 1, last
    total = in_gap[-1] if state % 2 == 0 else in_slot[-1, last]
    if total <= _IMPOSSIBLE / 2:
        return None
    states, chars = _trace_back(state, char, gap_from, slot_from)
    return states, chars, float(total)


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
