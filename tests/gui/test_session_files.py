"""The window and the app layer with damaged or leftover session files: set aside and shown in the
banner, never a traceback or a silent fresh start; headless screenshot runs ask nothing; the
session's frame is restored; the close prompt is about the edits, not the video."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hv_double import FakeComputer, FakeFrames
from hv_helpers import FakeDialogs, wait_result

import handviewer.gui.app as app_module
from handviewer.gui.app import App, start_frame
from handviewer.gui.dialogs import save_question
from handviewer.session import Autosaver, RecentFiles, Session, load_session, project_paths, recovery_file, save_session


@pytest.fixture
def open_app(qtbot, tmp_path, monkeypatch):
    """open_app(video, **dialog answers) -> (App, window, FakeDialogs); windows closed at teardown."""
    monkeypatch.setattr(app_module, "open_frames", lambda path: FakeFrames(20))
    apps = []

    def factory(frames, video_path, predictions=None):
        return FakeComputer(frame_count=frames.frame_count)

    def open_(video, **answers):
        dialogs = FakeDialogs()
        for name, value in answers.items():
            setattr(dialogs, name, value)
        app = App(factory, dialogs_factory=lambda parent: dialogs, recent=RecentFiles(tmp_path / "recent.json"))
        window = app.open(str(video))
        apps.append(window)
        qtbot.waitExposed(window)
        return app, window, dialogs

    yield open_
    for window in apps:
        window.dialogs.save_answer = "discard"
        window.close()
        window.shutdown()


def saved(video, frame=0):
    s = Session(str(video), frame_count=20)
    s.set_flag(2, "verified")
    s.set_frame(frame)
    save_session(s)
    return s


def corrupt_copies(video, name):
    return [p for p in video.parent.iterdir() if p.name.startswith(name + ".corrupt-")]


def test_damaged_session_file_is_set_aside_and_shown(qtbot, open_app, video):
    saved(video)
    paths = project_paths(video)
    paths.project.write_text('{"format": "handviewer-session", "version": 1, "flags": {"2": "ver')
    _, window, dialogs = open_app(video)
    assert window.warning_banner.isVisible() and "moved aside" in window.warning_banner.label.text()
    assert len(corrupt_copies(video, paths.project.name)) == 1 and window.session.flags == {}
    window.session.set_flag(4, "rejected")
    assert window.save() and load_session(video).flags == {4: "rejected"}
    assert len(corrupt_copies(video, paths.project.name)) == 1  # the damaged file is still kept


def test_damaged_autosave_answered_yes_opens_the_video_and_is_not_offered_again(qtbot, open_app, video):
    saved(video)
    s = load_session(video)
    s.set_flag(7, "rejected")
    Autosaver(s).maybe_save()
    project_paths(video).autosave.write_bytes(b"\x00garbage")
    _, window, dialogs = open_app(video, recover=True)
    assert dialogs.asked == ["recover"] and window.session.flags == {2: "verified"}
    assert "autosave" in window.warning_banner.label.text() and recovery_file(video) is None
    window.close()
    _, again, dialogs = open_app(video)
    assert dialogs.asked == [] and not again.warning_banner.isVisible()


def test_session_warnings_and_input_warnings_share_the_banner(qtbot, make_window, video):
    session = Session(str(video), 20, 30.0)
    session.load_warnings = ["the saved session clip.mp4.handviewer.json is damaged"]
    computer = FakeComputer(frame_count=20)
    computer.input_warnings = ["the 2D keypoints cover 3 of 20 frames"]
    window = make_window(computer, session=session)
    qtbot.waitUntil(lambda: "cover 3 of 20" in window.warning_banner.label.text(), timeout=5000)
    assert "is damaged" in window.warning_banner.label.text()


def test_reopening_a_video_restores_its_frame(qtbot, open_app, video):
    saved(video, frame=13)
    _, window, _ = open_app(video)
    assert window.session.current == 13 and window.timeline.slider.value() == 13
    wait_result(qtbot, window, 13)
    # the command line passes --frame 0 when none is given: that must not move the session to frame 0
    assert start_frame(0, None) is None and start_frame(None, None) is None and start_frame(5, None) == 5
    assert start_frame(0, "shot.png") == 0


def test_close_prompt_names_the_edits_and_the_session_file(qtbot, make_window, video):
    window = make_window()
    window.session.set_flag(1, "verified")
    window.dialogs.save_answer = "cancel"
    window.close()
    assert window.dialogs.save_prompts == [("clip.mp4", "clip.mp4.handviewer.json")]
    question = save_question("clip.mp4")
    assert "edits" in question and "keypoints" in question and "changes to" not in question


def test_headless_screenshot_never_asks_to_recover(tmp_path):
    """`handviewer demo --screenshot` with an autosave of the sample: no dialog (it used to hang),
    the autosave kept, a warning on stderr; the sample's session files live in the data folder."""
    from handviewer.assets import asset_path

    video = asset_path("sample/video.mp4")
    s = Session(str(video), frame_count=100)
    s.set_flag(1, "verified")
    autosave = Autosaver(s).maybe_save()
    assert str(autosave).startswith(os.environ["HANDVIEWER_DATA_DIR"])
    shot = tmp_path / "shot.png"
    done = subprocess.run([sys.executable, "-m", "handviewer", "demo", "--screenshot", str(shot)],
                          capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert "handviewer: warning:" in done.stderr and "not recovered" in done.stderr
    assert autosave.exists() and recovery_file(video) == autosave
    assert np.all([not p.name.endswith(".handviewer.json") for p in video.parent.iterdir()])
