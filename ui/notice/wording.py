"""What the notice says about an outcome, in the attendant's words (translatable)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from desktop.domain import Outcome, OutcomeKind, PaymentMethod
from ui.format import format_amount, format_local_time


def tr(text: str) -> str:
    """Translate ``text`` in the "notice" context."""
    return QCoreApplication.translate("notice", text)


def method_words(method: PaymentMethod | None) -> str:
    """``PaymentMethod.QR`` -> "QR code"."""
    if method is PaymentMethod.CASH:
        return tr("cash")
    if method is PaymentMethod.CARD:
        return tr("card")
    if method is PaymentMethod.QR:
        return tr("QR code")
    return tr("no method")


def describe_outcome(outcome: Outcome, currency: str) -> str:
    """One line: what was recorded, e.g. "paid 18.50 USD by cash at 14:02:11"."""
    when = format_local_time(outcome.recorded_at)
    if outcome.kind is OutcomeKind.PAID:
        text = tr("paid {amount} by {method}").format(
            amount=format_amount(outcome.amount_cents, currency),
            method=method_words(outcome.method),
        )
    elif outcome.kind is OutcomeKind.DISPUTED:
        text = tr("disputed by the driver ({reason})").format(reason=outcome.reason or "-")
    elif outcome.kind is OutcomeKind.WAIVED:
        text = tr("waived, approved by {supervisor} ({reason})").format(
            supervisor=outcome.approved_by or "-", reason=outcome.reason or "-"
        )
    else:
        text = tr("let through unpaid ({reason})").format(reason=outcome.reason or "-")
    return tr("{what} at {when}").format(what=text, when=when)
