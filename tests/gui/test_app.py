"""The app layer: run() end to end on a real (tiny) video file, and the empty start window."""

import cv2
import numpy as np
from hv_helpers import FakeDialogs
from hv_double import FakeComputer
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage

from handviewer.gui.app import App, DeferredComputer, run
from handviewer.gui.screenshot import qimage_to_array
from handviewer.session import RecentFiles


def write_video(path, frames=6, size=(320, 240)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    for i in range(frames):
        image = np.full((size[1], size[0], 3), 40, np.uint8)
        cv2.rectangle(image, (10 + 20 * i, 50), (40 + 20 * i, 80), (255, 255, 255), -1)
        writer.write(image)
    writer.release()
    return path


def factory(frames, video_path, predictions=None):
    return FakeComputer(frame_count=frames.frame_count, size=frames.size)


def test_run_screenshot_mode_on_a_real_video(qtbot, tmp_path):
    video = write_video(tmp_path / "clip.avi")
    shot = tmp_path / "shot.png"
    assert run(str(video), factory, screenshot=str(shot), frame=2, timeout_s=60) == 0
    image = qimage_to_array(QImage(str(shot)))
    right = image[:, image.shape[1] // 3:]  # the 3D view and panels
    orange = (right[..., 0].astype(int) - right[..., 2] > 60).sum()
    blue = (right[..., 2].astype(int) - right[..., 0] > 60).sum()
    assert orange > 2000 and blue > 2000, (orange, blue)


def test_screenshot_failures_exit_non_zero_with_one_line(tmp_path):
    """The real command line, in its own process (a third in-process app run left the later VTK
    screenshot tests flaky under Xvfb)."""
    import os
    import subprocess
    import sys

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    cases = ((not_a_folder / "shot.png", "2", str(not_a_folder)),  # its folder cannot be made
             (tmp_path / "shot.png", "500", "frame 500 is out of range: the video has 100 frames"))
    for shot, frame, expected in cases:
        done = subprocess.run([sys.executable, "-m", "handviewer", "demo", "--screenshot", str(shot), "--frame", frame],
                              capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
        errors = [line for line in done.stderr.splitlines() if line.startswith("handviewer: error:")]
        assert done.returncode == 1 and len(errors) == 1 and expected in errors[0], done.stderr[-2000:]
    assert not (tmp_path / "shot.png").exists()


def test_empty_window_then_open_by_drop(qtbot, tmp_path):
    video = write_video(tmp_path / "clip.avi")
    dialogs = FakeDialogs()
    app = App(factory, dialogs_factory=lambda parent: dialogs, recent=RecentFiles(tmp_path / "recent.json"))
    empty = app.open(None)
    qtbot.waitExposed(empty)
    assert "no video" in empty.windowTitle() and empty.session.frame_count == 0
    assert "Open a video" in empty.frame_view.message.text()
    empty.open_path(str(video))  # what a drop or File > Open does
    window = app.window
    try:
        assert window is not empty and "clip.avi" in window.windowTitle()
        assert window.session.frame_count == 6
        qtbot.waitUntil(lambda: 0 in window.session.results, timeout=10_000)
        assert isinstance(window.computer, DeferredComputer)
        assert app.recent.items()[0].endswith("clip.avi")
        top_left = window.frame_view.mapTo(window, QPoint(0, 0))
        assert top_left.x() >= 0
    finally:
        window.close()
        window.shutdown()


def test_open_failure_is_reported_in_a_window(qtbot, tmp_path):
    dialogs = FakeDialogs()
    app = App(factory, dialogs_factory=lambda parent: dialogs, recent=RecentFiles(tmp_path / "recent.json"))
    app.open_replacing(str(tmp_path / "missing.mp4"))
    window = app.window
    try:
        assert dialogs.errors and "missing.mp4" in dialogs.errors[0][1]
        assert window.session.frame_count == 0
    finally:
        window.close()
        window.shutdown()


def test_a_scripted_run_never_autosaves(qtbot, tmp_path):
    """A screenshot run can outlast the autosave interval (the first pass runs before the picture): it
    must leave nothing behind for the next interactive run to offer."""
    video = write_video(tmp_path / "clip.avi")
    app = App(factory, dialogs_factory=lambda parent: FakeDialogs(), recent=RecentFiles(tmp_path / "recent.json"),
              interactive=False)
    window = app.open(str(video))
    try:
        qtbot.waitExposed(window)
        assert not window.autosave_timer.isActive()
    finally:
        window.close()
        window.shutdown()
