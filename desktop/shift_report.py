"""The shift report: what one attendant's shift brought in, for the cash-up.

Figures come from the booth's own store (SQL sums over outcomes and notices), never
from the server: the report is what this booth recorded, delivered or not.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from desktop.domain import OutcomeKind, PaymentMethod, utc_now
from desktop.store import Records, Store

logger = logging.getLogger(__name__)

DEFAULT_CURRENCY = "USD"

ReportSource = Store | Records


def _records(source: ReportSource) -> Records:
    return source.records if isinstance(source, Store) else source


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start and end (last microsecond) of ``day`` in the booth's local time zone."""
    start = datetime.combine(day, time.min).astimezone()
    end = datetime.combine(day + timedelta(days=1), time.min).astimezone()
    return start, end - timedelta(microseconds=1)


@dataclass(frozen=True)
class ShiftReport:
    """One attendant's figures for one shift (``start`` to ``end``, inclusive).

    Amounts are in cents of ``currency``. ``collected_*`` is money taken by payment
    method; ``waived_cents``, ``disputed_cents`` and ``unpaid_cents`` are what the
    notices of those outcomes asked for.
    """

    attendant: str
    start: datetime
    end: datetime
    booth_id: str = ""
    currency: str = DEFAULT_CURRENCY
    notices_raised: int = 0
    outcomes: dict[OutcomeKind, int] = field(default_factory=dict)
    collected: dict[PaymentMethod, int] = field(default_factory=dict)
    waived_cents: int = 0
    disputed_cents: int = 0
    unpaid_cents: int = 0

    @property
    def paid_count(self) -> int:
        return self.outcomes.get(OutcomeKind.PAID, 0)

    @property
    def waivers(self) -> int:
        return self.outcomes.get(OutcomeKind.WAIVED, 0)

    @property
    def disputes(self) -> int:
        return self.outcomes.get(OutcomeKind.DISPUTED, 0)

    @property
    def unpaid_exits(self) -> int:
        return self.outcomes.get(OutcomeKind.LEFT_UNPAID, 0)

    @property
    def outcome_count(self) -> int:
        return sum(self.outcomes.values())

    @property
    def cash_cents(self) -> int:
        return self.collected.get(PaymentMethod.CASH, 0)

    @property
    def card_cents(self) -> int:
        return self.collected.get(PaymentMethod.CARD, 0)

    @property
    def qr_cents(self) -> int:
        return self.collected.get(PaymentMethod.QR, 0)

    @property
    def total_cents(self) -> int:
        """Everything collected: cash + card + QR."""
        return sum(self.collected.values())

    @classmethod
    def build(
        cls,
        source: ReportSource,
        attendant: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        booth_id: str = "",
        clock: Callable[[], datetime] = utc_now,
    ) -> ShiftReport:
        """Compute the report from the store.

        Without ``start``, the shift starts with the attendant's first notice/outcome today (local
        time) or at local midnight when there is none; without ``end``, it ends now.
        """
        records = _records(source)
        now = clock()
        end = now if end is None else end
        if start is None:
            start = default_shift_start(records, attendant, now)
        totals = records.outcome_totals_between(start, end, attendant)
        notices = records.notices_between(start, end, attendant)
        currencies = Counter(notices)
        for total in totals:
            currencies[total.currency] += total.count
        currency = currencies.most_common(1)[0][0] if currencies else DEFAULT_CURRENCY
        if len(currencies) > 1:
            logger.warning(
                "shift report for %s mixes currencies %s; showing %s only",
                attendant,
                sorted(currencies),
                currency,
            )
        outcomes: Counter[OutcomeKind] = Counter()
        collected: Counter[PaymentMethod] = Counter()
        owed: Counter[OutcomeKind] = Counter()
        for total in totals:
            if total.currency != currency:
                continue
            outcomes[total.kind] += total.count
            owed[total.kind] += total.owed_cents
            if total.kind is OutcomeKind.PAID and total.method is not None:
                collected[total.method] += total.amount_cents
        return cls(
            attendant=attendant,
            start=start,
            end=end,
            booth_id=booth_id,
            currency=currency,
            notices_raised=notices.get(currency, 0),
            outcomes=dict(outcomes),
            collected=dict(collected),
            waived_cents=owed[OutcomeKind.WAIVED],
            disputed_cents=owed[OutcomeKind.DISPUTED],
            unpaid_cents=owed[OutcomeKind.LEFT_UNPAID],
        )

    @classmethod
    def for_day(
        cls,
        source: ReportSource,
        attendant: str,
        day: date,
        *,
        booth_id: str = "",
        clock: Callable[[], datetime] = utc_now,
    ) -> ShiftReport:
        """The attendant's shift on ``day`` (local): first outcome to end of day or now."""
        records = _records(source)
        day_start, day_end = local_day_bounds(day)
        end = min(day_end, clock())
        first = records.first_activity_between(day_start, end, attendant)
        return cls.build(
            records,
            attendant,
            start=day_start if first is None else first,
            end=end,
            booth_id=booth_id,
            clock=clock,
        )


def default_shift_start(records: Records, attendant: str, now: datetime) -> datetime:
    """The attendant's first notice/outcome today (local), or local midnight when none."""
    midnight, _ = local_day_bounds(now.astimezone().date())
    first = records.first_activity_between(midnight, now, attendant)
    return midnight if first is None else first


def attendants_between(source: ReportSource, start: datetime, end: datetime) -> list[str]:
    """Attendants with outcomes recorded in ``[start, end]``, sorted."""
    return _records(source).attendants_between(start, end)


def reports_between(
    source: ReportSource, start: datetime, end: datetime, *, booth_id: str = ""
) -> list[ShiftReport]:
    """One report per attendant active in ``[start, end]``."""
    return [
        ShiftReport.build(source, attendant, start=start, end=end, booth_id=booth_id)
        for attendant in attendants_between(source, start, end)
    ]
