"""The supervisor PIN: hashed with scrypt for the config file, checked in constant time.

A stored hash reads ``scrypt$n$r$p$salt_b64$hash_b64``; the PIN itself is never stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets

log = logging.getLogger(__name__)

SCHEME = "scrypt"
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
# Bounds on parameters read back from a stored hash, so a hand-edited file cannot make a
# check take minutes or gigabytes.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16
_MAXMEM = 256 * 1024 * 1024


def is_valid_pin(pin: str) -> bool:
    """True when ``pin`` is 4 to 12 ASCII digits."""
    return PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS and pin.isascii() and pin.isdigit()


def _derive(pin: str, salt: bytes, *, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=length
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str) -> str:
    """Hash a PIN of 4-12 digits with scrypt and a random salt; raises ValueError otherwise."""
    if not is_valid_pin(pin):
        raise ValueError(f"a supervisor PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits (0-9)")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(pin, salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, length=HASH_BYTES)
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    power_of_two = n > 1 and n & (n - 1) == 0
    if not (power_of_two and n <= _MAX_N and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        return None
    if not salt or len(expected) != HASH_BYTES:
        return None
    return n, r, p, salt, expected


def verify_pin(pin: str, stored: str | None) -> bool:
    """True when ``pin`` matches the stored hash; False for None or a malformed hash."""
    if stored is None or not isinstance(pin, str):
        return False
    parsed = _parse(stored)
    if parsed is None:
        log.warning("the stored supervisor PIN hash is malformed; no PIN can match it")
        return False
    n, r, p, salt, expected = parsed
    try:
        actual = _derive(pin, salt, n=n, r=r, p=p, length=len(expected))
    except (ValueError, UnicodeEncodeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)
