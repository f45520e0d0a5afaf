"""Chinese two-row plates: a small upper row (province, city letter) over five characters.

Lorries, buses, coaches and trailers carry yellow plates in two rows: 粤·A above B2893.
The text detector finds the large lower row as a line, but misses the upper row, whose
characters are about half as high: on cn-easypr's two such photos it found only
"B2893" and "K9331", each line's box taking in part of the upper row. So when a photo's
best reads are five characters that a Chinese plate can end in, the band above each
such line is read by both Chinese recognizers under the province-and-letter pattern,
and the head both find likeliest together (as :mod:`.province_reader` settles a
one-row plate's head) is put before the lower row, when it is likely enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .lines import LineReader
from .province_reader import formats_ending_in, head_slots, joint_log_probs, readings_under

#: Characters in the lower row of a two-row plate.
LOWER_ROW_LENGTH = 5
#: Bands looked at for the upper row, from and to, in line heights from the lower row's
#: top edge (negative: above it). Where the detector's box of the lower row ends depends
#: on how much of the upper row it took in: cn-easypr 0085's box cut through the upper
#: row (read in the first band), 0086's held it whole (read in the third).
UPPER_ROW_BANDS = ((-0.4, 0.15), (-0.25, 0.3), (-0.1, 0.45))
#: Least joint log-probability (both recognizers' best paths summed) of the upper row's
#: head. On cn-easypr the two upper rows read -2.4 to -9.6; the band above every other
#: photo's lines (one-row plates, signs, stamps) at most -16.8.
UPPER_ROW_MIN_LOG_PROB = -12.0

Quad = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class UpperRow:
    """The head read above a lower row: its text, where it was read, how likely."""

    head: str
    quad: Quad
    log_prob: float


def band_above(quad: Sequence[Sequence[float]], top: float, bottom: float) -> Quad:
    """The band of a line's ``quad`` (top-left, top-right, bottom-right, bottom-left)
    from ``top`` to ``bottom`` line heights below its top edge, along the line's slant."""
    corners = np.asarray(quad, dtype=np.float64)
    left_down = corners[3] - corners[0]
    right_down = corners[2] - corners[1]
    band = (
        corners[0] + top * left_down,
        corners[1] + top * right_down,
        corners[1] + bottom * right_down,
        corners[0] + bottom * left_down,
    )
    return tuple((float(x), float(y)) for x, y in band)


def read_upper_row(
    image: np.ndarray,
    quad: Sequence[Sequence[float]],
    lower_row: str,
    readers: Sequence[LineReader],
) -> UpperRow | None:
    """The likeliest upper row above the line at ``quad`` of ``image``, read as
    ``lower_row``, when it is likely enough and makes a Chinese plate with it."""
    if len(lower_row) != LOWER_ROW_LENGTH:
        return None
    fitting = formats_ending_in(lower_row)
    if not fitting:
        return None
    pattern = head_slots(fitting)
    best: UpperRow | None = None
    for top, bottom in UPPER_ROW_BANDS:
        band = band_above(quad, top, bottom)
        readings = [reader.line_probabilities(image, band) for reader in readers]
        heads = sorted(
            readings_under(
                readings, pattern, lambda head: any(fmt.fits(head + lower_row) for fmt in fitting)
            )
        )
        for log_prob, head in zip(joint_log_probs(readings, heads), heads, strict=True):
            if best is None or log_prob > best.log_prob:
                best = UpperRow(head, band, log_prob)
    if best is None or best.log_prob < UPPER_ROW_MIN_LOG_PROB:
        return None
    return best
