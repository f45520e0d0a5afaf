"""Plate text rules: one normalizer, the look-alike equivalence, three-tier matching,
region formats and positional correction.

Every plate string that enters the booth core (OCR output, typed text, server data)
goes through :func:`normalize` first, so the rest of the code compares like with like.
"""

from __future__ import annotations

import enum
import itertools
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Characters that OCR confuses with each other. Each group maps to one representative,
# so two plates that differ only by look-alikes share an equivalence key.
LOOK_ALIKE_GROUPS: tuple[str, ...] = ("0ODQ", "1IL", "8B", "5S", "2Z", "6G")
_EQUIVALENCE_TABLE = str.maketrans({ch: group[0] for group in LOOK_ALIKE_GROUPS for ch in group})

MAX_LOOK_ALIKE_SUBSTITUTIONS = 2
# Below this length a one-character difference is too likely to be another vehicle.
NEAR_MATCH_MIN_LENGTH = 5


def normalize(text: str) -> str:
    """Return the canonical form of a plate: upper case, half-width, letters and digits only.

    NFKC folds full-width forms (``ＡＢＣ１２３``) to ASCII; separators, spaces and
    punctuation are dropped; CJK characters such as province abbreviations are kept.
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in folded if ch.isalnum())


def equivalence_key(plate: str) -> str:
    """Map every look-alike character of a normalized plate to its group's representative."""
    return plate.translate(_EQUIVALENCE_TABLE)


def deletion_keys(key: str) -> set[str]:
    """The key itself and every string made by deleting one of its characters.

    Two keys within edit distance one always share an element of their deletion sets,
    which lets the store find near matches with plain index lookups.
    """
    return {key} | {key[:i] + key[i + 1 :] for i in range(len(key))}


class MatchTier(enum.IntEnum):
    """How closely a read plate matches a listed one; lower values are stronger."""

    EXACT = 0
    OCR_EQUIVALENT = 1
    NEAR = 2

    @property
    def label(self) -> str:
        """Stable lower-case name for storage and display keys."""
        return {0: "exact", 1: "ocr_equivalent", 2: "near"}[self.value]


@dataclass(frozen=True)
class PlateMatch:
    """A listed plate found for a read, with the tier that matched."""

    read: str
    listed: str
    tier: MatchTier

    @property
    def needs_check(self) -> bool:
        """True when the attendant should compare the plate with the listed one."""
        return self.tier is not MatchTier.EXACT


def levenshtein(a: str, b: str, limit: int | None = None) -> int:
    """Edit distance between two strings; stops early once it exceeds ``limit``."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def match(read: str, listed: str) -> PlateMatch | None:
    """Compare two normalized plates and report the strongest tier that applies, if any.

    * exact: identical text;
    * OCR-equivalent: same length, differing only by look-alike characters, at most
      two of them;
    * near: one character missing, extra or different once look-alikes are folded
      (and at most two look-alike substitutions besides), for plates of five or more
      characters.
    """
    if not read or not listed:
        return None
    if read == listed:
        return PlateMatch(read, listed, MatchTier.EXACT)
    read_key, listed_key = equivalence_key(read), equivalence_key(listed)
    if len(read) == len(listed) and read_key == listed_key:
        substitutions = sum(r != s for r, s in zip(read, listed, strict=True))
        if substitutions <= MAX_LOOK_ALIKE_SUBSTITUTIONS:
            return PlateMatch(read, listed, MatchTier.OCR_EQUIVALENT)
        return None
    if min(len(read), len(listed)) < NEAR_MATCH_MIN_LENGTH:
        return None
    if levenshtein(read_key, listed_key, limit=1) != 1:
        return None
    if levenshtein(read, listed, limit=1 + MAX_LOOK_ALIKE_SUBSTITUTIONS) > (
        1 + MAX_LOOK_ALIKE_SUBSTITUTIONS
    ):
        return None
    return PlateMatch(read, listed, MatchTier.NEAR)


# ---------------------------------------------------------------------------------------
# Region profiles: which plate formats a region issues, and positional correction.
# ---------------------------------------------------------------------------------------

LATIN_LETTERS = string.ascii_uppercase
DIGITS = string.digits
# Chinese plates never use I and O (they would be confused with 1 and 0).
CN_LETTERS = LATIN_LETTERS.replace("I", "").replace("O", "")
# Province (and municipality / autonomous region) abbreviations on Chinese plates.
CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

#: Slot classes of a :class:`PlateFormat` pattern. A pattern may also hold a literal set
#: in brackets, e.g. ``[DF]``, for a slot that only takes those characters.
SLOT_CLASSES: dict[str, str] = {
    "P": "province character (Chinese plates)",
    "L": "letter",
    "D": "digit",
    "A": "letter or digit",
}

# Correction candidates for a character that does not fit its slot: the other members of
# its look-alike group, in group order (digit first, then letters by preference). So a
# letter slot read "0" becomes "O", or "D" where the format has no "O" (Chinese plates);
# a letter slot read "1" becomes "I", or "L" where there is no "I"; a digit slot read
# "O", "D" or "Q" becomes "0"; and so on for 8/B, 5/S, 2/Z, 6/G.
_CORRECTION_CANDIDATES: dict[str, str] = {
    ch: group.replace(ch, "") for group in LOOK_ALIKE_GROUPS for ch in group
}

# How many look-alike swaps may turn a read that a fallback format accepts as it stands
# into a specific format (see :func:`correct`).
MAX_CORRECTIONS_OVER_FALLBACK = 1

_SLOT_TOKEN = re.compile(r"\[([^\]]+)\]|(.)")


def _slot_sets(slots: str, letters: str) -> tuple[frozenset[str], ...]:
    """Parse a slot pattern into the set of characters each position accepts."""
    classes = {
        "P": frozenset(CN_PROVINCES),
        "L": frozenset(letters),
        "D": frozenset(DIGITS),
        "A": frozenset(letters + DIGITS),
    }
    sets: list[frozenset[str]] = []
    for match_ in _SLOT_TOKEN.finditer(slots):
        literal, slot_class = match_.groups()
        if literal is not None:
            if normalize(literal) != literal:
                raise ValueError(f"slot set [{literal}] must hold normalized characters")
            sets.append(frozenset(literal))
        elif slot_class in classes:
            sets.append(classes[slot_class])
        else:
            raise ValueError(
                f"unknown slot class {slot_class!r} in {slots!r}; use one of "
                f"{', '.join(SLOT_CLASSES)} or a [set]"
            )
    return tuple(sets)


@dataclass(frozen=True)
class PlateFormat:
    """One plate layout of a region, as a pattern of slots.

    ``slots`` holds one symbol per character: ``P`` province character, ``L`` letter,
    ``D`` digit, ``A`` letter or digit, or a bracketed set such as ``[DF]``. ``letters``
    lists the letters the issuer uses (Chinese plates leave out I and O). A *fallback*
    format accepts almost any text of its length; it validates reads that fit no
    specific layout, but :func:`correct` never prefers it over a specific one.
    ``breaks`` lists where the plate's character groups meet (as the number of
    characters before each meeting): the place of a dash, a gap or a state emblem.
    """

    name: str
    slots: str
    example: str
    description: str = ""
    letters: str = LATIN_LETTERS
    fallback: bool = False
    breaks: tuple[int, ...] = ()
    allowed: tuple[frozenset[str], ...] = field(init=False, repr=False, compare=False)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        allowed = _slot_sets(self.slots, self.letters)
        pattern = "".join(
            "[" + "".join(re.escape(ch) for ch in sorted(chars)) + "]" for chars in allowed
        )
        object.__setattr__(self, "allowed", allowed)
        object.__setattr__(self, "regex", re.compile(pattern))
        if not self.fits(self.example):
            raise ValueError(f"example {self.example!r} does not fit format {self.name!r}")
        if not all(0 < at < len(allowed) for at in self.breaks):
            raise ValueError(f"format {self.name!r} breaks {self.breaks} fall outside it")

    @property
    def length(self) -> int:
        """Number of characters of a plate in this format."""
        return len(self.allowed)

    def fits(self, plate: str) -> bool:
        """True when the normalized ``plate`` has exactly this layout."""
        return self.regex.fullmatch(plate) is not None

    def corrected(self, plate: str) -> tuple[str, int] | None:
        """Fit ``plate`` to this layout by swapping look-alikes slot by slot.

        Returns the corrected text and the number of characters changed, or None when
        some character fits its slot neither as read nor as any of its look-alikes.
        """
        if len(plate) != self.length:
            return None
        out: list[str] = []
        changes = 0
        for ch, chars in zip(plate, self.allowed, strict=True):
            if ch in chars:
                out.append(ch)
                continue
            replacement = next(
                (alt for alt in _CORRECTION_CANDIDATES.get(ch, "") if alt in chars), None
            )
            if replacement is None:
                return None
            out.append(replacement)
            changes += 1
        return "".join(out), changes


@dataclass(frozen=True)
class RegionProfile:
    """The plate formats of one region, specific layouts before fallbacks."""

    name: str
    description: str
    formats: tuple[PlateFormat, ...]


@dataclass(frozen=True)
class CorrectedPlate:
    """The result of :func:`correct`: the fitted text, its format and how many changes."""

    text: str
    format: PlateFormat
    corrections: int
    original: str

    @property
    def changed(self) -> bool:
        """True when correction replaced at least one character."""
        return self.corrections > 0


def _alnum_fallbacks(region: str, lengths: range) -> tuple[PlateFormat, ...]:
    return tuple(
        PlateFormat(
            f"{region}-any-{n}",
            "A" * n,
            example=("AB12345678" * 2)[:n],
            description=f"any {n} letters and digits",
            fallback=True,
        )
        for n in lengths
    )


def _german_formats() -> tuple[PlateFormat, ...]:
    # 1-3 letter district + 1-2 letters + 1-4 digits; the separator between the two
    # letter groups is lost in normalization, so only the letter and digit counts remain.
    return tuple(
        PlateFormat(
            f"de-{n_letters}l{n_digits}d",
            "L" * n_letters + "D" * n_digits,
            example="BMWXY"[:n_letters] + "1234"[:n_digits],
            description=f"German: {n_letters} letters then {n_digits} digits",
        )
        for n_letters in range(2, 6)
        for n_digits in range(1, 5)
        if n_letters + n_digits <= 8
    )


_NL_LETTERS = "BDFGHJKLNPRSTVXZ"


def _dutch_formats() -> tuple[PlateFormat, ...]:
    # Dutch "sidecodes": three groups split by dashes; the breaks fall after the first
    # group and after the second.
    return tuple(
        PlateFormat(
            f"nl-{slots.lower()}",
            slots,
            example.replace("-", ""),
            f"Netherlands: {example}",
            letters=_NL_LETTERS,
            breaks=tuple(itertools.accumulate(len(group) for group in example.split("-")[:-1])),
        )
        for slots, example in (
            ("DDLLLD", "12-BDF-3"),
            ("DLLLDD", "1-BDF-23"),
            ("LLDDDL", "BD-123-F"),
            ("LDDDLL", "B-123-DF"),
            ("LLLDDL", "BDF-12-G"),
        )
    )


_ES_LETTERS = "BCDFGHJKLMNPRSTVWXYZ"

PROFILES: Mapping[str, RegionProfile] = MappingProxyType(
    {
        "cn": RegionProfile(
            "cn",
            "Mainland China: province character, issuing-office letter, serial; "
            "letters I and O are never used, but for public security's office letter O",
            (
                PlateFormat(
                    "cn-ordinary",
                    "PLAAAAA",
                    example="京A12345",
                    description="ordinary: province + letter + 5 letters/digits",
                    letters=CN_LETTERS,
                ),
                PlateFormat(
                    "cn-new-energy-small",
                    # D/F originally; A-E (pure electric) and G-K (other) were added later.
                    "PL[ABCDEFGHJK]ADDDD",
                    example="粤BD12345",
                    description="new-energy small car: energy letter, letter/digit, 4 digits",
                    letters=CN_LETTERS,
                ),
                PlateFormat(
                    "cn-special",
                    "PLAAAA[学警挂港澳]",
                    example="粤B1234学",
                    description="driving-school, police, trailer, Hong Kong and Macau "
                    "vehicles: 4 letters/digits then 学, 警, 挂, 港 or 澳",
                    letters=CN_LETTERS,
                ),
                PlateFormat(
                    "cn-new-energy-large",
                    "PLDDDDD[DF]",
                    example="粤B12345D",
                    description="new-energy large vehicle: 5 digits then D or F",
                    letters=CN_LETTERS,
                ),
                PlateFormat(
                    "cn-public-security",
                    # Last: a read as near to an ordinary plate (0 for the office
                    # letter, D being far more common) is taken as one.
                    "P[O]AAAAA",
                    example="粤OA1234",
                    description="public-security vehicle: office letter O + 5 letters/digits",
                    letters=CN_LETTERS,
                ),
            ),
        ),
        "us": RegionProfile(
            "us",
            "United States: common state serial formats, any 5-8 characters otherwise",
            # The serials most states use, then single states' standard passenger serials,
            # most populous state first (on a tie, correct() takes the earlier format),
            # taken from the published state formats, not from any photo set. Formats
            # with a run of five or more digits (Illinois A12-3456, Connecticut AB-12345)
            # are left to the fallbacks: phone numbers and camera stamps read as such
            # runs, and a format bonus for them picked those over the plate (on
            # openalpr-us Illinois' cost 5 photos, Connecticut's 9).
            (
                PlateFormat("us-3l4d", "LLLDDDD", "ABC1234", "3 letters + 4 digits", breaks=(3,)),
                PlateFormat("us-1d3l3d", "DLLLDDD", "7XYZ042", "digit + 3 letters + 3 digits"),
                PlateFormat("us-3l3d", "LLLDDD", "ABC123", "3 letters + 3 digits", breaks=(3,)),
                PlateFormat("us-3d3l", "DDDLLL", "123ABC", "3 digits + 3 letters", breaks=(3,)),
                PlateFormat("us-fl", "LLLLDD", "ABCD12", "Florida: ABC D12", breaks=(3,)),
                PlateFormat("us-nj", "LDDLLL", "A12BCD", "New Jersey: A12-BCD", breaks=(3,)),
                PlateFormat("us-ma", "DLLDDD", "1AB234", "Massachusetts: 1AB 234", breaks=(3,)),
                PlateFormat(
                    "us-in", "DDDDLLL", "1234ABC", "Indiana, Kansas: 1234 ABC", breaks=(4,)
                ),
                PlateFormat("us-mo", "LLDLDL", "AB1C2D", "Missouri: AB1 C2D", breaks=(3,)),
                PlateFormat("us-md", "DLLDDDD", "1AB2345", "Maryland: 1AB 2345", breaks=(3,)),
                PlateFormat("us-ar", "LLLDDL", "ABC12D", "Arkansas: ABC 12D", breaks=(3,)),
                # No break for DC: a left-out third character would turn Connecticut's
                # AB-12345 (AU41257 on openalpr-us) into a DC serial.
                PlateFormat("us-dc", "LLDDDD", "AB1234", "District of Columbia: AB-1234"),
                *_alnum_fallbacks("us", range(5, 9)),
            ),
        ),
        "eu": RegionProfile(
            "eu",
            "Europe: French, Italian, Spanish, UK, Dutch and German layouts, "
            "any 5-8 characters otherwise",
            (
                PlateFormat(
                    "fr",
                    "LLDDDLL",
                    "AB123CD",
                    "France (SIV): AB-123-CD",
                    letters=LATIN_LETTERS.translate(str.maketrans("", "", "IOU")),
                    breaks=(2, 5),
                ),
                PlateFormat(
                    "it",
                    "LLDDDLL",
                    "AB123CD",
                    "Italy: AB 123CD",
                    letters=LATIN_LETTERS.translate(str.maketrans("", "", "IOQU")),
                    breaks=(2,),
                ),
                PlateFormat(
                    "es", "DDDDLLL", "1234BCD", "Spain: 1234 BCD", letters=_ES_LETTERS, breaks=(4,)
                ),
                PlateFormat(
                    "uk",
                    "LLDDLLL",
                    "AB12CDE",
                    "United Kingdom: AB12 CDE",
                    letters=LATIN_LETTERS.translate(str.maketrans("", "", "IQ")),
                    breaks=(4,),
                ),
                *_dutch_formats(),
                *_german_formats(),
                *_alnum_fallbacks("eu", range(5, 9)),
            ),
        ),
        "br": RegionProfile(
            "br",
            "Brazil: Mercosul and the older national layout",
            (
                PlateFormat("br-mercosul", "LLLDLDD", "ABC1D23", "Mercosul"),
                PlateFormat("br-old", "LLLDDDD", "ABC1234", "pre-Mercosul: ABC-1234", breaks=(3,)),
            ),
        ),
        "generic": RegionProfile(
            "generic",
            "Any region: 2-10 letters and digits",
            _alnum_fallbacks("generic", range(2, 11)),
        ),
    }
)

#: Names accepted by :func:`profile`.
REGION_NAMES: tuple[str, ...] = tuple(PROFILES)


def profile(name: str) -> RegionProfile:
    """The region profile called ``name`` (case-insensitive).

    Raises ValueError naming the valid names when there is none.
    """
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"unknown plate region {name!r}; valid regions: {', '.join(REGION_NAMES)}"
        ) from None


def _as_profile(region: RegionProfile | str) -> RegionProfile:
    return region if isinstance(region, RegionProfile) else profile(region)


def validate(plate: str, region: RegionProfile | str) -> PlateFormat | None:
    """The first format of ``region`` that ``plate`` fits as read, or None.

    The plate is normalized first, so ``"abc-1234"`` fits like ``"ABC1234"``.
    """
    text = normalize(plate)
    return next((fmt for fmt in _as_profile(region).formats if fmt.fits(text)), None)


def correct(
    text: str,
    region: RegionProfile | str,
    *,
    max_corrections: int = MAX_LOOK_ALIKE_SUBSTITUTIONS,
) -> CorrectedPlate | None:
    """Fit an OCR read to the region's formats by swapping look-alikes slot by slot.

    In a letter slot a digit becomes its look-alike letter, in a digit slot a letter
    becomes its look-alike digit (see ``LOOK_ALIKE_GROUPS``; the format's alphabet
    decides, so on a Chinese plate a letter slot read "0" becomes "D", not "O"). Among
    the specific formats of the read's length, the one needing the fewest changes (at
    most ``max_corrections``) wins, earlier formats on a tie. A fallback format accepts
    nearly any read as it stands, so when one does, a specific format is preferred only
    if it needs at most ``MAX_CORRECTIONS_OVER_FALLBACK`` change: ``ABC1Z34`` becomes
    ``ABC1234`` but the vanity plate ``GO2BIG`` is not turned into ``602BIG``.
    Returns None when no format fits.
    """
    read = normalize(text)
    specific: CorrectedPlate | None = None
    fallback: CorrectedPlate | None = None
    for fmt in _as_profile(region).formats:
        fitted = fmt.corrected(read)
        if fitted is None or fitted[1] > max_corrections:
            continue
        best = fallback if fmt.fallback else specific
        if best is None or fitted[1] < best.corrections:
            candidate = CorrectedPlate(fitted[0], fmt, fitted[1], read)
            if fmt.fallback:
                fallback = candidate
            else:
                specific = candidate
    if specific is None:
        return fallback
    if fallback is None or specific.corrections <= MAX_CORRECTIONS_OVER_FALLBACK:
        return specific
    return fallback


def without_break_character(text: str, region: RegionProfile | str) -> list[str]:
    """Readings of ``text`` with one character left out where a specific format's
    character groups meet (see ``PlateFormat.breaks``), for the formats they then fit
    as they stand.

    States put an emblem between the groups (Missouri's, Florida's orange, Texas' star),
    and OCR sometimes reads it as a letter: "SH0 R7X" comes out as ``SH0LR7X``.
    """
    read = normalize(text)
    found: list[str] = []
    for fmt in _as_profile(region).formats:
        if fmt.fallback or fmt.length != len(read) - 1:
            continue
        for at in fmt.breaks:
            shorter = read[:at] + read[at + 1 :]
            if fmt.fits(shorter) and shorter not in found:
                found.append(shorter)
    return found
