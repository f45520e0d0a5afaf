"""Plate text rules: normalization, matching tiers, region formats and correction."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from desktop.plates import (
    CN_PROVINCES,
    LOOK_ALIKE_GROUPS,
    PROFILES,
    REGION_NAMES,
    MatchTier,
    PlateFormat,
    correct,
    deletion_keys,
    equivalence_key,
    levenshtein,
    match,
    normalize,
    profile,
    validate,
    without_break_character,
)

PLATE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
plates = st.text(alphabet=PLATE_CHARS, min_size=1, max_size=10)
cn_plates = st.builds(lambda p, rest: p + rest, st.sampled_from(CN_PROVINCES), plates)
any_plates = plates | cn_plates
LOOK_ALIKES = {ch: group.replace(ch, "") for group in LOOK_ALIKE_GROUPS for ch in group}


def tier(read: str, listed: str) -> MatchTier | None:
    found = match(read, listed)
    return None if found is None else found.tier


# ------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc-123", "ABC123"),
        (" ab c 1 2 3 ", "ABC123"),
        ("ＡＢＣ１２３", "ABC123"),
        ("京A·12345", "京A12345"),
        ("粤B D12345", "粤BD12345"),
        ("--", ""),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_normalized_output_is_upper_case_letters_and_digits(text: str) -> None:
    out = normalize(text)
    assert all(ch.isalnum() for ch in out)
    assert out == out.upper()


@given(
    any_plates,
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from(["-", " ", "·", "\u3000", "."]))),
    st.lists(st.booleans(), min_size=12, max_size=12),
    st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_normalize_ignores_separators_case_and_full_width(
    plate: str,
    separators: list[tuple[int, str]],
    lower: list[bool],
    wide: list[bool],
) -> None:
    chars = []
    for i, original in enumerate(plate):
        ch = original
        if ch.isascii():
            if lower[i % 12]:
                ch = ch.lower()
            if wide[i % 12]:
                ch = chr(ord(ch) + 0xFEE0)  # full-width form
        chars.append(ch)
    for position, sep in sorted(separators, reverse=True):
        chars.insert(min(position, len(chars)), sep)
    assert normalize("".join(chars)) == plate


# ---------------------------------------------------------------------------- match


def test_identical_plates_match_exactly() -> None:
    found = match("ABC123", "ABC123")
    assert found is not None
    assert found.tier is MatchTier.EXACT
    assert not found.needs_check


@pytest.mark.parametrize(
    ("read", "listed"),
    [("A8C123", "ABC123"), ("ABC1Z3", "ABC123"), ("0BC12S", "OBC125"), ("京A1234S", "京A12345")],
)
def test_up_to_two_look_alikes_are_ocr_equivalent(read: str, listed: str) -> None:
    found = match(read, listed)
    assert found is not None
    assert found.tier is MatchTier.OCR_EQUIVALENT
    assert found.needs_check


def test_three_look_alike_substitutions_are_not_a_match() -> None:
    assert tier("A8C1Z3", "ABC123") is MatchTier.OCR_EQUIVALENT  # 8/B and Z/2
    assert match("A8C1ZS", "ABC125") is None  # 8/B, Z/2 and S/5


@pytest.mark.parametrize(
    ("read", "listed"),
    [
        ("ABC23", "ABC123"),  # missing character
        ("ABC1234", "ABC123"),  # extra character
        ("ABC124", "ABC123"),  # different character
        ("A8C124", "ABC123"),  # different character plus a look-alike
    ],
)
def test_one_edit_is_near(read: str, listed: str) -> None:
    assert tier(read, listed) is MatchTier.NEAR


def test_near_tier_needs_a_long_enough_plate() -> None:
    assert tier("AB13", "AB12") is None
    assert tier("AB1", "AB12") is None
    assert tier("ABC13", "ABC12") is MatchTier.NEAR


def test_two_real_differences_are_not_a_match() -> None:
    assert match("ABC199", "ABC123") is None
    assert match("XYZ123", "ABC123") is None


def test_tier_labels() -> None:
    assert [t.label for t in MatchTier] == ["exact", "ocr_equivalent", "near"]


@given(any_plates)
def test_a_plate_matches_itself_exactly(plate: str) -> None:
    assert tier(plate, plate) is MatchTier.EXACT


@given(any_plates, any_plates)
def test_match_is_symmetric_in_tier(a: str, b: str) -> None:
    assert tier(a, b) == tier(b, a)


@given(plates, st.data())
def test_look_alike_substitutions_are_ocr_equivalent(plate: str, data: st.DataObject) -> None:
    candidates = [i for i, ch in enumerate(plate) if ch in LOOK_ALIKES]
    assume(candidates)
    positions = data.draw(
        st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True)
    )
    chars = list(plate)
    for i in positions:
        chars[i] = data.draw(st.sampled_from(LOOK_ALIKES[plate[i]]))
    read = "".join(chars)
    assert tier(read, plate) is MatchTier.OCR_EQUIVALENT


@given(st.text(alphabet=PLATE_CHARS, min_size=6, max_size=10), st.data())
def test_one_deletion_or_insertion_is_near_or_better(plate: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(plate) - 1))
    deleted = plate[:i] + plate[i + 1 :]
    inserted = plate[:i] + data.draw(st.sampled_from(PLATE_CHARS)) + plate[i:]
    for read in (deleted, inserted):
        found = tier(read, plate)
        assert found is not None
        assert found <= MatchTier.NEAR


@given(st.text(alphabet=PLATE_CHARS, max_size=10), st.data())
def test_deletion_keys_meet_at_edit_distance_one(key: str, data: st.DataObject) -> None:
    edit = data.draw(st.sampled_from(["insert", "delete", "substitute"]))
    if edit != "insert":
        assume(key)
    i = data.draw(st.integers(0, len(key) - (edit != "insert")))
    ch = data.draw(st.sampled_from(PLATE_CHARS))
    other = {
        "insert": key[:i] + ch + key[i:],
        "delete": key[:i] + key[i + 1 :],
        "substitute": key[:i] + ch + key[i + 1 :],
    }[edit]
    assume(levenshtein(key, other) == 1)
    assert deletion_keys(key) & deletion_keys(other)


@given(st.text(alphabet=PLATE_CHARS, max_size=8), st.text(alphabet=PLATE_CHARS, max_size=8))
def test_levenshtein_limit_is_a_lower_bound_cut(a: str, b: str) -> None:
    full = levenshtein(a, b)
    assert levenshtein(b, a) == full
    limited = levenshtein(a, b, limit=1)
    assert limited == full if full <= 1 else limited > 1


def test_equivalence_key_folds_look_alikes() -> None:
    assert equivalence_key("OBC1S5") == equivalence_key("0BC155") == "08C155"


# ------------------------------------------------------------------- region profiles


def test_profile_lookup() -> None:
    assert set(REGION_NAMES) == {"cn", "us", "eu", "br", "generic"}
    assert profile("US") is PROFILES["us"]
    with pytest.raises(ValueError, match=r"'mars'.*br, cn, eu, generic, us|cn, us, eu"):
        profile("mars")


@pytest.mark.parametrize("name", ["cn", "us", "eu", "br", "generic"])
def test_every_format_example_validates(name: str) -> None:
    region = profile(name)
    assert region.description
    for fmt in region.formats:
        assert validate(fmt.example, region) is not None
        assert fmt.fits(fmt.example)


@pytest.mark.parametrize(
    ("region", "plate", "format_name"),
    [
        ("cn", "京A12345", "cn-ordinary"),
        ("cn", "京A·F0236", "cn-ordinary"),
        ("cn", "粤B D12345", "cn-new-energy-small"),
        ("cn", "粤BFA1234", "cn-new-energy-small"),
        ("cn", "京AA12345", "cn-new-energy-small"),
        ("cn", "沪A12345D", "cn-new-energy-large"),
        ("cn", "粤O·A9112", "cn-public-security"),
        ("us", "ABC-1234", "us-3l4d"),
        ("us", "7XYZ042", "us-1d3l3d"),
        ("us", "ABC 123", "us-3l3d"),
        ("us", "AB1 C2D", "us-mo"),
        ("us", "1AB 2345", "us-md"),
        ("us", "GO2BIG", "us-any-6"),
        ("eu", "AB-123-CD", "fr"),
        ("eu", "1234 BCD", "es"),
        ("eu", "AB12 CDE", "uk"),
        ("eu", "M-AB 1234", "de-3l4d"),
        ("eu", "B-A 1", "de-2l1d"),
        ("br", "ABC1D23", "br-mercosul"),
        ("br", "ABC-1234", "br-old"),
        ("generic", "X9", "generic-any-2"),
        ("generic", "ABCDE12345", "generic-any-10"),
    ],
)
def test_valid_plates(region: str, plate: str, format_name: str) -> None:
    found = validate(plate, region)
    assert found is not None
    assert found.name == format_name


@pytest.mark.parametrize(
    ("region", "plate"),
    [
        ("cn", "京I12345"),  # letter I is never used on Chinese plates
        ("cn", "京A1234O"),  # nor O
        ("cn", "XA12345"),  # no province character
        ("cn", "京A1234"),  # too short
        ("cn", "粤BX12345"),  # 8 characters but not a new-energy serial
        ("cn", "ABC1234"),
        ("us", "ABC"),
        ("us", "ABCDEFGHJ"),
        ("us", "京A12345"),
        ("eu", "A1"),
        ("eu", "ABCDEFGHJ"),  # longer than any European layout
        ("br", "AB12345"),
        ("br", "ABCD123"),
        ("generic", "A"),
        ("generic", "ABCDEFGHIJK"),
        ("generic", ""),
    ],
)
def test_invalid_plates(region: str, plate: str) -> None:
    assert validate(plate, region) is None


def test_plate_format_rejects_unknown_slots_and_bad_examples() -> None:
    with pytest.raises(ValueError, match="unknown slot class"):
        PlateFormat("bad", "LLX", "ABC")
    with pytest.raises(ValueError, match="does not fit"):
        PlateFormat("bad", "LLD", "ABC")
    fmt = PlateFormat("set", "L[XY]D", "AX1")
    assert fmt.length == 3
    assert not fmt.fits("AZ1")
    assert fmt.regex.fullmatch("BY2")


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("SH0LR7X", ["SH0R7X"]),  # Missouri AB1 C2D, its emblem read as L
        ("ABC-X1234", ["ABC1234"]),  # three letters, four digits
        ("1234XABC", ["1234ABC"]),  # Indiana: the groups meet after four characters
        ("AB-X1234", ["ABX234"]),  # three letters + 3 digits
        ("AU41257", []),  # Connecticut's AB-12345: DC's AB-1234 has no break to use
        ("SHL0R7X", []),  # the extra character is not where the groups meet
        ("K179658", []),  # an old serial: "K17658" fits no layout as read
        ("BIGDOG", []),
    ],
)
def test_a_character_where_format_groups_meet_can_be_left_out(
    read: str, expected: list[str]
) -> None:
    assert without_break_character(read, "us") == expected


@pytest.mark.parametrize(
    ("read", "region", "expected"),
    [
        ("1234XBCD", "eu", ["1234BCD"]),  # Spain 1234 BCD, the gap read as X
        ("AB12XCDE", "eu", ["AB12CDE"]),  # United Kingdom AB12 CDE
        ("AB1123CD", "eu", ["AB123CD", "AB112CD"]),  # France AB-123-CD: either dash
        ("BDF12XG", "eu", ["BDF12G"]),  # Netherlands BDF-12-G, its second dash read as X
        ("ABCI1234", "br", ["ABC1234"]),  # Brazil's older ABC-1234, its dash read as I
        ("ABC1XD23", "br", []),  # Mercosul ABC1D23 has no gap
    ],
)
def test_european_and_brazilian_group_breaks(read: str, region: str, expected: list[str]) -> None:
    assert without_break_character(read, region) == expected


def test_regions_without_group_breaks_leave_every_character() -> None:
    assert without_break_character("京A1X2345", "cn") == []
    with pytest.raises(ValueError, match="breaks"):
        PlateFormat("bad", "LLD", "AB1", breaks=(3,))


# -------------------------------------------------------------------------- correct


@pytest.mark.parametrize(
    ("region", "read", "expected", "format_name", "changes"),
    [
        ("us", "ABC1Z34", "ABC1234", "us-3l4d", 1),  # Z in a digit slot -> 2
        ("us", "A8C1234", "ABC1234", "us-3l4d", 1),  # 8 in a letter slot -> B
        ("us", "7XYZ04Z", "7XYZ042", "us-1d3l3d", 1),
        ("us", "CK0AIF", "CK0A1F", "us-mo", 1),  # Missouri AB1 C2D: I in a digit slot -> 1
        ("us", "DK225S", "DK2Z5S", "us-mo", 1),
        ("us", "6HP99S", "6HP995", "us-ma", 1),
        ("us", "abc-1s3", "ABC153", "us-3l3d", 1),
        ("us", "ABC1234", "ABC1234", "us-3l4d", 0),
        ("br", "A8C1D23", "ABC1D23", "br-mercosul", 1),
        ("br", "ABC1O23", "ABC1O23", "br-mercosul", 0),  # Mercosul letter slot: O fits
        ("br", "ABCI234", "ABC1234", "br-old", 1),
        ("cn", "京812345", "京B12345", "cn-ordinary", 1),
        ("cn", "京01234O", "京D12340", "cn-ordinary", 2),  # no O on Chinese plates...
        ("cn", "粤OA91I2", "粤OA9112", "cn-public-security", 1),  # ...but public security's
        ("cn", "粤0A9112", "粤DA9112", "cn-ordinary", 1),  # D is the likelier office letter
        ("cn", "粤B0I2345", "粤BD12345", "cn-new-energy-small", 2),
        ("cn", "粤B1234SD", "粤B12345D", "cn-new-energy-large", 1),
        ("eu", "AB123C0", "AB123CD", "fr", 1),  # French plates have no O either
        ("eu", "1234BC0", "1234BCD", "es", 1),
        ("generic", "A8C1Z3", "A8C1Z3", "generic-any-6", 0),
    ],
)
def test_correction(region: str, read: str, expected: str, format_name: str, changes: int) -> None:
    fixed = correct(read, region)
    assert fixed is not None
    assert (fixed.text, fixed.format.name, fixed.corrections) == (expected, format_name, changes)
    assert fixed.changed == (changes > 0)
    assert fixed.original == normalize(read)


def test_a_serial_letter_that_fits_its_slot_is_kept() -> None:
    # Chinese ordinary serials may hold letters, so "S" is a valid read as it stands;
    # the matcher still finds 京A12345 through the OCR-equivalent tier.
    fixed = correct("京A1234S", "cn")
    assert fixed is not None
    assert fixed.text == "京A1234S"
    assert tier(fixed.text, "京A12345") is MatchTier.OCR_EQUIVALENT


def test_a_fallback_format_does_not_block_a_specific_correction() -> None:
    # "ABC1Z34" fits the any-7-characters fallback as read, but one look-alike swap
    # makes it a standard serial, and that is the better guess.
    assert validate("ABC1Z34", "us") is not None
    fixed = correct("ABC1Z34", "us")
    assert fixed is not None
    assert not fixed.format.fallback


def test_a_vanity_plate_is_left_alone() -> None:
    # Two swaps would make it Missouri's "BI6D0G" or New Jersey's "B16DOG"; a valid read
    # that needs more than one swap to reach a standard serial is more likely a vanity
    # plate. (Which of a one-swap serial and the read as it stands is likelier is for
    # the recognizer's probabilities to say: see recognition/test_formats.py.)
    fixed = correct("BIGDOG", "us")
    assert fixed is not None
    assert (fixed.text, fixed.corrections) == ("BIGDOG", 0)
    assert fixed.format.fallback


@pytest.mark.parametrize(
    ("region", "read"),
    [
        ("br", "ABCDEFG"),  # E, F, G have no look-alike digit
        ("br", "A8CI23S"),  # would need three swaps
        ("cn", "XA12345"),  # the province character cannot be corrected
        ("us", "AB"),
        ("generic", "A"),
    ],
)
def test_no_correction_possible(region: str, read: str) -> None:
    assert correct(read, region) is None


def test_more_corrections_can_be_allowed() -> None:
    assert correct("A8CI23S", "br") is None
    fixed = correct("A8CI23S", "br", max_corrections=3)
    assert fixed is not None
    assert (fixed.text, fixed.corrections) == ("ABC1235", 3)


@given(st.sampled_from(REGION_NAMES), any_plates | st.text(max_size=12))
def test_corrected_output_always_validates(name: str, read: str) -> None:
    fixed = correct(read, name)
    if fixed is None:
        return
    assert fixed.format.fits(fixed.text)
    assert validate(fixed.text, name) is not None
    assert fixed.corrections == sum(a != b for a, b in zip(fixed.text, fixed.original, strict=True))
    assert tier(fixed.text, fixed.original) in {MatchTier.EXACT, MatchTier.OCR_EQUIVALENT}
