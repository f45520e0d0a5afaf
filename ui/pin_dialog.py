"""The supervisor PIN: a masked entry that checks the PIN off the GUI thread, and a dialog.

The notice dialog embeds :class:`PinEntry` in its "let through unpaid" form; the settings
dialog calls :func:`ask_supervisor_pin`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.background import run_in_background
from ui.roles import set_role

PinCheck = Callable[[str], bool]


class PinEntry(QWidget):
    """A masked PIN field that checks what is typed with ``verify`` in the background.

    Emits ``verified(bool)`` with the result of each check; counts failed attempts and
    says clearly when a PIN was wrong (the field is cleared for the next try).
    """

    verified = Signal(bool)

    def __init__(self, verify: PinCheck, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._verify = verify
        self._failed = 0
        self._checking = False

        self.field = QLineEdit(self)
        self.field.setObjectName("pinField")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setMaxLength(12)
        self.field.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"^[0-9]{0,12}$"), self.field)
        )
        self.field.setPlaceholderText(self.tr("supervisor PIN"))
        self.message = QLabel(self)
        self.message.setObjectName("pinMessage")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field)
        layout.addWidget(self.message)

    @property
    def failed_attempts(self) -> int:
        """How many wrong PINs were typed here."""
        return self._failed

    @property
    def checking(self) -> bool:
        """True while a check runs in the background."""
        return self._checking

    def reset(self) -> None:
        """Empty the field and the message (the failure count stays)."""
        self.field.clear()
        self.message.clear()

    def submit(self) -> None:
        """Check the typed PIN; the answer arrives as ``verified``."""
        if self._checking:
            return
        pin = self.field.text()
        if not pin:
            self._say(self.tr("Type the supervisor's PIN first."), "warning")
            self.field.setFocus()
            return
        self._checking = True
        self.field.setEnabled(False)
        self._say(self.tr("Checking the PIN..."), "muted")
        verify = self._verify
        run_in_background(lambda: bool(verify(pin)), self._checked, self._check_failed, owner=self)

    def _checked(self, ok: bool) -> None:
        self._checking = False
        self.field.setEnabled(True)
        self.field.clear()
        if ok:
            self._say(self.tr("PIN accepted."), "ok")
        else:
            self._failed += 1
            self._say(
                self.tr("Wrong PIN ({count} failed); try again.").format(count=self._failed),
                "danger",
            )
            self.field.setFocus()
        self.verified.emit(ok)

    def _check_failed(self, _error: Exception) -> None:
        self._checking = False
        self.field.setEnabled(True)
        self._say(self.tr("The PIN could not be checked; nothing was unlocked."), "danger")
        self.verified.emit(False)

    def _say(self, text: str, role: str) -> None:
        self.message.setText(text)
        set_role(self.message, role)


class SupervisorPinDialog(QDialog):
    """Asks for the supervisor's PIN to unlock ``purpose``; accepted only on the right PIN."""

    def __init__(self, verify: PinCheck, purpose: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("supervisorPinDialog")
        self.setWindowTitle(self.tr("Supervisor PIN"))
        self.setModal(True)

        explain = QLabel(
            self.tr("A supervisor's PIN is needed to {purpose}.").format(purpose=purpose), self
        )
        explain.setObjectName("pinPurpose")
        explain.setWordWrap(True)
        self.entry = PinEntry(verify, self)
        self.entry.verified.connect(self._on_verified)
        self.entry.field.returnPressed.connect(self.entry.submit)

        self.unlock_button = QPushButton(self.tr("Unlock [Enter]"), self)
        self.unlock_button.setObjectName("pinUnlockButton")
        self.unlock_button.setAutoDefault(False)
        self.unlock_button.clicked.connect(self.entry.submit)
        self.cancel_button = QPushButton(self.tr("Cancel [Esc]"), self)
        self.cancel_button.setObjectName("pinCancelButton")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.entry)
        layout.addLayout(buttons)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.entry.field.setMinimumWidth(420)
        self.entry.field.setFocus()

    @property
    def failed_attempts(self) -> int:
        """Wrong PINs typed in this dialog."""
        return self.entry.failed_attempts

    def _on_verified(self, ok: bool) -> None:
        if ok:
            self.accept()


def ask_supervisor_pin(parent: QWidget | None, verify: PinCheck, purpose: str) -> bool:
    """Ask for the supervisor's PIN (modal); True only when the right PIN was typed.

    ``purpose`` completes "A supervisor's PIN is needed to ...", e.g. "open the settings".
    """
    dialog = SupervisorPinDialog(verify, purpose, parent)
    try:
        return dialog.exec() == QDialog.DialogCode.Accepted
    finally:
        dialog.deleteLater()
