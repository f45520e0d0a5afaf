"""The supervisor PIN: hashed with a salt, checked exactly, malformed hashes never match."""

from __future__ import annotations

import pytest

from desktop.supervisor_pin import hash_pin, verify_pin


def test_the_right_pin_matches_and_a_wrong_one_does_not():
    stored = hash_pin("4711")
    assert verify_pin("4711", stored)
    assert not verify_pin("4712", stored)
    assert not verify_pin("47110", stored)
    assert not verify_pin("", stored)


def test_the_hash_names_its_parameters_and_never_holds_the_pin():
    stored = hash_pin("123456789012")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert salt and digest
    assert "123456789012" not in stored


def test_each_hash_has_its_own_salt():
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second
    assert verify_pin("2468", first)
    assert verify_pin("2468", second)


@pytest.mark.parametrize("pin", ["", "123", "1234567890123", "12a4", "12 34", "١٢٣٤", "-1234"])
def test_a_pin_that_is_not_4_to_12_digits_is_refused(pin: str):
    with pytest.raises(ValueError, match="4 to 12 digits"):
        hash_pin(pin)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "4711",
        "bcrypt$16384$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",
        "scrypt$16384$8$1$c2FsdA==",
        "scrypt$abc$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",
        "scrypt$16384$8$1$not base64!$aGFzaGhhc2hoYXNoaGFzaA==",
        "scrypt$1000$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",
        "scrypt$1073741824$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",
    ],
)
def test_a_missing_or_malformed_hash_matches_no_pin(stored: str | None):
    assert not verify_pin("4711", stored)


def test_a_hash_with_a_truncated_digest_matches_nothing():
    stored = hash_pin("4711")
    assert not verify_pin("4711", stored[:-8])
