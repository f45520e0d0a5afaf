"""The settings dialog: editing, validating and saving the booth's configuration."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from desktop.config import BoothConfig, load_config, validate_config
from desktop.config_writer import save_config
from desktop.supervisor_pin import verify_pin
from desktop.token_file import load_token
from server.cli import ServerThread
from tests.conftest import DEMO_TOKENS
from ui.settings import SettingsDialog

WAIT_MS = 15_000


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialog sees only the RECOUP_* variables a test sets."""
    for name in list(os.environ):
        if name.upper().startswith("RECOUP_"):
            monkeypatch.delenv(name)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A real config file with one lane, as a booth would have it."""
    config = validate_config(
        {
            "server": {"url": "http://127.0.0.1:8765", "connect_timeout_s": 0.5},
            "booth": {"id": "booth-a"},
            "lanes": [{"name": "Exit 1", "camera": "0", "roi": [0.2, 0.4, 0.6, 0.5]}],
            "data_dir": tmp_path / "data",
        }
    )
    path = tmp_path / "config.toml"
    save_config(config, path)
    return path


def open_dialog(qtbot, path: Path, **kwargs) -> SettingsDialog:
    dialog = SettingsDialog(load_config(path), path, **kwargs)
    qtbot.addWidget(dialog)
    dialog.resize(dialog.sizeHint())
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def save_and_collect(qtbot, dialog: SettingsDialog) -> list[BoothConfig]:
    emitted: list[BoothConfig] = []
    dialog.saved.connect(emitted.append)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    return emitted


def small_video(path: Path) -> Path:
    """A real 10-frame MJPG .avi: grey frames with a white block."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (160, 120))
    assert writer.isOpened()
    for index in range(10):
        frame = np.full((120, 160, 3), 90, np.uint8)
        cv2.rectangle(frame, (40 + index, 60), (120 + index, 90), (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------ saving


def test_changed_server_url_and_lane_are_saved_to_the_file(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path)
    dialog.server_page.url_field.setText("https://ops.example:8443/")
    lane = dialog.lanes_page.lane_editors()[0]
    lane.name_field.setText("North gate")
    lane.camera_field.setText("rtsp://viewer:pw@10.0.0.7/stream")
    dialog.lanes_page.add_button.click()
    second = dialog.lanes_page.lane_editors()[1]
    second.camera_field.setText("1")

    emitted = save_and_collect(qtbot, dialog)

    assert dialog.problems() == []
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    reloaded = load_config(config_path)
    assert reloaded.server.url == "https://ops.example:8443"
    assert [(lane.name, lane.camera, lane.roi) for lane in reloaded.lanes] == [
        ("North gate", "rtsp://viewer:pw@10.0.0.7/stream", (0.2, 0.4, 0.6, 0.5)),
        ("Exit 2", "1", None),
    ]
    assert emitted == [reloaded]
    assert config_path.with_name("config.toml.bak").is_file()


def test_a_new_token_goes_to_the_token_file_not_the_config(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path)
    dialog.server_page.token_field.setText("fresh-token-123")
    emitted = save_and_collect(qtbot, dialog)
    assert len(emitted) == 1
    assert "fresh-token-123" not in config_path.read_text(encoding="utf-8")
    data_dir = load_config(config_path).data_dir
    assert load_token(data_dir) == "fresh-token-123"
    token = load_config(config_path).booth.token
    assert token is not None
    assert token.get_secret_value() == "fresh-token-123"


def test_an_invalid_url_names_the_field_and_saves_nothing(qtbot, config_path: Path) -> None:
    before = config_path.read_bytes()
    dialog = open_dialog(qtbot, config_path)
    dialog.page_list.setCurrentRow(3)
    dialog.server_page.url_field.setText("ftp://files.example")
    emitted = save_and_collect(qtbot, dialog)
    assert emitted == []
    assert dialog.isVisible()
    assert dialog.problems()[0].startswith("server.url: expected an http:// or https:// URL")
    assert dialog.page_list.currentRow() == 0  # taken to the page with the problem
    assert config_path.read_bytes() == before
    assert not config_path.with_name("config.toml.bak").exists()


def test_a_region_outside_the_frame_names_the_lane(qtbot, config_path: Path) -> None:
    before = config_path.read_bytes()
    dialog = open_dialog(qtbot, config_path)
    left, _top, width, _height = dialog.lanes_page.lane_editors()[0].roi_fields
    left.setValue(50.0)
    width.setValue(60.0)
    assert save_and_collect(qtbot, dialog) == []
    assert dialog.problems()[0].startswith("lanes.0.roi: region must lie inside the frame")
    assert dialog.page_list.currentRow() == 1
    assert config_path.read_bytes() == before


def test_the_pin_must_be_typed_the_same_twice(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path)
    dialog.pin_page.new_pin.setText("2468")
    dialog.pin_page.repeat_pin.setText("2469")
    assert save_and_collect(qtbot, dialog) == []
    assert dialog.problems()[0].startswith("supervisor.pin:")
    dialog.pin_page.repeat_pin.setText("2468")
    assert len(save_and_collect(qtbot, dialog)) == 1
    stored = load_config(config_path).supervisor.pin_hash
    assert stored is not None
    assert "2468" not in config_path.read_text(encoding="utf-8")
    assert verify_pin("2468", stored)


def test_policy_language_sound_and_region_are_saved(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path)
    dialog.policy_page.remind_only.setChecked(True)
    dialog.display_page.language_combo.setCurrentIndex(1)
    dialog.display_page.sound_box.setChecked(False)
    dialog.recognition_page.region_combo.setCurrentIndex(0)
    assert len(save_and_collect(qtbot, dialog)) == 1
    reloaded = load_config(config_path)
    assert reloaded.recovery.exit_policy == "remind_only"
    assert reloaded.display.language == "zh_CN"
    assert reloaded.display.sound is False
    assert reloaded.plates.region == "cn"


def test_a_chinese_booths_local_province_is_saved(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path)
    page = dialog.recognition_page
    assert not page.province_combo.isEnabled()  # a US booth has no use for it
    page.region_combo.setCurrentIndex(page.region_combo.findData("cn"))
    assert page.province_combo.isEnabled()
    page.province_combo.setCurrentIndex(page.province_combo.findData("粤"))
    assert len(save_and_collect(qtbot, dialog)) == 1
    assert load_config(config_path).plates.local_province == "粤"

    reopened = open_dialog(qtbot, config_path)
    again = reopened.recognition_page
    assert again.province_combo.currentData() == "粤"
    again.province_combo.setCurrentIndex(again.province_combo.findData(None))
    assert len(save_and_collect(qtbot, reopened)) == 1
    assert load_config(config_path).plates.local_province is None


def test_cancel_changes_nothing(qtbot, config_path: Path) -> None:
    before = config_path.read_bytes()
    dialog = open_dialog(qtbot, config_path)
    dialog.server_page.url_field.setText("https://other.example")
    emitted: list[BoothConfig] = []
    dialog.saved.connect(emitted.append)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == SettingsDialog.DialogCode.Rejected
    assert emitted == []
    assert config_path.read_bytes() == before


def test_an_engine_that_is_not_installed_is_shown_disabled(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path, engine_available=lambda name: name == "rapidocr")
    easyocr = dialog.recognition_page.engine_buttons["easyocr"]
    assert not easyocr.isEnabled()
    assert "install-easyocr" in easyocr.toolTip()
    assert dialog.recognition_page.engine_buttons["rapidocr"].isEnabled()


# ------------------------------------------------------------------------ connection test


def test_connection_test_against_the_reference_server(
    qtbot, config_path: Path, reference_server: ServerThread
) -> None:
    dialog = open_dialog(qtbot, config_path)
    page = dialog.server_page
    assert dialog.page_list.currentRow() == 0
    page.url_field.setText(reference_server.url)
    page.token_field.setText(DEMO_TOKENS["booth-a"])
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.result_label.text().startswith("Connected"), timeout=WAIT_MS)
    assert "server time" in page.result_label.text()
    assert page.test_button.isEnabled()


def test_connection_test_against_a_closed_port(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path)
    page = dialog.server_page
    assert dialog.page_list.currentRow() == 0
    page.url_field.setText(f"http://127.0.0.1:{closed_port()}")
    page.token_field.setText("some-token")
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.result_label.text().startswith("Cannot connect"), timeout=WAIT_MS)
    assert "some-token" not in page.result_label.text()


# ------------------------------------------------------------------------ camera test


def test_camera_test_shows_a_frame_and_a_dragged_region_is_saved(
    qtbot, config_path: Path, tmp_path: Path
) -> None:
    video = small_video(tmp_path / "exit.avi")
    dialog = open_dialog(qtbot, config_path)
    dialog.page_list.setCurrentRow(1)
    lane = dialog.lanes_page.lane_editors()[0]
    lane.camera_field.setText(str(video))
    qtbot.mouseClick(lane.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: lane.view.image() is not None, timeout=WAIT_MS)
    assert (lane.view.image().width(), lane.view.image().height()) == (160, 120)
    assert "160 x 120" in lane.camera_status.text()

    area = lane.view.image_rect()

    def at(fx: float, fy: float) -> QPoint:
        return QPoint(
            round(area.left() + fx * area.width()), round(area.top() + fy * area.height())
        )

    qtbot.mousePress(lane.view, Qt.MouseButton.LeftButton, pos=at(0.25, 0.5))
    qtbot.mouseMove(lane.view, at(0.5, 0.7))
    qtbot.mouseRelease(lane.view, Qt.MouseButton.LeftButton, pos=at(0.75, 0.9))
    roi = lane.roi()
    assert roi is not None
    assert roi == pytest.approx((0.25, 0.5, 0.5, 0.4), abs=0.02)

    assert len(save_and_collect(qtbot, dialog)) == 1
    saved = load_config(config_path).lanes[0]
    assert saved.camera == str(video)
    assert saved.roi == pytest.approx((0.25, 0.5, 0.5, 0.4), abs=0.02)

    qtbot.mouseClick(lane.clear_button, Qt.MouseButton.LeftButton)
    assert lane.roi() is None


def test_camera_test_failure_hides_the_password(qtbot, config_path: Path) -> None:
    dialog = open_dialog(qtbot, config_path)
    dialog.page_list.setCurrentRow(1)
    lane = dialog.lanes_page.lane_editors()[0]
    lane.camera_field.setText(f"http://admin:hunter2@127.0.0.1:{closed_port()}/video.mjpg")
    qtbot.mouseClick(lane.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: lane.camera_status.text().startswith("No picture"), timeout=WAIT_MS)
    assert "hunter2" not in lane.camera_status.text()
    assert lane.view.image() is None
