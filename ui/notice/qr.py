"""QR payment: start a payment intent, show its code, poll until the driver has paid.

Every server call runs in the background. Once an intent exists it is polled every
``POLL_INTERVAL_MS`` while the notice is open (also when the attendant looks at another
form), so a driver who pays by phone is never missed; when it is paid the form asks for
a PAID/QR outcome by itself.
"""

from __future__ import annotations

import io
import logging

import segno
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.client import ServerError, ServerRejected, ServerUnavailable
from desktop.domain import (
    OutcomeKind,
    PaymentIntent,
    PaymentIntentStatus,
    PaymentMethod,
    RecoveryNotice,
)
from ui.background import run_in_background
from ui.bridge import BoothBridge
from ui.format import format_amount, format_local_time
from ui.notice.forms import ActionForm, OutcomeRequest
from ui.roles import scaled_font, set_role

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 2000
QR_PIXELS = 200


def qr_pixmap(text: str, pixels: int = QR_PIXELS) -> QPixmap:
    """``text`` as a scannable QR code (a full QR, never a micro QR) about ``pixels`` wide."""
    code = segno.make_qr(text, error="m")
    modules = code.symbol_size(scale=1, border=4)[0]
    scale = max(2, pixels // modules)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    image = QImage.fromData(buffer.getvalue(), "PNG")
    return QPixmap.fromImage(image)


class QrForm(ActionForm):
    """Shows the payment code and its state; emits ``submitted`` once the intent is paid."""

    def __init__(
        self, notice: RecoveryNotice, bridge: BoothBridge, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            self.tr("QR code: the driver scans it and pays {owed} by phone.").format(
                owed=format_amount(notice.unpaid_cents, notice.currency)
            ),
            parent,
        )
        self._notice = notice
        self._bridge = bridge
        self._intent: PaymentIntent | None = None
        self._busy = False
        self._stopped = False
        self._paid_reported = False

        self.code = QLabel(self)
        self.code.setObjectName("qrCode")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setFixedSize(QR_PIXELS + 8, QR_PIXELS + 8)
        self.code.hide()
        self.url = QLabel(self)
        self.url.setObjectName("qrUrl")
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.url.setFont(scaled_font(self.url, 0.8))
        self.url.setWordWrap(True)
        set_role(self.url, "muted")
        self.url.hide()
        self.state = QLabel(self)
        self.state.setObjectName("qrState")
        self.state.setFont(scaled_font(self.state, 1.3, bold=True))
        self.state.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.state)
        side.addWidget(self.url)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.code)
        row.addLayout(side, 1)
        self.fields.addRow(row)

        self._poll_timer = QTimer(self)
        self._poll_timer.setSingleShot(True)
        self._poll_timer.setInterval(POLL_INTERVAL_MS)
        self._poll_timer.timeout.connect(self._poll)

    @property
    def intent(self) -> PaymentIntent | None:
        """The current payment intent, or None."""
        return self._intent

    @property
    def waiting(self) -> bool:
        """True while a code is shown and its payment is pending."""
        return self._intent is not None and not self._intent.final

    def start(self) -> None:
        """Create a payment intent unless one is pending or being created."""
        if self._stopped or self._busy or self.waiting:
            return
        if self._intent is not None and self._intent.settled:
            self._paid_reported = False  # recording it failed before: ask again
            self._apply(self._intent)
            return
        self._busy = True
        self._intent = None
        self.code.hide()
        self.url.hide()
        self._show_state(self.tr("Asking the server for a payment code..."), "muted")
        booth = self._bridge.booth
        notice = self._notice
        run_in_background(
            lambda: booth.start_qr_payment(notice),
            self._started,
            self._start_failed,
            owner=self,
        )

    def stop(self) -> None:
        """Stop polling for good (the notice has an outcome or is closing)."""
        self._stopped = True
        self._poll_timer.stop()

    def _started(self, intent: PaymentIntent) -> None:
        self._busy = False
        if self._stopped:
            return
        self._intent = intent
        self.code.setPixmap(qr_pixmap(str(intent.pay_url)))
        self.code.show()
        self.url.setText(str(intent.pay_url))
        self.url.show()
        self._apply(intent)

    def _start_failed(self, error: Exception) -> None:
        self._busy = False
        if self._stopped:
            return
        if isinstance(error, ServerUnavailable):
            text = self.tr(
                "The payment server cannot be reached, so QR payment is not possible now. "
                "Take cash [F5] or card [F6] instead."
            )
        elif isinstance(error, ServerRejected) and error.code == "already_paid":
            text = self.tr(
                "The server says this debt is already paid: do not collect it again. "
                "Ask a supervisor if the driver disagrees."
            )
        elif isinstance(error, ServerRejected):
            text = self.tr(
                "The server refused the QR payment ({reason}). Take cash [F5] or card [F6]."
            ).format(reason=error.code or str(error))
        elif isinstance(error, ServerError):
            text = self.tr(
                "The server's answer made no sense, so QR payment is not possible now. "
                "Take cash [F5] or card [F6] instead."
            )
        else:
            log.error("starting a QR payment failed", exc_info=error)
            text = self.tr("QR payment failed. Take cash [F5] or card [F6] instead.")
        self._show_state(text, "danger")

    def _poll(self) -> None:
        if self._stopped or self._intent is None or self._busy:
            return
        self._busy = True
        booth = self._bridge.booth
        intent_id = self._intent.intent_id
        run_in_background(
            lambda: booth.qr_payment_status(intent_id),
            self._polled,
            self._poll_failed,
            owner=self,
        )

    def _polled(self, intent: PaymentIntent) -> None:
        self._busy = False
        if self._stopped:
            return
        self._intent = intent
        self._apply(intent)

    def _poll_failed(self, error: Exception) -> None:
        self._busy = False
        if self._stopped:
            return
        if isinstance(error, ServerRejected):
            self.code.hide()
            self.url.hide()
            self._intent = None
            self._show_state(
                self.tr(
                    "The server no longer knows this payment code. Press F7 for a new code, "
                    "or take cash [F5] or card [F6]."
                ),
                "warning",
            )
            return
        if not isinstance(error, ServerError):
            log.error("checking a QR payment failed", exc_info=error)
        self._show_state(
            self.tr(
                "Cannot reach the payment server; still checking. "
                "If the driver's phone says paid, wait; otherwise take cash or card."
            ),
            "warning",
        )
        self._poll_timer.start()

    def _apply(self, intent: PaymentIntent) -> None:
        if intent.status is PaymentIntentStatus.PENDING:
            text = self.tr("Waiting for payment of {amount}...").format(
                amount=format_amount(intent.amount_cents, intent.currency)
            )
            text += "\n" + self.tr("The code is valid until {time}.").format(
                time=format_local_time(intent.expires_at)
            )
            self._show_state(text, "")
            self._poll_timer.start()
        elif intent.settled:
            self._poll_timer.stop()
            self._show_state(self.tr("Paid by QR code."), "ok")
            if not self._paid_reported:
                self._paid_reported = True
                self.submitted.emit(
                    OutcomeRequest(
                        OutcomeKind.PAID, PaymentMethod.QR, reference=str(intent.intent_id)
                    )
                )
        else:
            self._poll_timer.stop()
            self.code.hide()
            self.url.hide()
            words = (
                self.tr("The code expired")
                if intent.status is PaymentIntentStatus.EXPIRED
                else self.tr("The payment was cancelled")
            )
            self._show_state(
                self.tr("{what}. Press F7 for a new code, or take cash [F5] or card [F6].").format(
                    what=words
                ),
                "warning",
            )

    def _show_state(self, text: str, role: str) -> None:
        self.state.setText(text)
        set_role(self.state, role)
