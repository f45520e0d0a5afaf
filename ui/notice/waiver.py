"""Ask a supervisor to waive the debt (F9 under ``must_pay``): a waiver needs a supervisor.

The request goes to the server, where supervisors see it in their pending waivers; the
form polls it in the background while the notice is open (also while the attendant looks
at another form), so the attendant is never blocked: cash, card or QR can still be taken,
or the request withdrawn. An approval asks for the ``waived`` outcome naming the
supervisor; a refusal is shown with the supervisor's reason and the notice stays open.

When the server cannot be reached, a supervisor at the booth can approve with their
PIN, checked against the hash cached at their last online login here (within
``supervisor.offline_hours``); the outcome names that supervisor and reaches the server
through the outbox. Without a supervisor there is no waiver.
"""

from __future__ import annotations

import logging
import uuid

from PySide6.QtCore import QRegularExpression, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.client import ServerError, ServerRejected
from desktop.domain import OutcomeKind, RecoveryNotice
from desktop.supervisor_models import WaiverRequest
from desktop.supervisor_session import OfflineLoginRefused, OfflineSupervisor
from ui.background import run_in_background
from ui.bridge import BoothBridge
from ui.format import format_local_time
from ui.notice.forms import (
    CONFIRM_KEYS,
    REASON_MAX_CHARS,
    ActionForm,
    OutcomeRequest,
    _text_field,
)
from ui.roles import scaled_font, set_role

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 2000
WITHDRAWN_REASON = "withdrawn by the attendant"


class WaiverForm(ActionForm):
    """The reason, the request's state, and the supervisor's PIN when the server is away.

    ``state_changed(text, role)`` tells the notice what to show about the request
    whichever form is open (empty text: nothing). :attr:`open_request_id` is the request
    the server may still hold open (withdraw it when another outcome is recorded).
    """

    state_changed = Signal(str, str)

    def __init__(
        self,
        notice: RecoveryNotice,
        bridge: BoothBridge,
        parent: QWidget | None = None,
        *,
        poll_ms: int = POLL_INTERVAL_MS,
    ) -> None:
        super().__init__(
            self.tr(
                "A waiver needs a supervisor. Say why the driver should not pay; the request "
                "goes to the supervisors. You can still take the payment meanwhile."
            ),
            parent,
        )
        self._notice = notice
        self._bridge = bridge
        self._request_id: uuid.UUID | None = None
        self._received = False  # the server has the request (else asking again sends it)
        self._asked_reason = ""
        self._busy = False
        self._stopped = False
        self._approved_reported = False
        self.phase = "idle"  # idle, sending, pending, unreachable, refused, approved

        self.reason = _text_field(
            self, "waiverReason", REASON_MAX_CHARS, self.tr("e.g. ambulance on duty")
        )
        self.reason.textChanged.connect(self._update)
        self.fields.addRow(self.tr("Reason"), self.reason)
        self.state = QLabel(self)
        self.state.setObjectName("waiverState")
        self.state.setWordWrap(True)
        self.state.setFont(scaled_font(self.state, 1.2, bold=True))
        self.fields.addRow(self.state)
        self.offline_box = self._offline_box()
        self.fields.addRow(self.offline_box)
        self.offline_box.hide()

        self.add_confirm(self.tr("Ask a supervisor"), "confirmWaiverButton")
        self.cancel_button = QPushButton(self.tr("Withdraw the request"), self)
        self.cancel_button.setObjectName("cancelWaiverButton")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel_request)
        self.cancel_button.hide()
        self._layout.addWidget(self.cancel_button)

        self._poll_timer = QTimer(self)
        self._poll_timer.setSingleShot(True)
        self._poll_timer.setInterval(poll_ms)
        self._poll_timer.timeout.connect(self._poll)
        self._update()

    def _offline_box(self) -> QWidget:
        box = QWidget(self)
        box.setObjectName("waiverOfflineBox")
        self.offline_text = QLabel(box)
        self.offline_text.setObjectName("waiverOfflineText")
        self.offline_text.setWordWrap(True)
        self.supervisor = QComboBox(box)
        self.supervisor.setObjectName("waiverSupervisor")
        self.supervisor.setEditable(True)
        self.pin = QLineEdit(box)
        self.pin.setObjectName("waiverPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,12}"), self))
        self.pin.returnPressed.connect(self.approve_offline)
        self.offline_button = QPushButton(self.tr("Approve with the supervisor's PIN"), box)
        self.offline_button.setObjectName("approveWaiverOfflineButton")
        self.offline_button.setAutoDefault(False)
        self.offline_button.clicked.connect(self.approve_offline)
        self.offline_message = QLabel(box)
        self.offline_message.setObjectName("waiverOfflineMessage")
        self.offline_message.setWordWrap(True)
        self._offline_fields = QWidget(box)
        fields = QFormLayout(self._offline_fields)
        fields.setContentsMargins(0, 0, 0, 0)
        fields.addRow(self.tr("Supervisor"), self.supervisor)
        fields.addRow(self.tr("Supervisor PIN"), self.pin)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.offline_button)
        fields.addRow(row)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.offline_text)
        layout.addWidget(self._offline_fields)
        layout.addWidget(self.offline_message)
        return box

    # -- public ---------------------------------------------------------------------

    @property
    def open_request_id(self) -> uuid.UUID | None:
        """The request the server may hold open (sent, pending, or sent while offline)."""
        if self.phase in ("sending", "pending", "unreachable") and self._request_id is not None:
            return self._request_id
        return None

    def first_field(self) -> QWidget:
        return self.pin if self.offline_box.isVisible() else self.reason

    def stop(self) -> None:
        """Stop polling for good (the notice has an outcome or is closing)."""
        self._stopped = True
        self._poll_timer.stop()

    def confirm(self) -> None:
        """Send the request (again, after the server was unreachable or a refusal)."""
        if self._stopped or self._busy or self.phase in ("sending", "pending", "approved"):
            return
        reason = self.reason.text().strip()
        if not reason:
            self.say(self.tr("A waiver request needs a reason."), "warning")
            self.reason.setFocus()
            return
        if self.phase != "unreachable" or reason != self._asked_reason:
            self._forget_unsent_request()
            self._request_id = uuid.uuid4()
            self._received = False
        self._asked_reason = reason
        self.say("")
        self._send()

    def cancel_request(self) -> None:
        """Withdraw the request; a decision that came first is honoured."""
        request_id = self.open_request_id
        if request_id is None or self._busy or self._stopped:
            return
        self._busy = True
        self._poll_timer.stop()
        self._update()
        booth = self._bridge.booth
        run_in_background(
            lambda: booth.cancel_waiver(request_id, WITHDRAWN_REASON),
            self._cancelled,
            self._cancel_failed,
            owner=self,
        )

    def approve_offline(self) -> None:
        """A supervisor at the booth approves with their PIN (checked in the background)."""
        if self._busy or self._stopped or not self.offline_box.isVisible():
            return
        reason = self.reason.text().strip()
        username = self.supervisor.currentText().strip()
        pin = self.pin.text()
        if not reason:
            self._say_offline(self.tr("Type the reason for the waiver first."), "warning")
            self.reason.setFocus()
            return
        if not username or not pin:
            self._say_offline(self.tr("The supervisor's name and PIN are needed."), "warning")
            return
        self._busy = True
        self._update()
        self._say_offline(self.tr("Checking the PIN..."), "muted")
        booth = self._bridge.booth
        run_in_background(
            lambda: booth.approve_waiver_offline(username, pin),
            lambda supervisor: self._offline_approved(supervisor, reason),
            self._offline_refused,
            owner=self,
        )

    # -- the request ----------------------------------------------------------------

    def _send(self) -> None:
        request_id = self._request_id
        assert request_id is not None
        self._busy = True
        self.phase = "sending"
        self._update()
        self._show(self.tr("Sending the request to the supervisors..."), "muted")
        booth, notice, reason = self._bridge.booth, self._notice, self._asked_reason
        run_in_background(
            lambda: booth.request_waiver(notice, reason, request_id),
            self._answered,
            self._unanswered,
            owner=self,
        )

    def _poll(self) -> None:
        if self._stopped or self._busy or self._request_id is None:
            return
        if not self._received:
            self._send()  # it never arrived: send it again (idempotent by its id)
            return
        self._busy = True
        booth, request_id = self._bridge.booth, self._request_id
        run_in_background(
            lambda: booth.waiver_status(request_id),
            self._answered,
            self._unanswered,
            owner=self,
        )

    def _answered(self, request: WaiverRequest) -> None:
        self._busy = False
        if self._stopped or request.request_id != self._request_id:
            return
        self._received = True
        self._apply(request)

    def _unanswered(self, error: Exception) -> None:
        self._busy = False
        if self._stopped:
            return
        if isinstance(error, ServerRejected) and error.code == "unknown_waiver_request":
            self._received = False  # the server never got it: the next round sends it
        elif isinstance(error, ServerRejected):
            self.phase = "idle"
            self._request_id = None
            self.offline_box.hide()
            self._update()
            self._show(
                self.tr("The server refused the request ({reason}). Collect the payment.").format(
                    reason=error.code or str(error)
                ),
                "danger",
            )
            return
        elif not isinstance(error, ServerError):
            log.error("waiver request failed", exc_info=error)
        self.phase = "unreachable"
        self._update()
        self._show_offline()
        self._poll_timer.start()

    def _apply(self, request: WaiverRequest) -> None:
        self.offline_box.hide()
        if request.status == "pending":
            self.phase = "pending"
            self._show(
                self.tr("Waiting for a supervisor... (asked at {time})").format(
                    time=format_local_time(request.created_at)
                ),
                "warning",
            )
            self._poll_timer.start()
        elif request.status == "approved":
            self.phase = "approved"
            self._poll_timer.stop()
            supervisor = request.decided_by or "?"
            self._show(self.tr("Approved by {supervisor}.").format(supervisor=supervisor), "ok")
            if not self._approved_reported:
                self._approved_reported = True
                self.submitted.emit(
                    OutcomeRequest(
                        OutcomeKind.WAIVED,
                        reason=request.reason,
                        approved_by=supervisor,
                        waiver_request_id=request.request_id,
                    )
                )
        elif request.status == "refused":
            self.phase = "refused"
            self._request_id = None
            self._poll_timer.stop()
            self._show(
                self.tr("Refused by {supervisor}: {reason}. Collect the payment.").format(
                    supervisor=request.decided_by or "?", reason=request.decision_reason or "-"
                ),
                "danger",
            )
        else:
            self.phase = "idle"
            self._request_id = None
            self._poll_timer.stop()
            self._show(self.tr("The waiver request was withdrawn."), "muted")
        self._update()

    def _cancelled(self, request: WaiverRequest | None) -> None:
        self._busy = False
        if self._stopped:
            return
        if request is None:  # offline: the outbox tells the server
            self.phase = "idle"
            self._request_id = None
            self.offline_box.hide()
            self._show(self.tr("The waiver request was withdrawn."), "muted")
            self._update()
            return
        self._apply(request)

    def _cancel_failed(self, error: Exception) -> None:
        self._busy = False
        if self._stopped:
            return
        log.warning("withdrawing waiver request %s failed: %s", self._request_id, error)
        self.say(self.tr("Could not withdraw the request ({error}).").format(error=error), "danger")
        self._update()
        self._poll_timer.start()

    def _forget_unsent_request(self) -> None:
        # A request sent while the server was unreachable may have arrived after all.
        if self._request_id is not None and self.phase == "unreachable":
            self._bridge.booth.queue_waiver_cancel(self._request_id, "asked again")

    # -- offline approval -----------------------------------------------------------

    def _show_offline(self) -> None:
        names = self._bridge.booth.offline_supervisors()
        self.offline_box.show()
        if not names:
            self.offline_text.setText(
                self.tr(
                    "The server cannot be reached and no supervisor has logged in online at "
                    "this booth, so no waiver is possible now: without a supervisor there is "
                    "no waiver. Collect the payment, or wait for the server."
                )
            )
            set_role(self.offline_text, "danger")
            self._offline_fields.hide()
        else:
            self.offline_text.setText(
                self.tr(
                    "The server cannot be reached, so the request may not reach a supervisor "
                    "(it is sent again as soon as the server is back). A supervisor at the "
                    "booth can approve now with their PIN."
                )
            )
            set_role(self.offline_text, "warning")
            self._offline_fields.show()
            current = self.supervisor.currentText()
            self.supervisor.clear()
            self.supervisor.addItems(names)
            if current:
                self.supervisor.setCurrentText(current)
        self._show(self.tr("The server cannot be reached; the request waits for it."), "warning")

    def _offline_approved(self, supervisor: OfflineSupervisor, reason: str) -> None:
        self._busy = False
        self.pin.clear()
        if self._stopped:
            return
        self._poll_timer.stop()
        self._say_offline(
            self.tr("Approved by {supervisor} at the booth.").format(
                supervisor=supervisor.username
            ),
            "ok",
        )
        self._update()
        self.submitted.emit(
            OutcomeRequest(OutcomeKind.WAIVED, reason=reason, approved_by=supervisor.username)
        )

    def _offline_refused(self, error: Exception) -> None:
        self._busy = False
        self.pin.clear()
        if self._stopped:
            return
        self._update()
        if not isinstance(error, OfflineLoginRefused):
            log.error("checking a supervisor PIN failed", exc_info=error)
            text = self.tr("The PIN could not be checked. Nothing was recorded.")
        elif error.reason == "wrong_pin":
            text = self.tr("Wrong PIN. Nothing was recorded: no waiver without a supervisor.")
        elif error.reason == "expired":
            text = self.tr(
                "This supervisor's last online login here is too old; their PIN is not "
                "accepted offline. Nothing was recorded."
            )
        else:
            text = self.tr(
                "This supervisor has not logged in online at this booth, so their PIN is "
                "not known here. Nothing was recorded."
            )
        self._say_offline(text, "danger")
        self.pin.setFocus()

    # -- helpers --------------------------------------------------------------------

    def _update(self) -> None:
        assert self.confirm_button is not None
        asking = self.phase in ("sending", "pending", "approved")
        self.reason.setReadOnly(asking)
        self.confirm_button.setEnabled(
            not asking and not self._busy and bool(self.reason.text().strip())
        )
        text = self.tr("Ask again") if self.phase == "unreachable" else self.tr("Ask a supervisor")
        self.confirm_button.setText(f"{text} [{CONFIRM_KEYS}]")
        self.cancel_button.setVisible(self.open_request_id is not None)
        self.cancel_button.setEnabled(not self._busy)
        self.offline_button.setEnabled(not self._busy)

    def _show(self, text: str, role: str) -> None:
        self.state.setText(text)
        set_role(self.state, role)
        self.state_changed.emit(text, role)

    def _say_offline(self, text: str, role: str) -> None:
        self.offline_message.setText(text)
        set_role(self.offline_message, role)
