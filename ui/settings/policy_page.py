"""Settings page "Exit policy": must a vehicle that owes money pay before it leaves?"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QButtonGroup, QRadioButton, QVBoxLayout, QWidget

from desktop.config import BoothConfig
from ui.settings.page import SettingsPage, heading, key_matches, note


class ExitPolicyPage(SettingsPage):
    """must_pay or remind_only, each explained in one sentence."""

    def __init__(self, config: BoothConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.must_pay = QRadioButton(self.tr("Must pay"), self)
        self.remind_only = QRadioButton(self.tr("Remind only"), self)
        group = QButtonGroup(self)
        group.addButton(self.must_pay)
        group.addButton(self.remind_only)
        policy = config.recovery.exit_policy
        self.must_pay.setChecked(policy == "must_pay")
        self.remind_only.setChecked(policy == "remind_only")

        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.tr("Exit policy"), self))
        layout.addWidget(
            note(
                self.tr("What the booth does when a vehicle that owes money reaches the exit."),
                self,
            )
        )
        layout.addSpacing(8)
        layout.addWidget(self.must_pay)
        layout.addWidget(
            note(
                self.tr(
                    "The vehicle pays what it owes before it leaves; only a supervisor can "
                    "let it through unpaid."
                ),
                self,
            )
        )
        layout.addSpacing(8)
        layout.addWidget(self.remind_only)
        layout.addWidget(
            note(
                self.tr(
                    "The attendant tells the driver about the amount owed and the vehicle "
                    "may leave either way."
                ),
                self,
            )
        )
        layout.addStretch(1)

    def title(self) -> str:
        """The page's name."""
        return self.tr("Exit policy")

    def contribute(self, values: dict[str, Any]) -> list[str]:
        """Write the exit policy into ``values``."""
        values["recovery"]["exit_policy"] = (
            "remind_only" if self.remind_only.isChecked() else "must_pay"
        )
        return []

    def focus_problem(self, key: str) -> bool:
        """Focus the policy choice for ``recovery`` problems."""
        if key_matches(key, "recovery"):
            self.must_pay.setFocus()
            return True
        return False
