"""Booths as callers of the API: who a request comes from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BoothIdentity:
    """The booth a request comes from (plain data: it outlives the unit's session)."""

    id: str
    name: str
    lot_id: str | None
