"""pytest-qt fixtures driving the real MainWindow (under Xvfb) with the test doubles in hv_double.py."""

from __future__ import annotations

import pytest

from hv_double import FakeComputer, FakeFrames
from hv_helpers import FakeDialogs

FRAMES = 20


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"frames come from FakeFrames")
    return path


@pytest.fixture
def make_window(qtbot, video):
    """make_window(computer=None, session=None, **kwargs) -> a shown MainWindow; all are closed at teardown."""
    from handviewer.gui.main_window import MainWindow
    from handviewer.session import Session

    windows = []

    def make(computer=None, session=None, frames=None, show=True, first_pass=True, **kwargs):
        """first_pass: wait until the first pass over all frames is done (the fake's is quick)."""
        computer = computer or FakeComputer(frame_count=FRAMES)
        frames = frames or FakeFrames(computer.frame_count)
        session = session or Session(str(video), computer.frame_count, frames.fps)
        kwargs.setdefault("autosave_ms", 0)
        window = MainWindow(computer, frames, session, dialogs=FakeDialogs(), **kwargs)
        windows.append(window)
        if show:
            window.show()
            qtbot.waitExposed(window)
            qtbot.waitUntil(lambda: window._started, timeout=5000)
            if first_pass:
                qtbot.waitUntil(lambda: len(window.session.overview) == window.model.frame_count
                                and not window.controller.queue.pending("first_pass")
                                and getattr(window.controller.queue.running, "kind", "") != "first_pass", timeout=10000)
        return window

    yield make
    for window in windows:
        window.dialogs.save_answer = "discard"
        window.close()
        window.shutdown()
        window.deleteLater()
    qtbot.wait(10)
