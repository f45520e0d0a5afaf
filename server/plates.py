"""Server-side plate normalization (NFKC, upper case, letters and digits only)."""

from __future__ import annotations

import unicodedata


def normalize_plate(text: str) -> str:
    """Return ``text`` NFKC-normalized, upper-cased, with every non-alphanumeric removed.

    CJK characters (e.g. Chinese province prefixes) count as alphanumeric and are kept.
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in folded if ch.isalnum())
