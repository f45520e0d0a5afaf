"""The shift report against a real booth core and the real reference server on 127.0.0.1.

Outcomes are recorded through the booth exactly as the notice dialog records them; the
report's figures are then read back from the booth's SQLite file.
"""

from __future__ import annotations

from datetime import timedelta

from desktop.booth import BoothService
from desktop.domain import OutcomeKind, PaymentMethod, RecoveryNotice, utc_now
from desktop.shift_report import ShiftReport, attendants_between, reports_between

LANE = "Exit 1"


def _notice(booth: BoothService, plate: str, unpaid_cents: int) -> RecoveryNotice:
    notice = booth.check_plate(plate, LANE)
    assert notice is not None, plate
    assert notice.unpaid_cents == unpaid_cents
    return notice


def _alice_shift(booth: BoothService) -> None:
    """Cash 18.50 for ABC123, card 9.00 for PQR789, a dispute over B0LT123's 15.00."""
    booth.sync_now()
    abc = _notice(booth, "ABC123", 1850)
    booth.record_outcome(abc, OutcomeKind.PAID, method=PaymentMethod.CASH)
    pqr = _notice(booth, "PQR789", 900)
    booth.record_outcome(pqr, OutcomeKind.PAID, method=PaymentMethod.CARD)
    bolt = _notice(booth, "B0LT123", 1500)
    booth.record_outcome(bolt, OutcomeKind.DISPUTED, reason="says it was paid")


def test_totals_equal_the_outcomes_recorded(booth: BoothService) -> None:
    _alice_shift(booth)

    report = ShiftReport.build(booth.store, "alice", booth_id=booth.booth_id)

    assert (report.cash_cents, report.card_cents, report.qr_cents) == (1850, 900, 0)
    assert report.total_cents == 2750
    assert report.currency == "USD"
    assert report.booth_id == "booth-a"
    assert report.notices_raised == 3
    assert report.outcomes == {OutcomeKind.PAID: 2, OutcomeKind.DISPUTED: 1}
    assert (report.disputes, report.disputed_cents) == (1, 1500)
    assert (report.waivers, report.waived_cents) == (0, 0)
    assert (report.unpaid_exits, report.unpaid_cents) == (0, 0)
    assert report.start <= report.end


def test_other_attendants_outcomes_are_not_counted(booth: BoothService) -> None:
    _alice_shift(booth)
    booth.recovery.attendant = "bob"  # shift change at the same booth
    tuv = _notice(booth, "TUV246", 1900)
    booth.record_outcome(tuv, OutcomeKind.PAID, method=PaymentMethod.QR)
    wxy = _notice(booth, "WXY135", 2500)
    booth.record_outcome(wxy, OutcomeKind.LEFT_UNPAID)

    alice = ShiftReport.build(booth.store, "alice")
    bob = ShiftReport.build(booth.store, "bob")

    assert (alice.total_cents, alice.qr_cents, alice.unpaid_exits) == (2750, 0, 0)
    assert alice.notices_raised == 3
    assert (bob.qr_cents, bob.cash_cents, bob.total_cents) == (1900, 0, 1900)
    assert (bob.unpaid_exits, bob.unpaid_cents, bob.disputes) == (1, 2500, 0)
    assert bob.notices_raised == 2
    day_start, now = utc_now() - timedelta(days=1), utc_now()
    assert attendants_between(booth.store, day_start, now) == ["alice", "bob"]
    per_attendant = reports_between(booth.store, day_start, now)
    assert [(r.attendant, r.total_cents) for r in per_attendant] == [
        ("alice", 2750),
        ("bob", 1900),
    ]


def test_a_time_window_excludes_outcomes_outside_it(booth: BoothService) -> None:
    booth.sync_now()
    abc = _notice(booth, "ABC123", 1850)
    booth.record_outcome(abc, OutcomeKind.PAID, method=PaymentMethod.CASH)
    between = utc_now()
    pqr = _notice(booth, "PQR789", 900)
    booth.record_outcome(pqr, OutcomeKind.PAID, method=PaymentMethod.CARD)
    after = utc_now()

    first_half = ShiftReport.build(
        booth.store, "alice", start=between - timedelta(hours=1), end=between
    )
    second_half = ShiftReport.build(booth.store, "alice", start=between, end=after)
    yesterday = ShiftReport.build(
        booth.store, "alice", start=between - timedelta(days=2), end=between - timedelta(days=1)
    )

    assert (first_half.cash_cents, first_half.card_cents, first_half.notices_raised) == (1850, 0, 1)
    assert (second_half.cash_cents, second_half.card_cents, second_half.notices_raised) == (
        0,
        900,
        1,
    )
    assert (yesterday.total_cents, yesterday.outcome_count, yesterday.notices_raised) == (0, 0, 0)


def test_default_shift_starts_at_the_attendants_first_notice_today(booth: BoothService) -> None:
    before = utc_now()
    _alice_shift(booth)

    report = ShiftReport.build(booth.store, "alice")
    nobody = ShiftReport.build(booth.store, "carol")

    assert before <= report.start <= utc_now()
    assert report.total_cents == 2750
    assert (nobody.total_cents, nobody.outcome_count) == (0, 0)
    # carol has no outcome: her shift covers the day, but alice's notices are not hers
    assert nobody.notices_raised == 0
