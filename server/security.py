"""Booth token hashing (tokens are never stored or logged, only their SHA-256)."""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a bearer token (tokens are long random strings)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
