"""The notice's action forms: each collects what its outcome needs and asks for it.

A form never records anything itself: it emits ``submitted(OutcomeRequest)`` when its
confirm button is pressed (click or Ctrl+Enter through the dialog), and the dialog
records the outcome. Confirm buttons take no keyboard focus, so neither Enter nor Space
can press them by accident.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop.domain import OutcomeKind, PaymentMethod, RecoveryNotice
from desktop.plates import normalize
from ui.format import format_amount, parse_amount
from ui.pin_dialog import PinEntry
from ui.roles import scaled_font, set_role

CONFIRM_KEYS = "Ctrl+Enter"
REASON_MAX_CHARS = 200
REFERENCE_MAX_CHARS = 64
REMINDED_REASON = "reminded"


@dataclass(frozen=True)
class OutcomeRequest:
    """An outcome the attendant asked for, before it is recorded."""

    kind: OutcomeKind
    method: PaymentMethod | None = None
    reason: str | None = None
    reference: str | None = None
    change_cents: int | None = None
    approved_by: str | None = None  # a waiver: the supervisor who approved it
    waiver_request_id: uuid.UUID | None = None  # a waiver approved through the server


class ActionForm(QWidget):
    """Base of the forms: an intro line, fields, a message line and a confirm button."""

    submitted = Signal(object)

    def __init__(self, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        self.fields = QFormLayout()
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setContentsMargins(6, 2, 6, 2)
        self.confirm_button: QPushButton | None = None
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.intro)
        self._layout.addLayout(self.fields)
        self._layout.addWidget(self.message)

    def add_confirm(self, text: str, name: str) -> QPushButton:
        """Add the form's confirm button, labelled with its shortcut."""
        button = QPushButton(f"{text} [{CONFIRM_KEYS}]", self)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.setDefault(False)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setFont(scaled_font(button, 1.2, bold=True))
        button.setMinimumHeight(44)
        button.clicked.connect(self.confirm)
        self._layout.addStretch(1)
        self._layout.addWidget(button)
        self.confirm_button = button
        return button

    def first_field(self) -> QWidget | None:
        """The field that gets the focus when the form is shown."""
        return None

    def confirm(self) -> None:
        """Ask for the outcome when the form is complete (overridden)."""

    def say(self, text: str, role: str = "") -> None:
        """Show ``text`` on the form's message line."""
        self.message.setText(text)
        set_role(self.message, role)


def _text_field(parent: QWidget, name: str, max_chars: int, placeholder: str) -> QLineEdit:
    field = QLineEdit(parent)
    field.setObjectName(name)
    field.setMaxLength(max_chars)
    field.setPlaceholderText(placeholder)
    field.setFont(scaled_font(field, 1.3))
    return field


class CashForm(ActionForm):
    """Cash: the amount handed over, the change shown live; confirm when it is enough."""

    def __init__(self, notice: RecoveryNotice, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("Cash: type the amount the driver hands over ({owed} owed).").format(
                owed=format_amount(notice.unpaid_cents, notice.currency)
            ),
            parent,
        )
        self._owed = notice.unpaid_cents
        self._currency = notice.currency
        self.tendered = _text_field(self, "cashTendered", 12, self.tr("e.g. 20.00"))
        self.tendered.textChanged.connect(self._update)
        self.change = QLabel(self)
        self.change.setObjectName("cashChange")
        self.change.setFont(scaled_font(self.change, 1.6, bold=True))
        self.change.setContentsMargins(6, 2, 6, 2)
        self.fields.addRow(self.tr("Handed over"), self.tendered)
        self.fields.addRow(self.tr("Change"), self.change)
        self.add_confirm(self.tr("Cash received"), "confirmCashButton")
        self._update()

    def first_field(self) -> QWidget:
        return self.tendered

    def change_cents(self) -> int | None:
        """The change to give, or None while the amount is missing or not enough."""
        tendered = parse_amount(self.tendered.text())
        if tendered is None or tendered < self._owed:
            return None
        return tendered - self._owed

    def _update(self) -> None:
        text = self.tendered.text()
        tendered = parse_amount(text)
        assert self.confirm_button is not None
        self.confirm_button.setEnabled(tendered is not None and tendered >= self._owed)
        if not text.strip():
            self.change.setText(self.tr("type the amount handed over"))
            set_role(self.change, "muted")
        elif tendered is None:
            self.change.setText(self.tr("{text} is not an amount").format(text=text.strip()))
            set_role(self.change, "warning")
        elif tendered < self._owed:
            self.change.setText(
                self.tr("not enough: {short} short").format(
                    short=format_amount(self._owed - tendered, self._currency)
                )
            )
            set_role(self.change, "warning")
        else:
            self.change.setText(format_amount(tendered - self._owed, self._currency))
            set_role(self.change, "ok")

    def confirm(self) -> None:
        change = self.change_cents()
        if change is None:
            self.say(self.tr("The amount handed over must cover what is owed."), "warning")
            return
        self.submitted.emit(
            OutcomeRequest(OutcomeKind.PAID, PaymentMethod.CASH, change_cents=change)
        )


class CardForm(ActionForm):
    """Card: the card terminal's reference is required."""

    def __init__(self, notice: RecoveryNotice, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("Card: charge {owed} on the card terminal, then type its reference.").format(
                owed=format_amount(notice.unpaid_cents, notice.currency)
            ),
            parent,
        )
        self.reference = _text_field(
            self, "cardReference", REFERENCE_MAX_CHARS, self.tr("reference on the receipt")
        )
        self.reference.textChanged.connect(self._update)
        self.fields.addRow(self.tr("Terminal reference"), self.reference)
        self.add_confirm(self.tr("Card paid"), "confirmCardButton")
        self._update()

    def first_field(self) -> QWidget:
        return self.reference

    def _update(self) -> None:
        assert self.confirm_button is not None
        self.confirm_button.setEnabled(bool(self.reference.text().strip()))

    def confirm(self) -> None:
        reference = self.reference.text().strip()
        if not reference:
            self.say(self.tr("Type the card terminal's reference first."), "warning")
            return
        self.submitted.emit(
            OutcomeRequest(OutcomeKind.PAID, PaymentMethod.CARD, reference=reference)
        )


class DisputeForm(ActionForm):
    """The driver disputes the debt: a reason is required."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("The driver disputes the debt. A supervisor will review it; say why."),
            parent,
        )
        self.reason = _text_field(
            self, "disputeReason", REASON_MAX_CHARS, self.tr("e.g. paid at the machine")
        )
        self.reason.textChanged.connect(self._update)
        self.fields.addRow(self.tr("Reason"), self.reason)
        self.add_confirm(self.tr("Record dispute"), "confirmDisputeButton")
        self._update()

    def first_field(self) -> QWidget:
        return self.reason

    def _update(self) -> None:
        assert self.confirm_button is not None
        self.confirm_button.setEnabled(bool(self.reason.text().strip()))

    def confirm(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.say(self.tr("A dispute needs a reason."), "warning")
            return
        self.submitted.emit(OutcomeRequest(OutcomeKind.DISPUTED, reason=reason))


class LetThroughForm(ActionForm):
    """Let the vehicle through unpaid: a reason, and under must_pay the supervisor's PIN.

    Under remind_only the reason starts as "reminded" (the driver was reminded of the
    debt), so reminding and letting go is this form's key plus Ctrl+Enter.
    """

    def __init__(
        self,
        *,
        needs_pin: bool,
        verify_pin: Callable[[str], bool],
        parent: QWidget | None = None,
    ) -> None:
        intro = (
            self.tr("Letting a vehicle through unpaid needs a reason and the supervisor's PIN.")
            if needs_pin
            else self.tr("Remind the driver of the debt and let them go, or type another reason.")
        )
        super().__init__(intro, parent)
        self.needs_pin = needs_pin
        self.reason = _text_field(
            self, "leaveReason", REASON_MAX_CHARS, self.tr("why the vehicle leaves unpaid")
        )
        self.reason.textChanged.connect(self._update)
        self.fields.addRow(self.tr("Reason"), self.reason)
        self.pin: PinEntry | None = None
        if needs_pin:
            self.pin = PinEntry(verify_pin, self)
            self.pin.setObjectName("leavePin")
            self.pin.field.textChanged.connect(self._update)
            self.pin.verified.connect(self._on_pin)
            self.fields.addRow(self.tr("Supervisor PIN"), self.pin)
        self.add_confirm(self.tr("Let through unpaid"), "confirmLeaveButton")
        if not needs_pin:
            self.reason.setText(REMINDED_REASON)
        set_role(self.confirm_button, "danger")  # type: ignore[arg-type]
        self._reason_at_check = ""
        self._update()

    def first_field(self) -> QWidget:
        return self.reason

    def select_reason(self) -> None:
        """Focus the reason with its text selected, so typing replaces "reminded"."""
        self.reason.setFocus()
        self.reason.selectAll()

    def _update(self) -> None:
        assert self.confirm_button is not None
        ready = bool(self.reason.text().strip())
        if self.pin is not None:
            ready = ready and bool(self.pin.field.text()) and not self.pin.checking
        self.confirm_button.setEnabled(ready)

    def confirm(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.say(self.tr("Letting a vehicle through unpaid needs a reason."), "warning")
            self.reason.setFocus()
            return
        if self.pin is None:
            self.submitted.emit(OutcomeRequest(OutcomeKind.LEFT_UNPAID, reason=reason))
            return
        if self.pin.checking:
            return
        self.say("")
        self._reason_at_check = reason
        self.pin.submit()
        self._update()

    def _on_pin(self, ok: bool) -> None:
        self._update()
        if ok:
            self.submitted.emit(
                OutcomeRequest(OutcomeKind.LEFT_UNPAID, reason=self._reason_at_check)
            )
        else:
            self.say(self.tr("Nothing was recorded: the vehicle may not leave unpaid."), "danger")


class WrongPlateForm(ActionForm):
    """The read plate is wrong: type the right one and check it again (no outcome)."""

    recheck = Signal(str)

    def __init__(self, notice: RecoveryNotice, parent: QWidget | None = None) -> None:
        super().__init__(
            self.tr("Wrong plate? Type the plate as it is on the vehicle and check it again."),
            parent,
        )
        self.plate = _text_field(self, "wrongPlateField", 32, self.tr("plate on the vehicle"))
        self.plate.setText(notice.read.plate)
        self.plate.textChanged.connect(self._update)
        self.fields.addRow(self.tr("Plate"), self.plate)
        self.add_confirm(self.tr("Check this plate"), "confirmRecheckButton")
        self._update()

    def first_field(self) -> QWidget:
        return self.plate

    def _update(self) -> None:
        assert self.confirm_button is not None
        self.confirm_button.setEnabled(bool(normalize(self.plate.text())))

    def confirm(self) -> None:
        plate = normalize(self.plate.text())
        if not plate:
            self.say(self.tr("A plate needs letters or digits."), "warning")
            return
        self.recheck.emit(plate)
