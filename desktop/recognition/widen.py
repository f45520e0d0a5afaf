"""A plate line read again with its ends pushed out: a character the detector cut.

The text detector's box around a plate's line sometimes cuts through its first or last
character (a frame's edge over it, a dark border beside it). The recognizer then reads
the part left as another character (a U as J, a D as 0) or not at all, and as surely
as a whole one. Read with both ends pushed out by a third of a character's width, the
character is seen whole. That read is worth ranking only when it changes the first
read at one end and nowhere else, and the recognizer is sure of a character it adds or
changes there (a frame's edge, taken in too, reads as a doubtful letter).

On openalpr-us this read three plates more (AJK7551 read JK7551, UG9L8U read JG9L8U, and
3127K with a small "DP" beside it read 3127KP) and lost none; the Chinese photos and
crops read the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .candidates import Candidate, Rank
from .constrained import greedy_reading
from .engine import ProbabilityOcrEngine

#: How far each end of the line is pushed out, in line heights: about a third of a
#: character's width. Half a line height read one US photo fewer (us-0088 stayed JK7551).
WIDEN_BY = 0.3
#: Probability the recognizer must give a character that only the widened line reads
#: (added or changed at an end). On openalpr-us the cut characters seen whole read 1.0,
#: a frame edge read as a letter 0.65.
WIDENED_SURE = 0.9
#: Plate scores this close count as a tie that the widened read wins: two sure reads of
#: a plate layout both score about 1.75, and a cut character read as another one is as
#: sure as the whole one.
WIDER_TIE = 0.05


def wider_reads(
    engine: ProbabilityOcrEngine, image: np.ndarray, best: Candidate, rank: Rank
) -> list[Candidate]:
    """The candidates (ranked by ``rank``) of ``best``'s line in ``image`` read with both
    ends pushed out by :data:`WIDEN_BY` line heights that change ``best``'s text at one
    end only (:func:`changed_at_one_end`) and score as well, up to :data:`WIDER_TIE`;
    ``best`` is read from one line."""
    (line,) = best.boxes
    wider = engine.read_quad(image, widened(line.quad, WIDEN_BY))
    if wider is None or wider.probabilities is None:
        return []
    reading = greedy_reading(*wider.probabilities)
    if not reading:
        return []
    sure = (reading[0][1] >= WIDENED_SURE, reading[-1][1] >= WIDENED_SURE)
    return [
        cand
        for cand in rank([wider])
        if changed_at_one_end(best.text, cand.text, sure) and cand.score + WIDER_TIE >= best.score
    ]


def widened(quad: Sequence[Sequence[float]], by: float) -> list[tuple[float, float]]:
    """The line ``quad`` (top-left, top-right, bottom-right, bottom-left) with both ends
    pushed out along the line by ``by`` line heights."""
    tl, tr, br, bl = (np.asarray(p, dtype=np.float64) for p in quad)
    along = tr - tl
    along /= max(1e-6, float(np.linalg.norm(along)))
    step = along * by * float(np.linalg.norm(bl - tl))
    return [(float(x), float(y)) for x, y in (tl - step, tr + step, br + step, bl - step)]


def changed_at_one_end(read: str, wider: str, sure: tuple[bool, bool]) -> bool:
    """Whether ``wider`` is ``read`` with one character added, changed or left out at its
    start or at its end, and nothing else; a character added or changed at the start
    (the end) counts only when ``sure[0]`` (``sure[1]``)."""
    if wider == read:
        return False
    for text, other, edge_sure in ((read, wider, sure[1]), (read[::-1], wider[::-1], sure[0])):
        # Seen from the other end: the same up to the last character.
        if other == text[:-1] or (edge_sure and other[:-1] in (text, text[:-1])):
            return True
    return False
