"""The whole booth app on demo data: live lanes, a read, a notice, a payment, settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from desktop.config import DisplaySettings
from desktop.config_writer import save_config
from desktop.demo_assets import DEMO_SUPERVISOR_PIN, demo_config
from desktop.synthetic.video import make_lane_video
from server.cli import ServerThread
from ui.app import BoothApp, BoothSession


@pytest.fixture
def demo_app(reference_server: ServerThread, tmp_path: Path, qtbot) -> Iterator[BoothApp]:
    """The booth app on booth-a's demo data with one lane where ABC123 (owes 18.50) stops."""
    video = make_lane_video(
        tmp_path / "exit-1.avi", ["ABC123"], fps=10, size=(640, 360), seconds_per_vehicle=6, rng=5
    )
    config = demo_config(reference_server.url, tmp_path / "booth", {"Exit 1": video.path})
    config_path = tmp_path / "booth.toml"
    save_config(config, config_path)
    app = QApplication.instance()
    booth_app = BoothApp(
        app, config, config_path=config_path, log_file=tmp_path / "recoup.log", confirm_close=False
    )
    yield booth_app
    booth_app.shutdown()


def test_an_owing_vehicle_in_the_lane_raises_the_notice(demo_app: BoothApp, qtbot):
    session: BoothSession = demo_app.start()
    qtbot.waitUntil(lambda: session.presenter.current is not None, timeout=90_000)
    dialog = session.presenter.current
    assert dialog.notice.listed_plate == "ABC123"
    assert dialog.notice.read.source == "camera"
    assert dialog.isVisible() and dialog.isModal()
    assert demo_app.sound.played == 1  # the chime, once
    assert session.verify_supervisor_pin(DEMO_SUPERVISOR_PIN)
    assert not session.verify_supervisor_pin("0000")


def test_saving_chinese_in_settings_rebuilds_the_screen_in_chinese(demo_app: BoothApp, qtbot):
    import subprocess
    import sys

    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel

    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, str(root / "scripts" / "translations.py"), "build"],
        check=True,
        capture_output=True,
    )
    first = demo_app.start()
    english = first.window.findChild(QLabel, "readsTitle").text()
    chinese = demo_app.config.model_copy(update={"display": DisplaySettings(language="zh_CN")})

    demo_app.apply(chinese)

    second = demo_app.session
    assert second is not first and second.window.isVisible()
    assert not first.window.isVisible()
    title = second.window.findChild(QLabel, "readsTitle").text()
    assert english == "Recent reads"
    assert title == "最近识别"
    labels = [action.text() for action in second.window.findChildren(QAction)]
    assert "输入车牌  [F2]" in labels  # the key stays readable in Chinese
    demo_app.apply(demo_app.config.model_copy(update={"display": first.config.display}))
    assert demo_app.session.window.findChild(QLabel, "readsTitle").text() == "Recent reads"


def test_a_booth_that_cannot_start_says_why_in_a_window(qtbot):
    """The installed app has no console: the reason must reach the screen."""
    from PySide6.QtCore import QTimer

    from ui.app import show_startup_problem

    seen: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(20, read_and_close)
            return
        seen.append(box.text())
        box.accept()

    QTimer.singleShot(0, read_and_close)
    show_startup_problem("booth.toml: server.url: unknown key")
    assert seen == ["booth.toml: server.url: unknown key"]
