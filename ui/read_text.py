"""A read and its decision in words, shared by the lane captions and the reads list."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from desktop.domain import Outcome, OutcomeKind, PaymentMethod, PlateRead
from ui.bridge import ReadDecision
from ui.format import format_amount

# Values of the ``role`` dynamic property that the style sheet targets.
ROLE_DANGER = "danger"
ROLE_OK = "ok"
ROLE_WARNING = "warning"
ROLE_MUTED = "muted"


def tr(text: str) -> str:
    """Translate ``text`` in the "ReadText" context."""
    return QCoreApplication.translate("ReadText", text)


def format_confidence(read: PlateRead) -> str:
    """``"97%"`` for a camera read, ``"typed"`` for a plate the attendant entered."""
    if read.source == "manual":
        return tr("typed")
    return f"{round(read.confidence * 100)}%"


def describe_decision(decision: ReadDecision) -> tuple[str, str]:
    """The decision in words and its role: "owes 18.50 USD" (danger), "clear" (ok), error."""
    if decision.error:
        return tr("error: {error}").format(error=decision.error), ROLE_WARNING
    if decision.notice is not None:
        amount = format_amount(decision.notice.unpaid_cents, decision.notice.currency)
        return tr("owes {amount}").format(amount=amount), ROLE_DANGER
    return tr("clear"), ROLE_OK


def describe_outcome(outcome: Outcome, currency: str) -> str:
    """What the attendant recorded: "paid 18.50 USD (cash)", "disputed", ..."""
    if outcome.kind is OutcomeKind.PAID:
        amount = format_amount(outcome.amount_cents, currency)
        if outcome.method is not None:
            methods = {
                PaymentMethod.CASH: tr("cash"),
                PaymentMethod.CARD: tr("card"),
                PaymentMethod.QR: tr("QR"),
            }
            method = methods.get(outcome.method, str(outcome.method))
            return tr("paid {amount} ({method})").format(amount=amount, method=method)
        return tr("paid {amount}").format(amount=amount)
    words = {
        OutcomeKind.DISPUTED: tr("disputed"),
        OutcomeKind.WAIVED: tr("waived"),
        OutcomeKind.LEFT_UNPAID: tr("left unpaid"),
    }
    return words.get(outcome.kind, str(outcome.kind))
