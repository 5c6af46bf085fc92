"""The app for dataset work: the first pass over the whole video, N/P/W over all frames, the review
queue driven from the keyboard, help windows, the layout at 900x600, kept messages and ETAs."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox

from hv_double import FakeComputer
from hv_helpers import wait_idle, wait_result


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier):
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(QApplication.focusWidget() or window, k, modifier)


def test_first_pass_fills_the_chart_and_n_p_w_reach_frames_never_shown(qtbot, make_window):
    computer = FakeComputer(frame_count=20)
    window = make_window(computer)
    chart = window.timeline.chart
    assert np.isfinite(chart.before).all()  # every frame, none of them shown
    assert computer.calls["compute_initial"] <= 2  # only the shown frame was computed in full
    assert "intersect" in window.status_label.text() or any("First pass" in m for m in window.message_log.messages)
    key(qtbot, window, Qt.Key.Key_P)  # from 0 backwards: 19 is apart, 18 overlaps
    assert window.session.current == 18
    key(qtbot, window, Qt.Key.Key_N)
    assert window.session.current == 0
    key(qtbot, window, Qt.Key.Key_W)  # the fake's deepest overlap: frames 3, 7, ...; the first one
    assert window.session.current == 3
    assert "Worst frame: 3" in window.status_label.text()
    wait_result(qtbot, window, 3)  # and the frame opened there is computed in full


def test_a_frame_opened_during_the_first_pass_is_shown_before_the_pass_ends(qtbot, make_window):
    computer = FakeComputer(frame_count=40)
    computer.first_pass_delay = 0.05  # 2 s for the pass, 0.8 s a chunk
    window = make_window(computer, first_pass=False)
    qtbot.waitUntil(lambda: getattr(window.controller.queue.running, "kind", "") == "first_pass", timeout=5000)
    assert window.progress_bar.isVisible() and window.cancel_button.isVisible()
    window.session.set_frame(30)
    wait_result(qtbot, window, 30, timeout=3000)
    assert len(window.session.overview) < 40  # the pass stepped aside for the frame
    qtbot.waitUntil(lambda: len(window.session.overview) == 40, timeout=10000)
    assert np.isfinite(window.timeline.chart.before).all()


def test_the_first_pass_can_be_cancelled_and_run_again(qtbot, make_window):
    computer = FakeComputer(frame_count=40)
    computer.first_pass_delay = 0.05
    window = make_window(computer, first_pass=False)
    qtbot.waitUntil(lambda: getattr(window.controller.queue.running, "kind", "") == "first_pass", timeout=5000)
    window.cancel_button.click()
    wait_idle(qtbot, window)
    assert len(window.session.overview) < 40
    assert "cancelled" in window.status_label.text()
    computer.first_pass_delay = 0.0
    window.actions_by_name["First pass over all frames"].trigger()
    qtbot.waitUntil(lambda: len(window.session.overview) == 40, timeout=10000)


def test_review_from_the_keyboard_accept_reject_refine_undo(qtbot, make_window):
    window = make_window()
    panel = window.review_panel
    qtbot.waitUntil(lambda: len(panel.state.queue) == 16, timeout=3000)  # 20 frames, every 5th apart
    assert panel.progress.format() == "0 / 16 reviewed"
    key(qtbot, window, Qt.Key.Key_A)  # accept frame 0: verified, on to the next queued frame
    assert window.session.flags == {0: "verified"} and window.session.current == 1
    key(qtbot, window, Qt.Key.Key_R)  # reject frame 1
    assert window.session.flags[1] == "rejected" and window.session.current == 2
    qtbot.waitUntil(lambda: panel.progress.format() == "2 / 16 reviewed", timeout=3000)
    wait_result(qtbot, window, 2)
    key(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # refine frame 2
    wait_result(qtbot, window, 2, refined=True)
    qtbot.waitUntil(lambda: 2 not in panel.state.categories["intersecting"], timeout=3000)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the reject of frame 1
    assert 1 not in window.session.flags
    key(qtbot, window, Qt.Key.Key_BracketRight)  # next unreviewed in the queue after 2
    assert window.session.current == 3
    key(qtbot, window, Qt.Key.Key_BracketLeft)  # back: 2 is still queued (refined) and unreviewed
    assert window.session.current == 2
    panel.category_buttons["verified"].click()
    assert window.session.current == 0
    window.actions_by_name["Show the review queue"].trigger()  # its frame line is kept up to date while shown
    qtbot.waitUntil(panel.isVisible, timeout=2000)
    assert "Frame 0 (in the queue)" in panel.frame_label.text() and "verified" in panel.frame_label.text()


def test_export_restricted_to_verified_frames_says_which_are_refined_and_rejected(qtbot, make_window, tmp_path):
    from handviewer.gui.export import ExportOptions

    window = make_window()
    window.session.set_flag(5, "verified")
    window.session.set_flag(6, "rejected")
    out = tmp_path / "out"
    job = window.export(ExportOptions("verified", str(out)))
    qtbot.waitUntil(lambda: job.state == "finished", timeout=10000)
    rows = (out / "frames.csv").read_text().splitlines()
    assert rows[0].startswith("frame,refined,verified,rejected") and len(rows) == 2
    assert rows[1].startswith("5,0,1,0")
    assert "Exported 1 frame(s)" in window.status_label.text()
    window.say("routine message")  # an important message stays; routine ones wait in the log
    assert "Exported 1 frame(s)" in window.status_label.text()
    assert window.message_log.messages[-1] == "routine message"


def test_help_windows_list_the_shortcuts_and_the_guide(qtbot, make_window):
    window = make_window()
    key(qtbot, window, Qt.Key.Key_F1)
    shortcuts = window.help_windows["shortcuts"]
    assert shortcuts.isVisible()
    rows = {shortcuts.table.item(r, 0).text(): shortcuts.table.item(r, 1).text() for r in range(shortcuts.table.rowCount())}
    assert rows["Next frame with intersections"] == "N" and rows["Worst frame (largest intersection)"] == "W"
    assert rows["Accept: verify and go to the next in the queue"] == "A"
    window.actions_by_name["Guide"].trigger()
    guide = window.help_windows["guide"]
    assert guide.isVisible() and "review" in guide.text.toPlainText().lower()
    assert window.isVisible()  # non-modal: the work goes on beside them


def test_layout_at_900_by_600(qtbot, make_window):
    window = make_window()
    window.actions_by_name["Show the review queue"].trigger()
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.width() <= 900, timeout=2000)
    qtbot.wait(50)
    for box in window.scene_view.findChildren(QCheckBox):  # layer toggles: labels not cut
        assert box.width() >= box.sizeHint().width(), box.text()
    window.side_panel.setCurrentWidget(window.settings_panel)
    qtbot.wait(20)
    for box in window.settings_panel.findChildren(QCheckBox):  # the settings' labels are not cut
        assert box.width() >= box.sizeHint().width(), box.text()
    window.actions_by_name["Show the review queue"].trigger()
    qtbot.wait(20)
    assert window.review_panel.isVisible()
    for button in window.review_panel.category_buttons.values():  # review categories: not cut either
        assert button.width() >= button.sizeHint().width(), button.text()
        assert button.height() >= button.sizeHint().height(), button.text()
    views = window.top_splitter.widget(0)
    assert views.width() >= 560
    key(qtbot, window, Qt.Key.Key_F9)  # the side panel folds away for a larger image
    assert not window.side_panel.isVisible()
    qtbot.waitUntil(lambda: views.width() >= 850, timeout=2000)
    key(qtbot, window, Qt.Key.Key_F9)
    assert window.side_panel.isVisible()
    assert not window.timeline.play_button.icon().isNull()  # the play/pause glyph is an icon


def test_long_jobs_show_an_eta(qtbot, make_window):
    from handviewer.gui.main_window import format_eta

    assert format_eta(None) == "" and format_eta(42) == "about 42 s left"
    assert format_eta(125) == "about 2 min 05 s left" and format_eta(3700).startswith("about 1 h")
    computer = FakeComputer(frame_count=20, refine_step_delay=0.05)
    window = make_window(computer)
    window.session.set_settings(steps=4)
    window.refine_all()
    qtbot.waitUntil(lambda: "left" in window.progress_bar.format(), timeout=10000)
    bar = window.progress_bar
    assert bar.format().startswith("Refining 20 frames")
    text = bar.format().replace("%p%", "100%")
    assert bar.width() >= bar.fontMetrics().horizontalAdvance(text)  # the text is not clipped
    window.cancel_button.click()
    wait_idle(qtbot, window)


def test_camera_refits_on_resize_and_frame_change_unless_kept_or_moved(qtbot, make_window):
    window = make_window()
    wait_result(qtbot, window, 0)
    view = window.scene_view
    calls = []
    original = view.camera_preset
    view.camera_preset = lambda name: (calls.append(name), original(name))
    view.preset_buttons["front"].click()
    assert calls == ["front"]
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: len(calls) >= 2, timeout=3000)  # refit after the resize
    window.session.set_frame(2)
    wait_result(qtbot, window, 2)
    n = len(calls)
    assert n >= 3 and set(calls) == {"front"}  # and on the frame change
    view.keep_camera.setChecked(True)
    window.session.set_frame(3)
    wait_result(qtbot, window, 3)
    window.resize(1100, 760)
    qtbot.wait(300)
    assert len(calls) == n  # kept
    view.keep_camera.setChecked(False)
    view._on_interaction(0)  # the user rotated the camera: it stays where they put it
    window.session.set_frame(5)
    wait_result(qtbot, window, 5)
    assert len(calls) == n


def test_a_frame_whose_hands_lie_deeper_is_not_clipped_away_by_the_kept_video_camera(qtbot, make_window):
    """The video camera ("image") is not refitted when the next frame has the same camera; its near
    and far planes must still follow the hands (a new user saw a blank 3D view on a frame where the
    hands were 0.6 m deeper than in the frame before)."""
    window = make_window()
    wait_result(qtbot, window, 0)
    view = window.scene_view
    assert view._preset == "image"
    camera = view.interactors[0].renderer.GetActiveCamera()
    camera.SetClippingRange(1.0, 2.0)  # as left by a frame whose hands were far nearer
    window.session.set_frame(2)
    wait_result(qtbot, window, 2)
    near, far = camera.GetClippingRange()
    bounds = view.interactors[0].renderer.ComputeVisiblePropBounds()
    assert near <= bounds[4] and far >= bounds[5], ((near, far), bounds[4:])


def test_side_by_side_fits_the_hands_and_the_wheel_zooms_both_views(qtbot, make_window):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    window = make_window()
    wait_result(qtbot, window, 0)
    view = window.scene_view
    assert view._preset == "image"
    key(qtbot, window, Qt.Key.Key_S)
    assert view._preset == "front"  # two narrow views: fitted to the hands, not the whole image
    cams = [i.renderer.GetActiveCamera() for i in view.interactors]
    assert cams[0] is cams[1]
    distance = cams[0].GetDistance()
    rendered = []
    view._render_one = lambda k: rendered.append(k)
    target = view.interactors[1]
    centre = QPointF(target.width() / 2, target.height() / 2)
    event = QWheelEvent(centre, target.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(target, event)
    assert cams[0].GetDistance() < distance and 0 in rendered  # zoomed in the After view, Before follows
    assert view._preset is None


def test_a_video_without_keypoints_offers_to_detect_hands_in_a_frame_or_all(qtbot, make_window):
    computer = FakeComputer(frame_count=20)
    computer.bare = True
    window = make_window(computer)
    banner = window.detect_banner
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    assert "no hand keypoints" in banner.label.text()
    wait_result(qtbot, window, 0)
    assert np.isnan(window.session.keypoints(0)).all()
    banner.frame_button.click()  # this frame: an undoable edit
    qtbot.waitUntil(lambda: 0 in window.session.keypoint_edits, timeout=5000)
    assert np.isfinite(window.session.keypoints(0)).all() and not banner.isVisible()
    assert "hand(s) detected" in window.status_label.text()
    window.model.undo()
    assert 0 not in window.session.keypoint_edits
    computer.detect_delay = 0.05
    window.session.set_flag(3, "verified")
    window.actions_by_name["Detect hands in all frames"].trigger()  # all frames: in the worker, with progress
    qtbot.waitUntil(lambda: window.progress_bar.isVisible(), timeout=3000)
    # every frame is computed again from the detection
    qtbot.waitUntil(lambda: 0 in window.session.results
                    and np.isfinite(window.session.results[0].keypoints_2d).all(), timeout=5000)
    assert computer.calls["detect_all"] == 1
    qtbot.waitUntil(lambda: len(window.session.overview) == 20, timeout=5000)  # and the first pass again
    assert window.session.flags == {3: "verified"}  # the user's flags stay


def test_a_video_with_keypoints_shows_no_detect_banner(qtbot, make_window):
    window = make_window()
    wait_idle(qtbot, window)
    assert not window.detect_banner.isVisible()
