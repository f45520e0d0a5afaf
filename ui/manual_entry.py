"""Manual plate entry: the attendant types a plate the camera missed and picks the lane."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.plates import normalize
from ui.roles import scaled_font, set_role

PLATE_MAX_CHARS = 16


class ManualEntryDialog(QDialog):
    """Type a plate and pick its lane (the first lane by default); Enter checks it.

    After ``accept()``, ``plate`` holds the normalized plate and ``lane`` the lane.
    """

    def __init__(self, lanes: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not lanes:
            raise ValueError("manual entry needs at least one lane")
        self.setObjectName("manualEntryDialog")
        self.setWindowTitle(self.tr("Type a plate"))
        self.setModal(True)
        self._plate = ""
        self._lane = lanes[0]

        self.plate_field = QLineEdit(self)
        self.plate_field.setObjectName("manualPlate")
        self.plate_field.setMaxLength(PLATE_MAX_CHARS * 2)
        self.plate_field.setPlaceholderText(self.tr("e.g. ABC123"))
        self.plate_field.setFont(scaled_font(self.plate_field, 2.0, bold=True))
        self.plate_field.textEdited.connect(self._clear_message)

        self.lane_box = QComboBox(self)
        self.lane_box.setObjectName("manualLane")
        self.lane_box.addItems(lanes)
        self.lane_box.setCurrentIndex(0)

        self.message = QLabel(self)
        self.message.setObjectName("manualMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        self.check_button = QPushButton(self.tr("Check plate [Enter]"), self)
        self.check_button.setObjectName("manualCheckButton")
        self.check_button.setDefault(True)
        self.check_button.clicked.connect(self.submit)
        self.cancel_button = QPushButton(self.tr("Cancel [Esc]"), self)
        self.cancel_button.setObjectName("manualCancelButton")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.tr("Plate"), self.plate_field)
        form.addRow(self.tr("Lane"), self.lane_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.plate_field.setMinimumWidth(420)
        self.plate_field.setFocus()

    @property
    def plate(self) -> str:
        """The normalized plate typed (empty until the dialog is accepted)."""
        return self._plate

    @property
    def lane(self) -> str:
        """The lane the plate was typed for."""
        return self._lane

    def submit(self) -> None:
        """Accept when the text has letters or digits; otherwise say so inline."""
        text = self.plate_field.text()
        plate = normalize(text)
        if not text.strip():
            self._complain(self.tr("Type the plate first."))
        elif not plate:
            self._complain(
                self.tr("A plate needs letters or digits; {text} has none.").format(
                    text=text.strip()
                )
            )
        elif len(plate) > PLATE_MAX_CHARS:
            self._complain(
                self.tr("That is too long for a plate ({count} characters).").format(
                    count=len(plate)
                )
            )
        else:
            self._plate = plate
            self._lane = self.lane_box.currentText()
            self.accept()

    def _complain(self, text: str) -> None:
        self.message.setText(text)
        set_role(self.message, "warning")
        self.message.show()
        self.plate_field.setFocus()
        self.plate_field.selectAll()

    def _clear_message(self) -> None:
        self.message.hide()
