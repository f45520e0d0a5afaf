"""Reconnect delays: exponential backoff with a cap."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before the n-th consecutive retry: ``initial_s * factor**n``, at most ``max_s``.

    Stateless; the caller counts consecutive failures and resets the count once a
    connection has been stable for a while.
    """

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0

    def __post_init__(self) -> None:
        if self.initial_s < 0 or self.factor < 1 or self.max_s < self.initial_s:
            raise ValueError(f"invalid backoff {self}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
        if attempt <= 0:
            return self.initial_s
        # Cap the exponent so a camera that is down for days cannot overflow the float.
        return min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
