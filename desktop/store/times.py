"""Time values as the store keeps them: fixed-width ISO 8601 text in UTC.

A fixed width (always microseconds, always ``+00:00``) keeps text comparison in SQL
equal to time comparison, which the outbox's ``next_attempt_at <= now`` relies on.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def to_db_time(value: datetime) -> str:
    """Render an aware datetime as fixed-width UTC text; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store needs a UTC offset")
    return value.astimezone(UTC).strftime(_FORMAT)


def from_db_time(text: str) -> datetime:
    """Parse text written by :func:`to_db_time` (or any ISO 8601 with an offset)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
