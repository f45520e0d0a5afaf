"""The Chinese steps of plate recognition: province characters and plate heads.

A Chinese plate starts with a province character and the issuing office's letter (its
"head"), which the default engine's recognizer reads less surely than the rest:

* a province-less read whose line shows a clear province when decoded under the
  Chinese formats gets it (:meth:`ChineseSteps.reread_provinces`, part of the
  recognizer's refinement of its best reads);
* with the province reader (:mod:`.province_reader`), two-row plates are read whole
  (:mod:`.two_row`), a loose best line is read again by the reader, and the best read's
  head is settled by both recognizers together (:meth:`ChineseSteps.read_heads`);
* last, the booth's local province fills a province nothing read
  (:meth:`ChineseSteps.fill_default_province`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from desktop import plates

from .candidates import (
    FORMAT_BONUS,
    NO_PROVINCE_BONUS,
    NO_PROVINCE_FORMAT,
    Candidate,
    Rank,
    score_text,
)
from .constrained import decode_slots, greedy_reading
from .engine import TextBox
from .lines import LineProbabilities, LineReader, LineReading
from .province_reader import ProvinceReader, likeliest_head
from .two_row import read_upper_row

#: Province-less Chinese candidates (best first) whose line is re-read for its province.
PROVINCE_REREADS = 3
#: Best candidates whose line is looked above for the upper row of a two-row plate
#: (when the best read is not a whole plate); see :mod:`.two_row`.
UPPER_ROW_TRIES = 3
#: A re-read province character must be this many times more probable than the
#: runner-up, where the recognizer is at least PROVINCE_PRESENCE sure some character
#: stands. On the cn-easypr photos the nine provinces read as "M", "R" or a wrong
#: character had margins of 3.9 to 300000 and presence 0.48 to 0.98; on rendered plates
#: with the province painted over, presence stayed under 0.14 while margins reached 20.
PROVINCE_MARGIN = 3.0
PROVINCE_PRESENCE = 0.4
PROVINCE_REREAD_BONUS = FORMAT_BONUS / 2
# A filled-in province is a guess: worth less than a read one.
PROVINCE_FILLED_BONUS = FORMAT_BONUS / 2


class ChineseSteps:
    """The Chinese steps of one :class:`~.recognizer.PlateRecognizer`.

    ``engine`` is its OCR engine (its recognizer gives line probabilities), ``rank``
    scores text boxes as plate candidates, ``province_reader`` is the second recognizer
    (None: none) and ``default_province`` the booth's local province (None: none).
    The ``last_*`` attributes tell what the last :meth:`read_heads` call did, for
    benchmarks.
    """

    def __init__(
        self,
        engine: LineReader,
        rank: Rank,
        *,
        province_reader: ProvinceReader | None,
        default_province: str | None,
    ) -> None:
        self.engine = engine
        self._rank = rank
        self.province_reader = province_reader
        self.default_province = default_province
        self.last_head_settled = False
        self.last_loose_reread = False
        self.last_upper_row = False

    def reread_provinces(
        self, lines: LineProbabilities, ranked: list[Candidate]
    ) -> list[Candidate]:
        """Add the full plate for each of the first few province-less reads whose line,
        decoded under a Chinese format, shows a clear province character."""
        headless = [c for c in ranked[:PROVINCE_REREADS] if c.format_name == NO_PROVINCE_FORMAT]
        found: list[Candidate] = []
        for cand in headless:
            if len(cand.boxes) != 1:
                continue  # a merged line: the province sits in another box's crop
            box = cand.boxes[0]
            probs, alphabet = lines.of(box)
            province = clear_province(probs, alphabet, cand.text)
            if province is None:
                continue
            reread = replace(box, text=province + cand.text)
            # Ranked between a province-less read and a plate read whole: a line that only
            # fits once re-decoded must not beat another line that fits as read.
            found.extend(
                replace(c, score=cand.score - NO_PROVINCE_BONUS + PROVINCE_REREAD_BONUS)
                for c in self._rank([reread])
                if c.format_name != NO_PROVINCE_FORMAT
            )
        if not found:
            return ranked
        return sorted([*ranked, *found], key=lambda c: c.score, reverse=True)

    def read_heads(self, work: np.ndarray, ranked: list[Candidate]) -> list[Candidate]:
        """The ranking after the province reader's steps (none without a reader):
        two-row plates read whole, a loose best line read again, then the best read's
        head settled; each line is recognized once by each recognizer.

        It runs once, on the final ranking: settled earlier, a province-less read that
        gains its province could score past the recognizer's second-look threshold and
        skip the second look that finds the whole plate."""
        self.last_head_settled = self.last_loose_reread = self.last_upper_row = False
        if self.province_reader is None or not ranked:
            return ranked
        engine_lines = LineProbabilities(self.engine, work)
        province_lines = LineProbabilities(self.province_reader, work, kept=False)
        ranked = self._read_upper_rows(work, ranked)
        ranked = self._read_loose_line_again(province_lines, ranked)
        return self._settle_head(engine_lines, province_lines, ranked)

    def fill_default_province(self, ranked: list[Candidate]) -> list[Candidate]:
        """Reads still without their province character get the booth's local province
        (when one is set): a guess, so made last, after every reading of the line (a
        read province wins over it)."""
        if not self.default_province:
            return ranked
        filled = [self._with_province(c) for c in ranked]
        return sorted(filled, key=lambda c: c.score, reverse=True)

    def _read_upper_rows(self, work: np.ndarray, ranked: list[Candidate]) -> list[Candidate]:
        """The ranking with two-row plates added: when the best read is no whole plate,
        each of the first few reads that could be a two-row plate's lower row, with the
        upper row read above its line (see :mod:`.two_row`)."""
        if _whole_plate(ranked[0]):
            return ranked
        assert self.province_reader is not None
        readers = (self.engine, self.province_reader)
        found: list[Candidate] = []
        for cand in ranked[:UPPER_ROW_TRIES]:
            if len(cand.boxes) != 1:
                continue
            lower = cand.boxes[0]
            upper = read_upper_row(work, lower.quad, cand.text, readers)
            if upper is None:
                continue
            score, text, format_name = score_text(upper.head + cand.text, lower.score, "cn")
            if format_name in (None, NO_PROVINCE_FORMAT):
                continue
            upper_box = TextBox.from_quad(upper.head, lower.score, upper.quad)
            found.append(
                Candidate(
                    upper.head + cand.raw, text, score, lower.score, (upper_box, lower), format_name
                )
            )
        if not found:
            return ranked
        self.last_upper_row = True
        return sorted([*found, *ranked], key=lambda c: c.score, reverse=True)

    def _read_loose_line_again(
        self, province_lines: LineProbabilities, ranked: list[Candidate]
    ) -> list[Candidate]:
        """The ranking with the province reader's own reading of the best read's line
        added, when the best read is no plate (loose text) and that reading is one."""
        best = ranked[0]
        if best.format_name is not None or len(best.boxes) != 1:
            return ranked
        box = best.boxes[0]
        probs, alphabet = province_lines.of(box)
        text = "".join(char for char, _ in greedy_reading(probs, alphabet))
        found = [c for c in self._rank([replace(box, text=text)]) if _whole_plate(c)]
        if not found:
            return ranked
        self.last_loose_reread = True
        return sorted([*found, *ranked], key=lambda c: c.score, reverse=True)

    def _settle_head(
        self,
        engine_lines: LineProbabilities,
        province_lines: LineProbabilities,
        ranked: list[Candidate],
    ) -> list[Candidate]:
        """The ranking with the best read's province and city letter settled by the
        engine's recognizer and the province reader together (the first read stays, as
        an alternative); see :mod:`.province_reader`."""
        best = ranked[0]
        # A whole plate, or one read without its province (loose text is left alone).
        plate_read = _whole_plate(best) or best.format_name == NO_PROVINCE_FORMAT
        if not plate_read or len(best.boxes) != 1:
            return ranked
        box = best.boxes[0]
        readings: list[LineReading] = [engine_lines.of(box), province_lines.of(box)]
        settled = likeliest_head(readings, best.text)
        if settled is None:
            return ranked
        again = [c for c in self._rank([replace(box, text=settled)]) if c.text == settled]
        if not again or again[0].format_name == NO_PROVINCE_FORMAT:
            return ranked
        score = best.score
        if best.format_name == NO_PROVINCE_FORMAT:
            score += PROVINCE_REREAD_BONUS - NO_PROVINCE_BONUS
        self.last_head_settled = True
        return [replace(again[0], score=score), *ranked]

    def _with_province(self, cand: Candidate) -> Candidate:
        """Give a province-less read the booth's local province character."""
        if cand.format_name != NO_PROVINCE_FORMAT or not self.default_province:
            return cand
        fitted = plates.correct(self.default_province + cand.text, "cn")
        if fitted is None or fitted.format.fallback:
            return cand
        return replace(
            cand,
            text=fitted.text,
            score=cand.score - NO_PROVINCE_BONUS + PROVINCE_FILLED_BONUS,
            format_name=fitted.format.name,
            fallback_format=False,
        )


def _whole_plate(cand: Candidate) -> bool:
    """True when ``cand`` reads as a specific plate format, province and all."""
    return cand.format_name not in (None, NO_PROVINCE_FORMAT) and not cand.fallback_format


def clear_province(probs: np.ndarray, alphabet: Sequence[str], rest: str) -> str | None:
    """The province character of a line read as ``rest`` without one, when decoding the
    line under a Chinese format gives the same ``rest`` and a clear province winner."""
    for fmt in plates.profile("cn").formats:
        if fmt.fallback or fmt.length != len(rest) + 1 or not fmt.fits(fmt.example[0] + rest):
            continue
        reading = decode_slots(probs, alphabet, fmt.allowed)
        if reading is not None and reading.text[1:] == rest:
            clear = (
                reading.margins[0] >= PROVINCE_MARGIN and reading.presence[0] >= PROVINCE_PRESENCE
            )
            return reading.text[0] if clear else None
    return None
