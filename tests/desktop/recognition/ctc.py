"""Hand-made CTC recognizer output for tests of the decoding rules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def probability_rows(alphabet: Sequence[str], *rows: dict[str, float]) -> np.ndarray:
    """One probability row per step over ``alphabet`` (index 0 the blank); what a row
    leaves out is spread evenly over the other characters."""
    probs = np.zeros((len(rows), len(alphabet)))
    for t, row in enumerate(rows):
        for char, p in row.items():
            probs[t, alphabet.index(char)] = p
        rest = [i for i, ch in enumerate(alphabet) if ch not in row]
        probs[t, rest] = (1.0 - sum(row.values())) / len(rest)
    return probs
