"""Settings page "Lanes": up to four exit lanes, each with a camera and a region of interest."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from desktop.capture import parse_source
from desktop.config import BoothConfig, Lane
from ui.background import run_in_background
from ui.roles import set_role
from ui.settings.camera_test import grab_frame
from ui.settings.page import SettingsPage, heading, key_matches, note
from ui.settings.roi_view import Roi, RoiView, fit_roi

MAX_LANES = 4


def _safe_source_name(camera: str) -> str:
    """The camera string with credentials masked, for messages."""
    try:
        return parse_source(camera).display_name
    except ValueError:
        return "?"


class LaneEditor(QWidget):
    """One lane: name, camera source with a camera test, and the region of interest."""

    name_changed = Signal(str)

    def __init__(self, lane: Lane | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name_field = QLineEdit(lane.name if lane else "", self)
        self.name_field.textChanged.connect(self.name_changed)
        self.camera_field = QLineEdit(lane.camera if lane else "", self)
        self.camera_field.setPlaceholderText(
            self.tr("rtsp://user:password@camera/stream, a video file or a USB index such as 0")
        )
        self.test_button = QPushButton(self.tr("Test camera"), self)
        self.test_button.clicked.connect(self.test_camera)
        self.camera_status = QLabel(self)
        self.camera_status.setWordWrap(True)

        self.view = RoiView(self)
        self.view.set_placeholder(
            self.tr(
                'Press "Test camera" to see a frame, then drag a rectangle where plates appear.'
            )
        )
        self.view.roi_drawn.connect(self._roi_drawn)
        self.roi_fields: list[QDoubleSpinBox] = []
        for _ in range(4):
            spin = QDoubleSpinBox(self)
            spin.setRange(0.0, 100.0)
            spin.setDecimals(0)
            spin.setSingleStep(1.0)
            spin.setSuffix("%")
            spin.valueChanged.connect(self._roi_typed)
            self.roi_fields.append(spin)
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setToolTip(self.tr("Search the whole frame"))
        self.clear_button.clicked.connect(self.clear_roi)
        self.roi_label = QLabel(self)

        camera_row = QHBoxLayout()
        camera_row.addWidget(self.camera_field, 1)
        camera_row.addWidget(self.test_button)
        roi_row = QHBoxLayout()
        for caption, spin in zip(
            (self.tr("left"), self.tr("top"), self.tr("width"), self.tr("height")),
            self.roi_fields,
            strict=True,
        ):
            label = QLabel(caption, self)
            label.setBuddy(spin)
            roi_row.addWidget(label)
            roi_row.addWidget(spin)
        roi_row.addWidget(self.clear_button)
        roi_row.addStretch(1)
        form = QFormLayout()
        form.addRow(self.tr("Lane name"), self.name_field)
        form.addRow(self.tr("Camera"), camera_row)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.camera_status)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.roi_label)
        layout.addLayout(roi_row)
        self.set_roi(lane.roi if lane else None)

    # ----------------------------------------------------------------- values

    def name(self) -> str:
        """The lane name as typed."""
        return self.name_field.text().strip()

    def roi(self) -> Roi | None:
        """The region of interest as fractions, or None for the whole frame."""
        x, y, w, h = (spin.value() / 100 for spin in self.roi_fields)
        if (x, y, w, h) == (0.0, 0.0, 1.0, 1.0):
            return None
        return fit_roi(x, y, w, h)

    def set_roi(self, roi: Roi | None) -> None:
        """Show ``roi`` in the fields and on the frame (None: the whole frame)."""
        values = roi if roi is not None else (0.0, 0.0, 1.0, 1.0)
        for spin, value in zip(self.roi_fields, values, strict=True):
            spin.blockSignals(True)
            spin.setValue(value * 100)
            spin.blockSignals(False)
        self._roi_typed()

    def clear_roi(self) -> None:
        """Use the whole frame."""
        self.set_roi(None)

    def values(self) -> dict[str, Any]:
        """This lane as config values."""
        roi = self.roi()
        return {
            "name": self.name(),
            "camera": self.camera_field.text().strip(),
            "roi": list(roi) if roi is not None else None,
        }

    def focus_field(self, field: str) -> None:
        """Focus the field called ``field`` (name, camera or roi)."""
        target = {"name": self.name_field, "camera": self.camera_field}.get(
            field, self.roi_fields[0]
        )
        target.setFocus()

    def _roi_drawn(self, roi: Roi) -> None:
        self.set_roi(roi)

    def _roi_typed(self) -> None:
        roi = self.roi()
        self.view.set_roi(roi)
        if roi is None:
            self.roi_label.setText(self.tr("Region of interest: the whole frame"))
        else:
            self.roi_label.setText(self.tr("Region of interest (drag on the frame to redraw)"))

    # ----------------------------------------------------------------- camera test

    def test_camera(self) -> None:
        """Open the camera briefly in the background and show one frame."""
        camera = self.camera_field.text().strip()
        if not camera:
            self._camera_result(self.tr("Enter the camera source first."), "danger")
            return
        self.test_button.setEnabled(False)
        self._camera_result(
            self.tr("Opening {camera}...").format(camera=_safe_source_name(camera)), "muted"
        )
        run_in_background(
            partial(grab_frame, camera),
            partial(self._frame_arrived, camera),
            self._camera_failed,
            owner=self,
        )

    def _frame_arrived(self, camera: str, image: QImage) -> None:
        self.test_button.setEnabled(True)
        self.view.set_image(image)
        self._camera_result(
            self.tr("Camera works: {camera}, {width} x {height}.").format(
                camera=_safe_source_name(camera), width=image.width(), height=image.height()
            ),
            "ok",
        )

    def _camera_failed(self, exc: Exception) -> None:
        self.test_button.setEnabled(True)
        self._camera_result(self.tr("No picture: {reason}").format(reason=str(exc)), "danger")

    def _camera_result(self, text: str, role: str) -> None:
        self.camera_status.setText(text)
        set_role(self.camera_status, role)


class LanesPage(SettingsPage):
    """The lanes of this booth (0 to 4): a tab per lane above the selected lane's editor."""

    def __init__(self, config: BoothConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane_tabs = QTabBar(self)
        self.lane_tabs.setExpanding(False)
        self.lane_tabs.setDrawBase(False)
        self.add_button = QPushButton(self.tr("Add lane"), self)
        self.add_button.clicked.connect(self.add_lane)
        self.remove_button = QPushButton(self.tr("Remove lane"), self)
        self.remove_button.clicked.connect(self.remove_lane)
        self.editors = QStackedWidget(self)
        self._empty = note(
            self.tr("No lanes: the attendant types plates. Add a lane to watch a camera."), self
        )
        self.editors.addWidget(self._empty)
        self.lane_tabs.currentChanged.connect(self._show_lane)

        bar = QHBoxLayout()
        bar.addWidget(self.lane_tabs)
        bar.addStretch(1)
        bar.addWidget(self.add_button)
        bar.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.tr("Lanes"), self))
        layout.addWidget(note(self.tr("Up to four exit lanes, each watched by one camera."), self))
        layout.addLayout(bar)
        layout.addWidget(self.editors, 1)

        for lane in config.lanes:
            self._append(lane)
        self.lane_tabs.setCurrentIndex(0 if config.lanes else -1)
        self._show_lane(self.lane_tabs.currentIndex())

    def title(self) -> str:
        """The page's name."""
        return self.tr("Lanes")

    def lane_editors(self) -> list[LaneEditor]:
        """The editors, in lane order."""
        return [self.editors.widget(index) for index in range(1, self.editors.count())]  # type: ignore[misc]

    def add_lane(self) -> LaneEditor | None:
        """Add an empty lane (at most four) and select it."""
        if self.lane_tabs.count() >= MAX_LANES:
            return None
        editor = self._append(None)
        editor.name_field.setText(self.tr("Exit {n}").format(n=self.lane_tabs.count()))
        self.lane_tabs.setCurrentIndex(self.lane_tabs.count() - 1)
        editor.name_field.setFocus()
        editor.name_field.selectAll()
        self._update_buttons()
        return editor

    def remove_lane(self) -> None:
        """Remove the selected lane."""
        row = self.lane_tabs.currentIndex()
        if row < 0:
            return
        editor = self.lane_editors()[row]
        self.editors.removeWidget(editor)
        self.lane_tabs.removeTab(row)
        editor.deleteLater()
        self._show_lane(self.lane_tabs.currentIndex())

    def contribute(self, values: dict[str, Any]) -> list[str]:
        """Write the lanes into ``values``."""
        values["lanes"] = [editor.values() for editor in self.lane_editors()]
        return []

    def focus_problem(self, key: str) -> bool:
        """Select the lane named by ``key`` (``lanes.1.camera``) and focus its field."""
        if not key_matches(key, "lanes"):
            return False
        parts = key.split(".")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < self.lane_tabs.count():
            self.lane_tabs.setCurrentIndex(int(parts[1]))
            self.lane_editors()[int(parts[1])].focus_field(parts[2] if len(parts) > 2 else "")
        else:
            self.lane_tabs.setFocus()
        return True

    def _append(self, lane: Lane | None) -> LaneEditor:
        editor = LaneEditor(lane, self)
        self.editors.addWidget(editor)
        self.lane_tabs.addTab(editor.name() or self.tr("(no name)"))
        editor.name_changed.connect(partial(self._rename, editor))
        return editor

    def _rename(self, editor: LaneEditor, text: str) -> None:
        index = self.lane_editors().index(editor)
        self.lane_tabs.setTabText(index, text.strip() or self.tr("(no name)"))

    def _show_lane(self, row: int) -> None:
        self.editors.setCurrentIndex(row + 1 if row >= 0 else 0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(self.lane_tabs.count() < MAX_LANES)
        self.remove_button.setEnabled(self.lane_tabs.currentIndex() >= 0)
