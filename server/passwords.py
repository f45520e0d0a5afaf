"""Scrypt hashes of supervisor passwords and PINs (``scrypt$n$r$p$salt_b64$hash_b64``).

The PIN format is the one the booth caches and checks offline
(``desktop/supervisor_pin.py``): N=2**14, r=8, p=1, a 16-byte salt, a 32-byte hash,
standard base64. Passwords use the same format with N=2**15. Parameters are read back
from the stored string, bounded so a tampered row cannot make a check take minutes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
PASSWORD_N = 2**15
PIN_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
PASSWORD_MIN_LENGTH = 8
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16
_MAXMEM = 256 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(secret: str, salt: bytes, *, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=length
    )


def make_hash(secret: str, *, n: int) -> str:
    """Hash ``secret`` with scrypt (cost ``n``) and a random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(secret, salt, n=n, r=SCRYPT_R, p=SCRYPT_P, length=HASH_BYTES)
    return f"{SCHEME}${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def is_valid_pin(pin: str) -> bool:
    """True when ``pin`` is 4 to 12 ASCII digits (what the booth accepts)."""
    return PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS and pin.isascii() and pin.isdigit()


def hash_pin(pin: str) -> str:
    """The offline PIN hash a booth caches; ValueError unless 4-12 digits."""
    if not is_valid_pin(pin):
        raise ValueError(f"a supervisor PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits (0-9)")
    return make_hash(pin, n=PIN_N)


def hash_password(password: str) -> str:
    """The stored hash of a supervisor password; ValueError when shorter than 8."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValueError(f"a password has at least {PASSWORD_MIN_LENGTH} characters")
    return make_hash(password, n=PASSWORD_N)


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


def verify(secret: str, stored: str) -> bool:
    """True when ``secret`` matches ``stored``; False for a malformed hash. Constant time."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    try:
        actual = _derive(secret, salt, n=n, r=r, p=p, length=len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_password_hash() -> str:
    """A hash checked for unknown users, so they cost the same time as known ones."""
    return make_hash(secrets.token_urlsafe(16), n=PASSWORD_N)
