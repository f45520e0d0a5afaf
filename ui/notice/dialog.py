"""The recovery notice dialog: modal, on top, and closed only by an outcome or Wrong plate.

Keys: F5 cash, F6 card, F7 QR code, F8 the driver disputes, F9 ask a supervisor for a
waiver (under remind_only: let go, reminded), F2 wrong plate; Ctrl+Enter confirms the open form;
Escape goes back to the choice of actions. Enter alone and Escape never record or close.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import Outcome, OutcomeKind, RecoveryNotice
from ui.background import run_in_background
from ui.bridge import BoothBridge
from ui.format import format_amount
from ui.notice.forms import (
    ActionForm,
    CardForm,
    CashForm,
    DisputeForm,
    LetThroughForm,
    OutcomeRequest,
    WrongPlateForm,
)
from ui.notice.qr import QrForm
from ui.notice.summary import NoticeSummary
from ui.notice.waiver import POLL_INTERVAL_MS as WAIVER_POLL_MS
from ui.notice.waiver import WaiverForm
from ui.notice.wording import describe_outcome
from ui.roles import scaled_font, set_role

log = logging.getLogger(__name__)

ExitPolicy = Literal["must_pay", "remind_only"]
CLOSE_AFTER_MS = 6000
CONFIRM_SEQUENCES = ("Ctrl+Return", "Ctrl+Enter")


class NoticeDialog(QDialog):
    """The notice for one vehicle that owes money, with the attendant's actions.

    ``outcome`` holds the recorded :class:`Outcome` after the dialog closes (None after
    Wrong plate). ``recheck_requested(plate, lane)`` asks the main window to check a
    corrected plate. With ``recorded``, the notice is shown with that earlier outcome
    and nothing can be recorded. ``close_after_ms`` is how long the confirmation stays.
    """

    recheck_requested = Signal(str, str)

    def __init__(
        self,
        notice: RecoveryNotice,
        bridge: BoothBridge,
        *,
        exit_policy: ExitPolicy,
        verify_pin: Callable[[str], bool],
        parent: QWidget | None = None,
        recorded: Outcome | None = None,
        close_after_ms: int = CLOSE_AFTER_MS,
        waiver_poll_ms: int = WAIVER_POLL_MS,
    ) -> None:
        super().__init__(parent)
        if exit_policy not in ("must_pay", "remind_only"):
            raise ValueError(f"unknown exit policy {exit_policy!r}")
        self._notice = notice
        self._bridge = bridge
        self._policy: ExitPolicy = exit_policy
        self._outcome: Outcome | None = None
        self._recording = False
        self._may_close = False
        self._request: OutcomeRequest | None = None

        self.setObjectName("noticeDialog")
        self.setWindowTitle(self.tr("Unpaid parking: {plate}").format(plate=notice.listed_plate))
        self.setModal(True)
        self.setWindowFlags(
            Qt.WindowType.Dialog
            | Qt.WindowType.CustomizeWindowHint
            | Qt.WindowType.WindowTitleHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setFont(scaled_font(self, 1.25))
        self.setMinimumWidth(960)

        self.summary = NoticeSummary(notice, self)
        self.forms: dict[str, ActionForm] = {
            "cash": CashForm(notice, self),
            "card": CardForm(notice, self),
            "qr": QrForm(notice, bridge, self),
            "dispute": DisputeForm(self),
            # must_pay: a waiver needs a supervisor; remind_only: remind and let go.
            "leave": WaiverForm(notice, bridge, self, poll_ms=waiver_poll_ms)
            if exit_policy == "must_pay"
            else LetThroughForm(needs_pin=False, verify_pin=verify_pin, parent=self),
            "wrong_plate": WrongPlateForm(notice, self),
        }
        for form in self.forms.values():
            form.submitted.connect(self._record)
        self.wrong_plate_form.recheck.connect(self._recheck)

        actions = self._actions_layout()
        self.pages = self._pages_widget()

        self.status = QLabel(self)
        self.status.setObjectName("noticeStatus")
        self.status.setWordWrap(True)
        self.status.setContentsMargins(6, 2, 6, 2)

        self.waiver_state = self._waiver_state_label()

        self.waiting = QLabel(self)
        self.waiting.setObjectName("noticeWaiting")
        self.waiting.setContentsMargins(6, 2, 6, 2)
        set_role(self.waiting, "warning")
        self.waiting.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(actions)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.waiver_state)
        layout.addWidget(self.status)
        layout.addWidget(self.waiting)

        for sequence in CONFIRM_SEQUENCES:
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.confirm_current)

        self._close_timer = QTimer(self)
        self._close_timer.setSingleShot(True)
        self._close_timer.setInterval(close_after_ms)
        self._close_timer.timeout.connect(self._finish_with_outcome)

        if recorded is not None:
            self._show_outcome(recorded, None, earlier=True)

    # -- public -----------------------------------------------------------------------

    def set_waiting(self, count: int) -> None:
        """Say how many other notices wait behind this one (hidden when none)."""
        if count <= 0:
            self.waiting.hide()
            return
        self.waiting.setText(self.tr("Notices waiting after this one: {count}").format(count=count))
        self.waiting.show()

    @property
    def notice(self) -> RecoveryNotice:
        """The notice shown."""
        return self._notice

    @property
    def outcome(self) -> Outcome | None:
        """The recorded outcome (also an earlier one found for this notice), or None."""
        return self._outcome

    @property
    def exit_policy(self) -> ExitPolicy:
        """must_pay (a waiver needs a supervisor) or remind_only (remind and let go)."""
        return self._policy

    @property
    def cash_form(self) -> CashForm:
        return self.forms["cash"]  # type: ignore[return-value]

    @property
    def card_form(self) -> CardForm:
        return self.forms["card"]  # type: ignore[return-value]

    @property
    def qr_form(self) -> QrForm:
        return self.forms["qr"]  # type: ignore[return-value]

    @property
    def dispute_form(self) -> DisputeForm:
        return self.forms["dispute"]  # type: ignore[return-value]

    @property
    def leave_form(self) -> LetThroughForm:
        """F9 under remind_only (under must_pay it is :attr:`waiver_form`)."""
        return self.forms["leave"]  # type: ignore[return-value]

    @property
    def waiver_form(self) -> WaiverForm | None:
        """F9 under must_pay: ask a supervisor for a waiver (None under remind_only)."""
        form = self.forms["leave"]
        return form if isinstance(form, WaiverForm) else None

    @property
    def wrong_plate_form(self) -> WrongPlateForm:
        return self.forms["wrong_plate"]  # type: ignore[return-value]

    def current_form(self) -> ActionForm | None:
        """The action form on show, or None (choice of actions or confirmation)."""
        page = self.pages.currentWidget()
        return page if isinstance(page, ActionForm) else None

    def show_form(self, key: str) -> None:
        """Open the form for ``key`` (cash, card, qr, dispute, leave, wrong_plate)."""
        if self._outcome is not None or self._recording:
            return
        form = self.forms[key]
        self.buttons[key].setChecked(True)
        self.pages.setCurrentWidget(form)
        self.status.clear()
        set_role(self.status, "")
        if key == "qr":
            self.qr_form.start()
        if key == "leave" and self.waiver_form is None:
            self.leave_form.select_reason()
        else:
            field = form.first_field()
            if field is not None:
                field.setFocus()

    def confirm_current(self) -> None:
        """Ctrl+Enter: press the open form's confirm button if it can be pressed."""
        if self.pages.currentWidget() is self.confirmation:
            self._finish_with_outcome()
            return
        form = self.current_form()
        if form is None or form.confirm_button is None or self._recording:
            return
        if form.confirm_button.isEnabled():
            form.confirm_button.click()
        else:
            form.confirm()  # says what is missing

    def abandon(self) -> None:
        """Close without an outcome (the application is shutting down)."""
        self._finish(QDialog.DialogCode.Rejected)

    # -- keys and closing ---------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if modifiers == Qt.KeyboardModifier.NoModifier and (
                self.pages.currentWidget() is self.confirmation
            ):
                self._finish_with_outcome()
            event.accept()  # Enter alone never confirms anything else
            return
        if key == Qt.Key.Key_Escape:
            event.accept()
            if self.pages.currentWidget() is self.confirmation:
                self._finish_with_outcome()
            elif self.current_form() is not None and not self._recording:
                self._back_to_choice()
            elif self._outcome is None:
                self._say(self.tr("This notice stays open until you pick an action."), "muted")
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        """Refused while the notice has no outcome: only an outcome or Wrong plate close it."""
        if self._may_close:
            super().reject()
        elif self._outcome is not None:
            self._finish_with_outcome()
        else:
            self._say(self.tr("This notice stays open until you pick an action."), "muted")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self._may_close:
            super().closeEvent(event)
        elif self._outcome is not None:
            event.ignore()
            self._finish_with_outcome()
        else:
            event.ignore()
            self._say(self.tr("This notice stays open until you pick an action."), "muted")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        QApplication.alert(self)
        self.activateWindow()
        self.raise_()

    # -- outcomes -----------------------------------------------------------------------

    def _record(self, request: OutcomeRequest) -> None:
        if self._recording or self._outcome is not None:
            log.warning("outcome %s asked while one is recorded or recording", request.kind)
            return
        self._recording = True
        self._request = request
        self._set_actions_enabled(False)
        self._say(self.tr("Recording..."), "muted")
        bridge, notice = self._bridge, self._notice
        # A waiver request still open at the server is withdrawn with this outcome (unless
        # this is its own approval), so a later approval can never count as well.
        open_request = None if self.waiver_form is None else self.waiver_form.open_request_id
        cancel = open_request if open_request != request.waiver_request_id else None
        run_in_background(
            lambda: bridge.record_outcome(
                notice,
                request.kind,
                method=request.method,
                reason=request.reason,
                reference=request.reference,
                approved_by=request.approved_by,
                waiver_request_id=request.waiver_request_id,
                cancel_waiver_request=cancel,
            ),
            self._recorded,
            self._record_failed,
            owner=self,
        )

    def _recorded(self, outcome: Outcome) -> None:
        self._recording = False
        request = self._request
        change = request.change_cents if request is not None and outcome.created else None
        self._show_outcome(outcome, change, earlier=not outcome.created)

    def _record_failed(self, error: Exception) -> None:
        self._recording = False
        log.error(
            "recording the outcome of notice %s failed", self._notice.notice_id, exc_info=error
        )
        self._set_actions_enabled(True)
        self._say(
            self.tr("Could not record this ({error}). Nothing was saved; try again.").format(
                error=str(error) or type(error).__name__
            ),
            "danger",
        )

    def _show_outcome(self, outcome: Outcome, change_cents: int | None, *, earlier: bool) -> None:
        self._outcome = outcome
        self.qr_form.stop()
        if self.waiver_form is not None:
            self.waiver_form.stop()
        self.waiver_state.hide()
        self._set_actions_enabled(False)
        currency = self._notice.currency
        what = describe_outcome(outcome, currency)
        if earlier:
            text = self.tr("This notice already has an outcome: {what}. Nothing new was recorded.")
            if outcome.kind is OutcomeKind.PAID:
                text += " " + self.tr("Do not collect again.")
            role = "warning"
        else:
            text = self.tr("Recorded: {what}.")
            role = "ok"
        self.confirmation_text.setText(text.format(what=what))
        set_role(self.confirmation_text, role)
        if change_cents is not None and change_cents > 0:
            self.confirmation_change.setText(
                self.tr("Give change: {amount}").format(
                    amount=format_amount(change_cents, currency)
                )
            )
            self.confirmation_change.show()
        elif change_cents == 0:
            self.confirmation_change.setText(self.tr("No change to give."))
            self.confirmation_change.show()
        else:
            self.confirmation_change.hide()
        self.pages.setCurrentWidget(self.confirmation)
        self._say("", "")
        self.close_button.setFocus()
        self._close_timer.start()

    def _confirmation_page(self) -> QWidget:
        page = QWidget(self)
        page.setObjectName("noticeConfirmationPage")
        self.confirmation_text = QLabel(page)
        self.confirmation_text.setObjectName("noticeConfirmation")
        self.confirmation_text.setWordWrap(True)
        self.confirmation_text.setContentsMargins(10, 8, 10, 8)
        self.confirmation_text.setFont(scaled_font(self.confirmation_text, 1.3, bold=True))
        self.confirmation_change = QLabel(page)
        self.confirmation_change.setObjectName("confirmationChange")
        self.confirmation_change.setFont(scaled_font(self.confirmation_change, 2.4, bold=True))
        self.close_button = QPushButton(self.tr("Close [Enter]"), page)
        self.close_button.setObjectName("closeNoticeButton")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self._finish_with_outcome)
        layout = QVBoxLayout(page)
        layout.addWidget(self.confirmation_text)
        layout.addWidget(self.confirmation_change)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    def _recheck(self, plate: str) -> None:
        if self._recording or self._outcome is not None:
            return
        self.recheck_requested.emit(plate, self._notice.read.lane)
        self._finish(QDialog.DialogCode.Rejected)

    def _finish_with_outcome(self) -> None:
        if self._outcome is not None:
            self._finish(QDialog.DialogCode.Accepted)

    def _finish(self, code: QDialog.DialogCode) -> None:
        self._may_close = True
        self._close_timer.stop()
        self.qr_form.stop()
        self._withdraw_open_waiver()
        self.done(code)

    def _withdraw_open_waiver(self) -> None:
        """Closing without an outcome (wrong plate, shutdown): withdraw an open request."""
        form = self.waiver_form
        if form is None:
            return
        request_id = form.open_request_id
        form.stop()
        if request_id is None or self._outcome is not None:
            return
        try:
            self._bridge.booth.queue_waiver_cancel(request_id, "notice closed without an outcome")
        except Exception:
            log.exception("could not queue the withdrawal of waiver request %s", request_id)

    def _waiver_state_label(self) -> QLabel:
        """Where the waiver request stands, shown whichever form is open."""
        label = QLabel(self)
        label.setObjectName("noticeWaiverState")
        label.setWordWrap(True)
        label.setContentsMargins(6, 2, 6, 2)
        label.setFont(scaled_font(label, 1.1, bold=True))
        label.hide()
        if self.waiver_form is not None:
            self.waiver_form.state_changed.connect(self._show_waiver_state)
        return label

    def _show_waiver_state(self, text: str, role: str) -> None:
        if self._outcome is not None:
            return
        self.waiver_state.setText(text)
        set_role(self.waiver_state, role)
        self.waiver_state.setVisible(bool(text))

    # -- helpers ------------------------------------------------------------------------

    def _actions_layout(self) -> QGridLayout:
        self.buttons: dict[str, QPushButton] = {}
        self._button_group = QButtonGroup(self)
        self._button_group.setExclusive(True)
        must_pay = self._policy == "must_pay"
        leave_text = self.tr("Ask for a waiver") if must_pay else self.tr("Let go (reminded)")
        actions = QGridLayout()
        for index, (key, text, name, shortcut, role) in enumerate(
            (
                ("cash", self.tr("Cash"), "collectCashButton", "F5", ""),
                ("card", self.tr("Card"), "collectCardButton", "F6", ""),
                ("qr", self.tr("QR code"), "collectQrButton", "F7", ""),
                ("dispute", self.tr("Driver disputes"), "disputeButton", "F8", ""),
                ("leave", leave_text, "letThroughButton", "F9", "danger"),
                ("wrong_plate", self.tr("Wrong plate"), "wrongPlateButton", "F2", ""),
            )
        ):
            row, column = divmod(index, 3)
            actions.addWidget(self._action_button(key, text, name, shortcut, role), row, column)
        for column in range(3):
            actions.setColumnStretch(column, 1)
        return actions

    def _pages_widget(self) -> QStackedWidget:
        hint = (
            self.tr(
                "Collect the payment: F5 cash, F6 card, F7 QR code. F8 if the driver "
                "disputes, F9 to ask a supervisor to waive the debt, F2 if the plate is wrong."
            )
            if self._policy == "must_pay"
            else self.tr(
                "Collect the payment: F5 cash, F6 card, F7 QR code. F8 if the driver "
                "disputes, F9 to remind the driver and let them go, F2 if the plate is wrong."
            )
        )
        self.start_page = QLabel(hint, self)
        self.start_page.setObjectName("noticeHint")
        self.start_page.setWordWrap(True)
        self.start_page.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        set_role(self.start_page, "muted")
        self.confirmation = self._confirmation_page()
        pages = QStackedWidget(self)
        pages.setObjectName("noticePages")
        pages.addWidget(self.start_page)
        for form in self.forms.values():
            pages.addWidget(form)
        pages.addWidget(self.confirmation)
        return pages

    def _action_button(
        self, key: str, text: str, name: str, shortcut: str, role: str
    ) -> QPushButton:
        button = QPushButton(f"{text} [{shortcut}]", self)
        button.setObjectName(name)
        button.setCheckable(True)
        button.setAutoDefault(False)
        button.setDefault(False)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # A QShortcut rather than the button's own: that one clicks after a 100 ms animation.
        key_shortcut = QShortcut(QKeySequence(shortcut), self)
        key_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        key_shortcut.activated.connect(lambda k=key: self.show_form(k))
        button.setMinimumHeight(48)
        button.setFont(scaled_font(button, 1.1, bold=True))
        if role:
            set_role(button, role)
        button.clicked.connect(lambda _checked=False, k=key: self.show_form(k))
        self._button_group.addButton(button)
        self.buttons[key] = button
        return button

    def _back_to_choice(self) -> None:
        checked = self._button_group.checkedButton()
        if checked is not None:
            self._button_group.setExclusive(False)
            checked.setChecked(False)
            self._button_group.setExclusive(True)
        self.pages.setCurrentWidget(self.start_page)
        self.setFocus()

    def _set_actions_enabled(self, enabled: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(enabled)
        for form in self.forms.values():
            form.setEnabled(enabled)

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        set_role(self.status, role)
