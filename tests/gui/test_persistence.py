"""Saving, reloading, autosave and crash recovery through the real window and the App layer."""

import numpy as np
from hv_helpers import FakeDialogs, wait_idle, wait_result
from hv_double import FakeComputer, FakeFrames

from handviewer.gui.app import App
from handviewer.session import RecentFiles, load_session, project_paths, recovery_file


def edit_and_refine(qtbot, window):
    wait_result(qtbot, window, 0)
    wait_idle(qtbot, window)
    window.session.move_keypoint(0, 1, 4, 123.0, 45.0)
    window.session.set_flag(0, "verified")
    window.session.set_settings(steps=3, point_set="sparse")
    window.refine_frame()
    return wait_result(qtbot, window, 0, refined=True)


def test_save_and_reload_in_a_new_window(qtbot, make_window, video):
    window = make_window()
    refined = edit_and_refine(qtbot, window)
    window.session.set_frame(0)
    window.actions_by_name["Save session"].trigger()
    assert not window.session.dirty and not window.windowTitle().endswith("*")
    assert project_paths(video).project.exists() and "Saved" in window.status_label.text()

    computer = FakeComputer(frame_count=20)
    again = make_window(computer, session=load_session(video))
    assert again.session.flags == {0: "verified"} and again.session.settings.point_set == "sparse"
    assert np.allclose(again.session.keypoint_edits[0][1, 4], [123, 45, 1])
    shown = again.scene_view.scenes[0].datasets["mesh_right"].points
    # cached results, shown without recomputing, as the view was saved (refined: a refined frame is shown so)
    assert again.session.show_refined and np.allclose(shown, refined.after.vertices[0])
    qtbot.waitUntil(lambda: computer.calls["set_keypoints"] == 1, timeout=5000)  # edits replayed
    assert np.allclose(computer.edits[0][1, 4], [123, 45, 1])
    assert computer.calls["compute_initial"] == 0
    assert again.session.results[0].after is not None


def test_close_asks_to_save_and_cancel_keeps_window(qtbot, make_window, video):
    window = make_window()
    window.session.set_flag(3, "rejected")
    window.dialogs.save_answer = "cancel"
    assert not window.close()
    assert window.isVisible() and window.dialogs.asked == ["save"]
    window.dialogs.save_answer = "save"
    assert window.close()
    assert load_session(video).flags == {3: "rejected"}


def test_autosave_then_recovery_after_a_crash(qtbot, make_window, video, tmp_path):
    window = make_window(autosave_ms=50)
    edit_and_refine(qtbot, window)
    qtbot.waitUntil(lambda: recovery_file(video) is not None, timeout=5000)
    qtbot.waitUntil(lambda: any("Autosaved" in m for m in window.message_log.messages), timeout=5000)
    # "crash": the window goes away without the save prompt (as if the process died)
    window.shutdown()

    dialogs = FakeDialogs()
    factory_calls = []

    def factory(frames, video_path, predictions=None):
        factory_calls.append(video_path)
        return FakeComputer(frame_count=frames.frame_count)

    app = App(factory, dialogs_factory=lambda parent: dialogs, recent=RecentFiles(tmp_path / "recent.json"))
    import handviewer.gui.app as app_module

    app_module_open_frames = app_module.open_frames
    app_module.open_frames = lambda path: FakeFrames(20)
    try:
        recovered = app.open(str(video))
    finally:
        app_module.open_frames = app_module_open_frames
    try:
        assert "recover" in dialogs.asked
        s = recovered.session
        assert s.dirty and s.flags == {0: "verified"} and s.settings.steps == 3
        assert np.allclose(s.keypoint_edits[0][1, 4], [123, 45, 1]) and s.results[0].after is not None
        wait_idle(qtbot, recovered)
        assert factory_calls == [str(video)], (dialogs.errors, recovered.last_error)  # built in the worker
        assert app.recent.items()[0].endswith("clip.mp4")
        recovered.save()
        assert recovery_file(video) is None  # a clean save removes the autosave
    finally:
        recovered.dialogs.save_answer = "discard"
        recovered.close()
        recovered.shutdown()


def test_discarding_on_close_removes_the_autosave(qtbot, make_window, video):
    window = make_window()
    window.session.set_flag(2, "verified")
    window.autosave_now()
    assert recovery_file(video) is not None
    window.dialogs.save_answer = "discard"
    window.close()
    assert recovery_file(video) is None


def test_recent_files_menu(qtbot, make_window, video, tmp_path):
    opened = []
    recent = RecentFiles(tmp_path / "recent.json")
    recent.add(video)
    window = make_window(recent=recent, on_open=opened.append)
    window.recent_menu.aboutToShow.emit()
    actions = window.recent_menu.actions()
    assert [a.text() for a in actions] == [str(video.resolve())]
    actions[0].trigger()
    assert opened == [str(video.resolve())]
