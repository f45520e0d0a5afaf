"""Plate-shaped candidate building and scoring over an engine's text boxes.

A plate is often read as one text line, sometimes split in two (a gap, a bolt, a
separator dot, a state emblem), and it shares the picture with dates, phone numbers,
dealer frames and stickers. Candidates are the single boxes plus merges of adjacent
boxes of similar height on one line; each gets a plate-likeness score from its
recognition score, the region's formats (through :mod:`desktop.plates`) and penalties
for text that is plainly something else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from desktop import plates

from .engine import TextBox

log = logging.getLogger(__name__)

_DATE = re.compile(r"\d{1,4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,4}")
# A camera's date stamp read without its separators: 20140514.
_COMPACT_DATE = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")
_TIME = re.compile(r"\d{1,2}\s*:\s*\d{2}")
_PHONE = re.compile(r"\(?\d{3}\)?\s*[-. ]\s*\d{3}\s*[-. ]\s*\d{4}")
_LOWER_WORD = re.compile(r"[a-z]{2,}")
_WEB = re.compile(r"(www|\.com|\.net|\.org|http)", re.IGNORECASE)

# Score weights. Recognition score is 0..1; a specific format is worth more than any
# difference in recognition score between two plausible reads.
FORMAT_BONUS = 0.6
FALLBACK_BONUS = 0.25
CORRECTION_COST = 0.12
MIX_BONUS = 0.15
MERGE_COST = 0.05
DATE_PENALTY = 1.0
LOWER_PENALTY = 0.6
ASPECT_PENALTY = 0.4
LENGTH_PENALTY = 1.0
WEB_PENALTY = 1.0
LETTERS_ONLY_PENALTY = 0.3
#: Bonus for a Chinese plate read without its province character: still worth reporting
#: (booths match blacklists with the first character tolerated), below any full plate.
NO_PROVINCE_BONUS = 0.1
NO_PROVINCE_FORMAT = "cn-no-province"


@dataclass(frozen=True)
class Candidate:
    """A possible plate: raw engine text, its region-corrected form and its score."""

    raw: str
    text: str
    score: float
    rec_score: float
    boxes: tuple[TextBox, ...]
    format_name: str | None
    fallback_format: bool = False

    @property
    def box(self) -> tuple[int, int, int, int]:
        """Axis-aligned x, y, w, h around all boxes of the candidate."""
        x0 = min(b.x for b in self.boxes)
        y0 = min(b.y for b in self.boxes)
        x1 = max(b.x + b.w for b in self.boxes)
        y1 = max(b.y + b.h for b in self.boxes)
        return x0, y0, x1 - x0, y1 - y0


#: Ranks the plate candidates of text lines in a recognizer's region, best first.
Rank = Callable[[Sequence[TextBox]], list[Candidate]]


def region_lengths(region: str) -> tuple[int, int]:
    """Shortest and longest plate length the region's formats allow."""
    lengths = [fmt.length for fmt in plates.profile(region).formats]
    return min(lengths), max(lengths)


@cache
def plate_alphabet(region: str) -> frozenset[str] | None:
    """Every character the region's plates carry; None where they carry Chinese
    characters (a stray one there is left to the province rules). Elsewhere, anything
    outside the alphabet is not part of the plate: PP-OCR reads a state emblem as "中"
    or another Chinese character."""
    formats = plates.profile(region).formats
    carried = frozenset().union(*(chars for fmt in formats for chars in fmt.allowed))
    if carried & frozenset(plates.CN_PROVINCES):
        return None
    return carried


def _same_line(a: TextBox, b: TextBox) -> bool:
    """True when ``b`` continues ``a`` to its right on the same line, at a similar height."""
    ha, hb = a.line_height, b.line_height
    if not 0.7 <= ha / hb <= 1.45:
        return False
    ca, cb = a.y + a.h / 2, b.y + b.h / 2
    if abs(ca - cb) > 0.5 * max(ha, hb):
        return False
    gap = b.x - (a.x + a.w)
    return -0.3 * ha <= gap <= 1.6 * max(ha, hb)


def build_groups(boxes: Sequence[TextBox], max_parts: int = 3) -> list[tuple[TextBox, ...]]:
    """Single boxes plus chains of up to ``max_parts`` adjacent boxes on one line."""
    ordered = sorted(boxes, key=lambda b: b.x)
    groups: list[tuple[TextBox, ...]] = [(b,) for b in ordered]
    frontier = list(groups)
    for _ in range(max_parts - 1):
        grown: list[tuple[TextBox, ...]] = []
        for group in frontier:
            last = group[-1]
            grown.extend(
                (*group, nxt)
                for nxt in ordered
                if nxt not in group and nxt.x > last.x and _same_line(last, nxt)
            )
        groups.extend(grown)
        frontier = grown
    return groups


def _script_counts(text: str) -> tuple[int, int, int]:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    other = len(text) - letters - digits
    return letters, digits, other


def text_penalty(raw: str) -> float:
    """Penalty for raw text that looks like a date, time, phone number, word or URL."""
    penalty = 0.0
    if _DATE.search(raw) or _TIME.search(raw) or _COMPACT_DATE.fullmatch(plates.normalize(raw)):
        penalty += DATE_PENALTY
    if _PHONE.search(raw):
        penalty += DATE_PENALTY
    if _LOWER_WORD.search(raw):
        penalty += LOWER_PENALTY
    if _WEB.search(raw):
        penalty += WEB_PENALTY
    return penalty


def score_text(
    raw: str, rec_score: float, region: str, *, digit_zero: bool = False
) -> tuple[float, str, str | None]:
    """Plate-likeness of one read: (score, corrected text, fitted format name or None).

    ``digit_zero`` writes every O as 0 (for regions where the two are one symbol, as
    US registries treat them), also where a format expects a letter.
    """
    read = plates.normalize(raw)
    score = rec_score - text_penalty(raw)
    carried = plate_alphabet(region)
    if carried is not None:
        kept = "".join(ch for ch in read if ch in carried)
        score -= CORRECTION_COST * (len(read) - len(kept))
        read = kept
    text = read.replace("O", "0") if digit_zero else read
    letters, digits, _ = _script_counts(read)
    if letters and digits:
        score += MIX_BONUS
    elif letters:
        score -= LETTERS_ONLY_PENALTY
    shortest, longest = region_lengths(region)
    corrected = plates.correct(text, region)
    if corrected is not None:
        fitted = corrected.text
        if digit_zero:
            # O and 0 are one symbol on these plates: the canonical form writes 0.
            fitted = fitted.replace("O", "0")
        changes = sum(a != b for a, b in zip(fitted, text, strict=True))
        bonus = FALLBACK_BONUS if corrected.format.fallback else FORMAT_BONUS
        score += bonus - CORRECTION_COST * changes
        return score, fitted, corrected.format.name
    if region == "cn":
        headless = missing_province(text)
        if headless is not None:
            return score + NO_PROVINCE_BONUS, headless, NO_PROVINCE_FORMAT
    if not shortest <= len(text) <= longest:
        score -= LENGTH_PENALTY
    return score, text, None


def missing_province(text: str) -> str | None:
    """The corrected text, province left out, when ``text`` is a Chinese plate whose
    province character is missing (the detector often cuts it off) or unreadable (a
    Latin letter or another Chinese character in its place), else None."""
    if len(text) == 7 and text[0] not in plates.CN_PROVINCES:
        text = text[1:]
    if len(text) != 6 or not text[0].isascii():
        return None
    corrected = plates.correct(plates.CN_PROVINCES[0] + text, "cn")
    return corrected.text[1:] if corrected is not None else None


def _is_fallback(region: str, fmt_name: str | None) -> bool:
    if fmt_name is None:
        return False
    if fmt_name == NO_PROVINCE_FORMAT:
        return True
    return any(f.fallback for f in plates.profile(region).formats if f.name == fmt_name)


def _aspect_penalty(group: Sequence[TextBox], n_chars: int) -> float:
    """Penalty when the line is far too long or short for ``n_chars`` plate characters."""
    width = sum(b.line_width for b in group)
    height = max(b.line_height for b in group)
    per_char = width / height / max(1, n_chars)
    # Plate characters are about half as wide as tall; text boxes add some padding.
    return 0.0 if 0.25 <= per_char <= 1.6 else ASPECT_PENALTY


def score_candidates(
    boxes: Sequence[TextBox], region: str, *, digit_zero: bool = False
) -> list[Candidate]:
    """All candidates built from ``boxes``, best first, one per distinct plate text."""
    best: dict[str, Candidate] = {}
    for group in build_groups(boxes):
        raw = "".join(b.text for b in group)
        rec_score = min(b.score for b in group)
        for read_score, text, fmt_name in _readings(raw, rec_score, region, digit_zero=digit_zero):
            score = read_score - MERGE_COST * (len(group) - 1) - _aspect_penalty(group, len(text))
            cand = Candidate(
                raw,
                text,
                score,
                rec_score,
                tuple(group),
                fmt_name,
                fallback_format=_is_fallback(region, fmt_name),
            )
            if text not in best or best[text].score < score:
                best[text] = cand
    return sorted(best.values(), key=lambda c: c.score, reverse=True)


def _readings(
    raw: str, rec_score: float, region: str, *, digit_zero: bool
) -> list[tuple[float, str, str | None]]:
    """:func:`score_text` of a read, and, when only a fallback format takes it, of each
    reading without a character where a specific format's groups meet (an emblem read
    as a letter), which pays for that character as for one not on plates."""
    scored = score_text(raw, rec_score, region, digit_zero=digit_zero)
    _, text, fmt_name = scored
    if not text:
        return []
    if fmt_name == NO_PROVINCE_FORMAT or not _is_fallback(region, fmt_name):
        return [scored]
    readings = [scored]
    for shorter in plates.without_break_character(text, region):
        found = score_text(shorter, rec_score, region, digit_zero=digit_zero)
        if found[2] is not None and not _is_fallback(region, found[2]):
            readings.append((found[0] - CORRECTION_COST, found[1], found[2]))
    return readings


def confidence(candidate: Candidate) -> float:
    """Map a candidate to a 0..1 confidence: its recognition score, discounted when the
    text fits only a fallback format or none."""
    factor = 0.6
    if candidate.format_name is not None:
        factor = 0.85 if candidate.fallback_format else 1.0
    value = candidate.rec_score * factor
    if candidate.score < candidate.rec_score:
        value *= 0.7
    return round(max(0.0, min(1.0, value)), 3)
