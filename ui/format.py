"""Words and numbers as the attendant reads them (translatable through Qt Linguist)."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QCoreApplication

from desktop.domain import RecoveryNotice, UnpaidSession
from desktop.plates import MatchTier


def tr(text: str) -> str:
    """Translate ``text`` in the shared "format" context."""
    return QCoreApplication.translate("format", text)


def format_amount(cents: int, currency: str) -> str:
    """``1850, "USD"`` -> ``"18.50 USD"``."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d} {currency}"


def parse_amount(text: str) -> int | None:
    """``"20"`` or ``"18.5"`` -> cents; None when the text is not an amount."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        return None
    whole, _, fraction = cleaned.partition(".")
    if not whole:
        whole = "0"
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 2:
        return None
    return int(whole) * 100 + int(fraction.ljust(2, "0") or 0)


def describe_match(notice: RecoveryNotice) -> str:
    """The match tier in words: "exact", or "check the plate: read X, listed Y"."""
    if notice.tier is MatchTier.EXACT:
        return tr("exact match")
    return tr("check the plate: read {read}, listed {listed}").format(
        read=notice.read.plate, listed=notice.listed_plate
    )


def describe_source(notice: RecoveryNotice) -> str:
    """Where the data came from and how fresh it is."""
    if notice.source == "server":
        return tr("from the server, just now")
    if notice.cache_age_s is None:
        return tr("from the local cache (never synced)")
    return tr("from the local cache, synced {age} ago").format(age=format_age(notice.cache_age_s))


def format_age(seconds: float) -> str:
    """``75`` -> ``"1 min"``; short, for status texts."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return tr("{n} s").format(n=seconds)
    if seconds < 3600:
        return tr("{n} min").format(n=seconds // 60)
    if seconds < 86400:
        return tr("{n} h").format(n=seconds // 3600)
    return tr("{n} days").format(n=seconds // 86400)


def format_duration(delta: timedelta) -> str:
    """A parking duration: ``"2 h 05 min"`` or ``"35 min"``."""
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return tr("{h} h {m:02d} min").format(h=hours, m=minutes)
    return tr("{m} min").format(m=minutes)


def format_local_time(moment: datetime, *, with_date: bool = False) -> str:
    """A UTC timestamp in the booth's local time."""
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M:%S")


def describe_session(session: UnpaidSession) -> tuple[str, str, str, str]:
    """One unpaid session as table cells: lot, date, duration, fee still owed."""
    duration = (
        format_duration(session.exited_at - session.entered_at)
        if session.exited_at is not None
        else tr("still parked")
    )
    return (
        session.lot_name,
        format_local_time(session.entered_at, with_date=True),
        duration,
        f"{session.unpaid_cents // 100}.{session.unpaid_cents % 100:02d}",
    )
