"""A scripted, screenless run of the recovery method across two booths.

Used by ``main.py --demo`` until the booth screen exists: the reference server runs on
127.0.0.1 with seeded data, and two booth cores process a series of sightings,
printing each decision. The server is reached only over HTTP; this module knows
nothing of its code, only a handle to stop and restart it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from desktop.booth import BoothService
from desktop.config import BoothConfig
from desktop.domain import OutcomeKind, PaymentMethod, RecoveryNotice
from desktop.plates import MatchTier

Printer = Callable[[str], None]


class ServerHandle(Protocol):
    """What the demo needs from the server it runs against."""

    url: str

    def stop(self) -> None: ...

    def start(self) -> None: ...


@dataclass(frozen=True)
class DemoBooth:
    booth_id: str
    token: str
    lane: str


def format_amount(cents: int, currency: str) -> str:
    """``1850, "USD"`` -> ``"18.50 USD"``."""
    return f"{cents // 100}.{cents % 100:02d} {currency}"


def describe_match(notice: RecoveryNotice) -> str:
    """The match tier in words an attendant understands."""
    if notice.tier is MatchTier.EXACT:
        return "exact match"
    kind = (
        "look-alike characters" if notice.tier is MatchTier.OCR_EQUIVALENT else "one character off"
    )
    return f"check the plate: read {notice.read.plate}, listed {notice.listed_plate} ({kind})"


def describe_source(notice: RecoveryNotice) -> str:
    """Where the data came from and how fresh it is."""
    if notice.source == "server":
        return "from the server"
    if notice.cache_age_s is None:
        return "from the cache (never synced)"
    return f"from the cache, synced {notice.cache_age_s:.0f} s ago"


def describe_decision(notice: RecoveryNotice | None) -> str:
    """One line for a decision: the notice with amount, tier and source, or none."""
    if notice is None:
        return "no notice"
    sessions = len(notice.sessions)
    return (
        f"NOTICE: owes {format_amount(notice.unpaid_cents, notice.currency)} "
        f"for {sessions} unpaid session{'s' if sessions != 1 else ''}; "
        f"{describe_match(notice)}; {describe_source(notice)}"
    )


class HeadlessDemo:
    """Two booths against one server, driven through a fixed script."""

    def __init__(
        self, server: ServerHandle, booths: list[DemoBooth], data_dir: Path, out: Printer = print
    ) -> None:
        self._server = server
        self._out = out
        self.booths: dict[str, BoothService] = {}
        self._lanes: dict[str, str] = {}
        for booth in booths:
            config = BoothConfig(
                server={"url": server.url, "connect_timeout_s": 1.0, "read_timeout_s": 3.0},
                booth={"id": booth.booth_id, "token": booth.token, "attendant": "demo"},
                recovery={"history_deadline_s": 1.0, "notice_cooldown_s": 60},
                sync={"interval_s": 3600},
                data_dir=data_dir / booth.booth_id,
            )
            self.booths[booth.booth_id] = BoothService.from_config(config)
            self._lanes[booth.booth_id] = booth.lane

    def close(self) -> None:
        for booth in self.booths.values():
            booth.stop()

    def say(self, text: str) -> None:
        self._out(text)

    def sync(self, booth_id: str) -> None:
        status = self.booths[booth_id].sync_now()
        state = "online" if status.online else f"OFFLINE ({status.last_error})"
        entries = status.cache_entries
        self.say(
            f"  [{booth_id}] sync: {state}; cache {entries} entr{'y' if entries == 1 else 'ies'}"
            f" up to change {status.cursor}; {status.outbox_pending} waiting in the outbox"
        )

    def sight(self, booth_id: str, text: str) -> RecoveryNotice | None:
        lane = self._lanes[booth_id]
        notice = self.booths[booth_id].check_plate(text, lane, source="camera", confidence=0.9)
        self.say(f"  [{booth_id} {lane}] sees {text!r}: {describe_decision(notice)}")
        return notice

    def settle(
        self, booth_id: str, notice: RecoveryNotice, kind: OutcomeKind, method: PaymentMethod | None
    ) -> None:
        outcome = self.booths[booth_id].record_outcome(notice, kind, method=method)
        if kind is OutcomeKind.PAID and method is not None:
            what = f"paid {format_amount(outcome.amount_cents, notice.currency)} by {method.value}"
        else:
            what = kind.value.replace("_", " ")
        self.say(f"  [{booth_id}] outcome: {what} (recorded, queued for the server)")

    def show_server_file(self, booth_id: str, plate: str) -> None:
        """What the server itself now holds for a plate."""
        history = self.booths[booth_id].client.history(plate)
        states = ", ".join(f"{s.id}: {s.status}" for s in history.sessions) or "none"
        self.say(
            f"  [server] {plate} owes {format_amount(history.unpaid_cents, history.currency)};"
            f" sessions {states}"
        )

    def run(self) -> None:
        """Play the script; each step prints what the booth decided."""
        a, b = list(self.booths)
        self.say("1. Both booths sync their blacklist cache from the server.")
        self.sync(a)
        self.sync(b)
        self.say("2. First sighting of ABC123 at booth A: the server finds arrears and lists it.")
        first = self.sight(a, "ABC 123")
        if first is not None:
            self.settle(a, first, OutcomeKind.LEFT_UNPAID, None)
        self.sync(a)
        self.say("3. A vehicle with only paid sessions: no notice.")
        self.sight(a, "KLM-4455")
        self.say("4. Booth B syncs and sees the same car, misread as A8C123.")
        self.sync(b)
        second = self.sight(b, "A8C123")
        if second is not None:
            self.settle(b, second, OutcomeKind.PAID, PaymentMethod.CASH)
        self.sync(b)
        self.sync(a)
        self.say("5. ABC123 paid: it is gone from both caches and raises nothing now.")
        self.sight(a, "ABC123")
        self.say("6. The server goes down. Booth B decides from its cache alone.")
        self._server.stop()
        offline = self.sight(b, "PQR78")
        if offline is not None:
            self.settle(b, offline, OutcomeKind.PAID, PaymentMethod.CARD)
        self.sync(b)
        self.say("7. The server is back: the queued payment is delivered exactly once.")
        self._server.start()
        self.sync(b)
        self.sync(a)
        self.show_server_file(a, "PQR789")
        self.sight(a, "PQR789")
