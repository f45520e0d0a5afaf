"""The main window against the real booth core, the real reference server and real video."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from desktop.capture import Backoff, CaptureGroup, LaneCapture
from desktop.domain import OutcomeKind, PaymentMethod, PlateRead
from desktop.synthetic.video import make_lane_video
from server.cli import ServerThread
from tests.conftest import LANE
from ui.bridge import BoothBridge, ReadDecision
from ui.lane_view import LaneSignal
from ui.main_window import MainWindow
from ui.reads_list import ReadsModel, StateRole

FAST_BACKOFF = Backoff(initial_s=0.05, factor=2.0, max_s=0.2)
WAIT_MS = 10_000


def write_lane_video(path: Path) -> Path:
    """A small real lane video (320x240, ~3 s at 15 fps): a car drives up and leaves."""
    video = make_lane_video(
        path, ["ABC123"], fps=15.0, size=(320, 240), seconds_per_vehicle=2.0, empty_seconds=0.5
    )
    return video.path


@pytest.fixture
def make_cameras() -> Iterator[Callable[[dict[str, str]], CaptureGroup]]:
    """Start a CaptureGroup of lane name -> source; every group is stopped after the test."""
    groups: list[CaptureGroup] = []

    def make(sources: dict[str, str]) -> CaptureGroup:
        group = CaptureGroup(
            LaneCapture(name, source, backoff=FAST_BACKOFF) for name, source in sources.items()
        )
        groups.append(group)
        group.start()
        return group

    yield make
    assert all(group.stop() for group in groups), "a capture thread did not stop"


@pytest.fixture
def make_window(bridge: BoothBridge, qtbot) -> Callable[..., MainWindow]:
    """Build and show a MainWindow over the test's bridge."""

    def make(cameras: CaptureGroup | None, lanes: list[str]) -> MainWindow:
        window = MainWindow(bridge, cameras, attendant="alice", lanes=lanes)
        qtbot.addWidget(window)
        window.resize(1200, 760)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window) -> MainWindow:
    """A window with no cameras, for the reads and keyboard tests."""
    return make_window(None, [LANE])


def pixels(image: QImage) -> np.ndarray:
    """A grabbed widget image as an RGB array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rows = data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)
    # A copy: the array must not point into the QImage's buffer, which is freed (and reused
    # by the next grab) as soon as the temporary image goes away.
    return rows.copy()


def decide(bridge: BoothBridge, window: MainWindow, qtbot, plate: str) -> ReadDecision:
    with qtbot.waitSignal(bridge.decided, timeout=WAIT_MS) as decided:
        bridge.check_manual(plate, LANE)
    qtbot.waitUntil(lambda: window.reads_list.model.rowCount() > 0, timeout=WAIT_MS)
    return decided.args[0]


def test_a_lane_view_plays_a_real_video_file(make_cameras, make_window, tmp_path, qtbot):
    cameras = make_cameras({LANE: str(write_lane_video(tmp_path / "lane.avi"))})
    window = make_window(cameras, [LANE])
    view = window.lane_views[LANE]

    qtbot.waitUntil(
        lambda: view.signal is LaneSignal.LIVE and view.frames_shown >= 3, timeout=WAIT_MS
    )
    first = pixels(view.video.grab().toImage())
    assert first.mean() > 20, "the lane view shows a black picture"
    assert view.overlay_text == ""

    # The car moves: what is on screen changes from frame to frame.
    qtbot.waitUntil(
        lambda: np.abs(pixels(view.video.grab().toImage()).astype(int) - first).mean() > 1.0,
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: window.status.camera_text(LANE).endswith(" fps"), timeout=WAIT_MS)


def test_a_decided_read_appears_on_top_of_the_reads_list(bridge, window, qtbot):
    decide(bridge, window, qtbot, "KLM4455")
    decide(bridge, window, qtbot, "abc 123")
    model = window.reads_list.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=WAIT_MS)

    def cell(row: int, column: int) -> str:
        return model.index(row, column).data()

    assert [cell(0, ReadsModel.PLATE), cell(1, ReadsModel.PLATE)] == ["ABC123", "KLM4455"]
    assert cell(0, ReadsModel.LANE) == LANE
    assert cell(0, ReadsModel.CONFIDENCE) == "typed"
    assert cell(0, ReadsModel.DECISION) == "owes 18.50 USD"
    assert model.index(0, ReadsModel.DECISION).data(StateRole) == "danger"
    assert model.index(0, ReadsModel.DECISION).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(1, ReadsModel.DECISION) == "clear"
    assert model.index(1, ReadsModel.DECISION).data(Qt.ItemDataRole.BackgroundRole) is None


def test_the_reads_list_keeps_only_the_newest_rows(qtbot):
    model = ReadsModel(max_rows=3)
    for number in range(5):
        model.add(ReadDecision(PlateRead(plate=f"AAA{number}", lane=LANE), None))
    plates = [model.index(row, ReadsModel.PLATE).data() for row in range(model.rowCount())]
    assert plates == ["AAA4", "AAA3", "AAA2"]


def test_an_owing_read_asks_for_its_notice(bridge, window, qtbot):
    with qtbot.waitSignal(window.notice_requested, timeout=WAIT_MS) as requested:
        bridge.check_manual("ABC123", LANE)
    notice = requested.args[0]
    assert notice.listed_plate == "ABC123"
    assert notice.unpaid_cents == 1850


def test_reopening_an_owing_row_asks_for_the_same_notice_again(bridge, window, qtbot):
    with qtbot.waitSignal(window.notice_requested, timeout=WAIT_MS) as raised:
        bridge.check_manual("ABC123", LANE)
    decide(bridge, window, qtbot, "KLM4455")
    qtbot.waitUntil(lambda: window.reads_list.model.rowCount() == 2, timeout=WAIT_MS)
    notice = raised.args[0]
    table = window.reads_list.table
    owing_row = window.reads_list.model.row_of(notice.notice_id)
    assert owing_row == 1

    # Keyboard: select the row and press Enter.
    table.setFocus()
    table.selectRow(owing_row)
    with qtbot.waitSignal(window.notice_requested, timeout=WAIT_MS) as by_key:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert by_key.args[0].notice_id == notice.notice_id

    # Mouse: double-click the row.
    centre = table.visualRect(window.reads_list.model.index(owing_row, 2)).center()
    with qtbot.waitSignal(window.notice_requested, timeout=WAIT_MS) as by_mouse:
        # QTest's double-click needs the first click before it, as a real one has.
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert by_mouse.args[0].notice_id == notice.notice_id

    # A clear row has no notice to open.
    table.selectRow(0)
    with qtbot.assertNotEmitted(window.notice_requested, wait=200):
        qtbot.keyClick(table, Qt.Key.Key_Return)


def test_f2_and_f9_ask_for_manual_entry_and_settings(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    with qtbot.waitSignal(window.manual_entry_requested, timeout=WAIT_MS):
        qtbot.keyClick(window.reads_list.table, Qt.Key.Key_F2)
    with qtbot.waitSignal(window.settings_requested, timeout=WAIT_MS):
        qtbot.keyClick(window.reads_list.table, Qt.Key.Key_F9)
    toolbar_texts = [action.text() for action in window.toolbar.actions()]
    assert any("F2" in text for text in toolbar_texts)
    assert any("F9" in text for text in toolbar_texts)


def test_without_cameras_the_window_is_reads_and_manual_entry(window):
    assert window.lane_views == {}
    assert window.status.camera_labels == {}
    assert "F2" in window.findChild(type(window.status.server_label), "noCameraHint").text()


def sync_now(window: MainWindow, qtbot) -> None:
    qtbot.waitUntil(window.sync_now_action.isEnabled, timeout=WAIT_MS)
    with qtbot.waitSignal(window.bridge.sync_changed, timeout=WAIT_MS):
        window.sync_now_action.trigger()
    qtbot.waitUntil(window.sync_now_action.isEnabled, timeout=WAIT_MS)


def test_the_status_bar_follows_the_server_going_down_and_up(
    bridge, window, reference_server, tmp_path, qtbot
):
    server_label = window.status.server_label
    outbox_label = window.status.outbox_label
    sync_now(window, qtbot)
    assert server_label.text() == "Server: online"
    assert "Blacklist: " in window.status.blacklist_label.text()
    assert "s ago" in window.status.blacklist_label.text()
    with qtbot.waitSignal(window.notice_requested, timeout=WAIT_MS) as raised:
        bridge.check_manual("ABC123", LANE)

    reference_server.stop()
    bridge.record_outcome(raised.args[0], OutcomeKind.PAID, method=PaymentMethod.CASH)
    sync_now(window, qtbot)
    assert server_label.text().startswith("Server: offline since ")
    assert server_label.property("role") == "danger"
    assert not outbox_label.isHidden()
    assert outbox_label.text() == "1 waiting to send"
    assert window.reads_list.model.index(0, ReadsModel.DECISION).data() == "paid 18.50 USD (cash)"

    port = int(reference_server.url.rsplit(":", 1)[1])
    again = ServerThread(database_url=f"sqlite:///{tmp_path / 'server.sqlite3'}", port=port)
    again.start()
    try:
        sync_now(window, qtbot)
        assert server_label.text() == "Server: online"
        assert server_label.property("role") == "ok"
        assert outbox_label.isHidden()
    finally:
        again.stop()


def test_a_dead_camera_shows_no_signal_until_its_source_appears(
    make_cameras, make_window, tmp_path, qtbot
):
    path = tmp_path / "arrives-later.avi"
    cameras = make_cameras({LANE: str(path)})
    window = make_window(cameras, [LANE])
    view = window.lane_views[LANE]

    qtbot.waitUntil(lambda: view.signal is LaneSignal.NO_SIGNAL, timeout=WAIT_MS)
    assert view.overlay_text.startswith("No signal - retrying")
    qtbot.waitUntil(
        lambda: window.status.camera_text(LANE) == f"{LANE}: no signal, retrying", timeout=WAIT_MS
    )

    # Written elsewhere and renamed, so the camera never opens a half-written file.
    os.replace(write_lane_video(tmp_path / "writing.avi"), path)
    qtbot.waitUntil(
        lambda: view.signal is LaneSignal.LIVE and view.frames_shown > 0, timeout=WAIT_MS
    )
    assert view.overlay_text == ""
    qtbot.waitUntil(lambda: window.status.camera_text(LANE).endswith(" fps"), timeout=WAIT_MS)


def test_a_recorded_payment_replaces_owes_in_the_lane_caption(
    make_cameras, make_window, tmp_path, qtbot
):
    cameras = make_cameras({LANE: str(write_lane_video(tmp_path / "lane.avi"))})
    window = make_window(cameras, [LANE])
    view = window.lane_views[LANE]
    bridge = window.bridge
    decision = decide(bridge, window, qtbot, "ABC123")
    qtbot.waitUntil(lambda: "owes 18.50 USD" in view.caption_text, timeout=WAIT_MS)

    bridge.record_outcome(decision.notice, OutcomeKind.PAID, method=PaymentMethod.CASH)

    qtbot.waitUntil(lambda: "owes" not in view.caption_text, timeout=WAIT_MS)
    assert "paid 18.50 USD" in view.caption_text
