"""The real MainWindow driven with pytest-qt, with FakeComputer/FakeFrames (tests/gui/hv_double.py)."""

import numpy as np
import torch
from hv_helpers import wait_idle, wait_result
from hv_double import FakeComputer
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

import handviewer


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier):
    """A key press as the user makes it: to the focused widget of the active window (shortcuts apply)."""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(QApplication.focusWidget() or window, k, modifier)


def test_opens_shows_image_then_3d(qtbot, make_window):
    computer = FakeComputer(frame_count=20, initial_delay=0.2)
    window = make_window(computer, first_pass=False)
    assert not window.frame_view.pixmap_item.pixmap().isNull()  # image at once
    assert window.scene_view.shown_estimates() == [None]  # 3D not yet
    result = wait_result(qtbot, window, 0)
    assert np.allclose(window.scene_view.scenes[0].datasets["mesh_right"].points, result.before.vertices[0])
    assert computer.calls["warm_up"] == 1
    assert "MainThread" not in computer.threads  # all compute in the worker
    assert f"handviewer {handviewer.__version__}" in window.windowTitle() and "clip.mp4" in window.windowTitle()
    assert window.metrics_panel.value("intersection_count", "before") == "90"
    assert window.metrics_panel.value("intersection_count", "after") == "—"


def test_scrub_with_slider_keys_and_spinbox(qtbot, make_window):
    window = make_window()
    wait_result(qtbot, window, 0)
    window.timeline.slider.setValue(5)
    assert window.session.current == 5 and window.timeline.spin.value() == 5
    wait_result(qtbot, window, 5)
    key(qtbot, window, Qt.Key.Key_Right)
    assert window.session.current == 6
    key(qtbot, window, Qt.Key.Key_Left)
    key(qtbot, window, Qt.Key.Key_Left)
    assert window.session.current == 4 and window.timeline.slider.value() == 4
    key(qtbot, window, Qt.Key.Key_End)
    assert window.session.current == 19
    key(qtbot, window, Qt.Key.Key_Home)
    assert window.session.current == 0
    window.timeline.spin.setValue(12)
    assert window.session.current == 12 and window.timeline.slider.value() == 12
    wait_result(qtbot, window, 12)
    # scrubbing back to a cached frame is instant and computes nothing
    calls = window.computer.calls["compute_initial"]
    window.timeline.slider.setValue(5)
    assert window.scene_view.shown_estimates()[0] is window.session.results[5].before
    assert window.computer.calls["compute_initial"] == calls


def test_fast_scrubbing_computes_only_the_latest_frame(qtbot, make_window):
    window = make_window(FakeComputer(frame_count=20, initial_delay=0.1))
    wait_result(qtbot, window, 0)
    for i in range(1, 15):
        window.timeline.slider.setValue(i)
    wait_result(qtbot, window, 14)
    wait_idle(qtbot, window)
    assert window.computer.calls["compute_initial"] <= 3  # 0, maybe 1 (already running), 14


def test_play_pause_with_space(qtbot, make_window):
    window = make_window()
    key(qtbot, window, Qt.Key.Key_Space)
    assert window.timeline.playing
    qtbot.waitUntil(lambda: window.session.current >= 3, timeout=5000)
    key(qtbot, window, Qt.Key.Key_Space)
    assert not window.timeline.playing


def refine_current(qtbot, window):
    window.settings_panel.refine_button.click()
    return wait_result(qtbot, window, refined=True)


def test_refine_button_and_before_after_toggle(qtbot, make_window):
    window = make_window()
    wait_result(qtbot, window, 0)
    window.session.set_settings(steps=5)
    assert np.isnan(window.timeline.chart.after[0])
    assert window.progress_bar.isHidden()
    result = refine_current(qtbot, window)
    wait_idle(qtbot, window)
    assert window.timeline.chart.after[0] == 0.0 and window.timeline.chart.before[0] > 0
    assert window.progress_bar.isHidden()
    # The frame the user refined is shown refined at once (a new user saw "Before (initial)" with no hint).
    mesh = window.scene_view.scenes[0].datasets["mesh_right"]
    assert window.session.show_refined and window.refined_action.isChecked()
    assert window.scene_view.titles[0].text() == "After (refined)"
    assert np.allclose(mesh.points, result.after.vertices[0])
    assert not window.scene_view.scenes[0].is_shown("intersections")  # none left after refinement
    assert window.metrics_panel.value("intersection_count", "after") == "0"
    key(qtbot, window, Qt.Key.Key_B)  # B: back to the initial estimate
    assert not window.session.show_refined and not window.refined_action.isChecked()
    assert np.allclose(mesh.points, result.before.vertices[0]) and not np.allclose(mesh.points, result.after.vertices[0])
    window.refined_action.trigger()
    assert window.session.show_refined and np.allclose(mesh.points, result.after.vertices[0])


def test_side_by_side_shows_before_and_after(qtbot, make_window):
    window = make_window()
    wait_result(qtbot, window, 0)
    refine_current(qtbot, window)
    window.side_action.trigger()
    view = window.scene_view
    assert view.holders[1].isVisible()
    before, after = view.shown_estimates()
    assert before is window.session.results[0].before and after is window.session.results[0].after
    assert view.interactors[0].renderer.camera is view.interactors[1].renderer.camera


def test_cancel_long_refine(qtbot, make_window):
    computer = FakeComputer(frame_count=20, refine_step_delay=0.05)
    window = make_window(computer)
    wait_result(qtbot, window, 0)
    window.session.set_settings(steps=200)  # 10 s
    window.settings_panel.refine_button.click()
    qtbot.waitUntil(lambda: window.progress_bar.value() > 0, timeout=5000)
    assert window.cancel_button.isVisible()
    window.cancel_button.click()
    wait_idle(qtbot, window, timeout=3000)
    assert computer.closed_generators == 1
    assert window.session.results[0].after is None and window.progress_bar.isHidden()
    assert "cancelled" in window.status_label.text()


def test_refine_all_and_cancel_keeps_finished_chunks(qtbot, make_window):
    computer = FakeComputer(frame_count=20, refine_step_delay=0.03)
    window = make_window(computer)
    window.session.set_settings(steps=4)  # a chunk of 8 frames takes about 1 s
    window.settings_panel.refine_all_button.click()
    qtbot.waitUntil(lambda: len(window.session.frames_for("refined")) >= 8, timeout=10_000)
    window.controller.cancel_long_work()
    wait_idle(qtbot, window)
    refined = window.session.frames_for("refined")
    assert 8 <= len(refined) < 20 and refined == list(range(len(refined)))
    assert np.isfinite(window.timeline.chart.after[:8]).all()


def test_next_frame_with_intersections_before_the_first_pass(qtbot, make_window):
    computer = FakeComputer(frame_count=20)
    computer.first_pass_delay = 0.2
    window = make_window(computer, first_pass=False)
    window.controller.queue.cancel_where(lambda job: job.kind == "first_pass")  # frames unknown until shown
    for i in (3, 4, 7):
        window.session.set_frame(i)
        wait_result(qtbot, window, i)
    window.session.set_frame(0)
    wait_result(qtbot, window, 0)
    key(qtbot, window, Qt.Key.Key_N)
    assert window.session.current == 3
    key(qtbot, window, Qt.Key.Key_N)
    assert window.session.current == 7  # frame 4: spheres apart
    key(qtbot, window, Qt.Key.Key_N)
    assert window.session.current == 0  # wraps around


def test_strip_chart_click_jumps_and_shows_gaps(qtbot, make_window):
    computer = FakeComputer(frame_count=20)
    computer.first_pass_delay = 0.2
    window = make_window(computer, first_pass=False)
    window.controller.queue.cancel_where(lambda job: job.kind == "first_pass")  # frames unknown until shown
    wait_result(qtbot, window, 0)
    chart = window.timeline.chart
    x = int(chart.x_of(10))
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QPoint(x, chart.height() // 2))
    assert window.session.current == 10
    wait_result(qtbot, window, 10)
    assert np.isfinite(chart.before[[0, 10]]).all() and np.isnan(chart.before[5])
    chart.grab()  # paints with gaps without error


def test_undo_reaches_the_edits_while_the_frame_number_has_the_focus(qtbot, make_window):
    """A user who has just typed a frame number presses Ctrl+Z: the keypoint edit is undone (the
    frame field used to swallow it), and Ctrl+Shift+Z redoes it."""
    window = make_window()
    wait_result(qtbot, window, 0)
    wait_idle(qtbot, window)
    window.session.move_keypoint(0, 1, 4, 123.0, 45.0)
    assert 0 in window.session.keypoint_edits
    field = window.timeline.spin
    window.activateWindow()
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field, timeout=2000)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert 0 not in window.session.keypoint_edits
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.allclose(window.session.keypoint_edits[0][1, 4, :2], [123.0, 45.0])


def test_a_keypoint_edit_replaces_the_last_jobs_message(qtbot, make_window):
    """The status line no longer says "Refining frame 0: done" once the user has moved a keypoint of
    that frame (the refined result it announced is gone)."""
    window = make_window()
    wait_result(qtbot, window, 0)
    wait_idle(qtbot, window)
    window.say("Refining frame 0: done", important=True)
    window.session.move_keypoint(0, 1, 4, 123.0, 45.0)
    assert window.status_label.text() == "Frame 0: 2D keypoints changed"
    window.session.undo()
    assert window.status_label.text() == "Frame 0: 2D keypoints changed"


def test_drag_keypoint_then_undo_redo(qtbot, make_window):
    window = make_window()
    original = wait_result(qtbot, window, 0)
    wait_idle(qtbot, window)
    view = window.frame_view
    item = view.keypoints[0][0]  # right wrist
    start = view.mapFromScene(item.scenePos())
    end = start + QPoint(40, 25)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), start + QPoint(20, 12))
    qtbot.mouseMove(view.viewport(), end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    target = view.mapToScene(end)
    edited = window.session.keypoint_edits[0]
    assert np.allclose(edited[0, 0, :2], [target.x(), target.y()], atol=2.0)
    assert window.session.dirty and window.windowTitle().endswith("*")
    assert window.undo_action.isEnabled() and "keypoint" in window.undo_action.text()
    # forwarded to the computer, the frame recomputed with the new keypoints
    recomputed = wait_result(qtbot, window, 0)
    assert recomputed is not original and window.computer.calls["set_keypoints"] == 1
    assert np.allclose(window.computer.edits[0], edited)
    assert not np.allclose(recomputed.before.vertices[0], original.before.vertices[0])
    # a bone follows the moved keypoint
    bone = view.bones[0][0].line()  # wrist -> thumb CMC
    assert abs(bone.x1() - target.x()) < 2.0
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert 0 not in window.session.keypoint_edits and window.session.results[0] is original
    assert np.allclose(view.keypoint_scene_pos(0, 0).x(), original.keypoints_2d[0, 0, 0])
    qtbot.waitUntil(lambda: window.computer.calls["set_keypoints"] == 2, timeout=5000)
    assert np.allclose(window.computer.edits[0], original.keypoints_2d)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.allclose(window.session.keypoint_edits[0], edited)
    assert window.session.results[0] is recomputed


def test_mark_verified_and_rejected(qtbot, make_window):
    window = make_window()
    key(qtbot, window, Qt.Key.Key_V)
    assert window.session.flags == {0: "verified"}
    assert "verified" in window.metrics_panel.header
    window.session.set_frame(2)
    key(qtbot, window, Qt.Key.Key_X)
    assert window.session.flags == {0: "verified", 2: "rejected"}
    window.undo_action.trigger()
    assert window.session.flags == {0: "verified"}
    window.redo_action.trigger()
    assert window.session.flags[2] == "rejected"


def test_computer_error_is_shown_not_raised(qtbot, make_window):
    window = make_window(FakeComputer(frame_count=20, fail_on={3}))
    wait_result(qtbot, window, 0)
    window.session.set_frame(3)
    qtbot.waitUntil(lambda: bool(window.dialogs.errors), timeout=5000)
    title, message = window.dialogs.errors[0]
    assert "frame 3" in title and "synthetic failure computing frame 3" in message
    assert "synthetic failure" in window.status_label.text()
    window.session.set_frame(4)  # the app keeps working
    wait_result(qtbot, window, 4)


def test_real_error_box_is_non_blocking(qtbot):
    from handviewer.gui.dialogs import Dialogs

    dialogs = Dialogs()
    dialogs.show_error("Computing frame 3 failed", "RuntimeError: boom\n  pipeline.py:10 in refine")
    box = dialogs.open_boxes[0]
    assert box.isVisible() and not box.isModal() and "boom" in box.text()
    box.close()


def test_layers_settings_about_and_camera(qtbot, make_window):
    window = make_window()
    wait_result(qtbot, window, 0)
    view = window.scene_view
    view.checkboxes["mesh"].setChecked(False)
    assert window.session.layers["mesh"] is False and not view.scenes[0].is_shown("mesh_right")
    view.checkboxes["density"].setChecked(True)
    qtbot.waitUntil(lambda: view.scenes[0].is_shown("density_right"), timeout=5000)
    assert view.scenes[0].is_shown("density_left")
    for name, button in view.preset_buttons.items():
        button.click()
    panel = window.settings_panel
    panel.point_set.setCurrentText("mesh")
    cuda_item = panel.device.model().item(panel.device.findText("cuda"))
    assert cuda_item.isEnabled() == torch.cuda.is_available()  # offered only where there is one
    panel.device.setCurrentText("cuda")  # e.g. a session saved on a machine with a GPU
    assert panel.device_note.isVisibleTo(panel) != torch.cuda.is_available()
    assert torch.cuda.is_available() or "running on the CPU" in panel.device_note.text()
    panel.device.setCurrentText("cpu")
    assert not panel.device_note.isVisibleTo(panel)
    panel.weight.setText("1e-05")
    panel.weight.editingFinished.emit()
    panel.steps.setValue(7)
    panel.contact.setValue(1.5)
    panel.both_hands.setChecked(False)
    panel.safe_mode.setChecked(True)
    s = window.session.settings
    assert (s.point_set, s.device, s.weight, s.steps, s.both_hands, s.safe_mode) == ("mesh", "cpu", 1e-5, 7, False, True)
    assert s.contact_mm == 1.5
    window.actions_by_name["About handviewer"].trigger()
    assert handviewer.__version__ in window.dialogs.abouts[0]


def test_mesh_outline_and_part_segmentation_on_the_image(qtbot, make_window):
    window = make_window()
    wait_result(qtbot, window, 0)
    view = window.frame_view
    assert all(item.isVisible() for item in view.outlines)  # the outline is on by default
    assert all(not item.path().isEmpty() for item in view.outlines)
    assert not view.mask_item.isVisible()
    window.actions_by_name["Part segmentation on the image"].trigger()
    assert window.session.layers["parts2d"] is True and view.mask_item.isVisible()
    mask = view.mask_item.pixmap().toImage()
    assert not mask.isNull() and (mask.width(), mask.height()) == view.image_size
    window.actions_by_name["Mesh outline on the image"].trigger()
    assert not any(item.isVisible() for item in view.outlines)


def test_drop_video_calls_the_open_callback(qtbot, make_window, tmp_path):
    opened = []
    window = make_window(on_open=opened.append)
    other = tmp_path / "other.mp4"
    other.write_bytes(b"x")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(50, 50), *args)  # QPoint: the only form every PySide6 6.x accepts
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(50, 50), *args))
    assert opened == [str(other)]
    window.dialogs.video = str(other)
    window.actions_by_name["Open video"].trigger()
    assert opened == [str(other), str(other)]


def test_export_writes_the_process_files_with_flags_and_refuses_a_folder_of_other_files(qtbot, make_window, tmp_path):
    import csv
    import json

    from handviewer.gui.export import ExportOptions

    window = make_window()
    wait_result(qtbot, window, 0)
    refine_current(qtbot, window)
    window.session.set_flag(0, "verified")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"not ours")
    window.dialogs.export = ExportOptions("all", str(foreign))
    window.actions_by_name["Export"].trigger()
    qtbot.waitUntil(lambda: bool(window.dialogs.errors), timeout=5000)
    assert "holds other files" in window.dialogs.errors[0][1]
    assert [p.name for p in foreign.iterdir()] == ["holiday.jpg"]  # nothing written there
    out = tmp_path / "out"
    window.export(ExportOptions("all", str(out), meshes=True))
    wait_idle(qtbot, window)
    assert len(window.session.results) == 20  # missing frames were computed first
    assert "Exported" in window.status_label.text(), window.dialogs.errors
    # The same files as `handviewer process`, with per-frame flags.
    for name in ("joint_3d_before.json", "joint_3d_after.json", "camera.json", "hands.npz", "metrics_before.csv",
                 "metrics_after.csv", "frames.csv", "metadata.json"):
        assert (out / name).exists(), name
    rows = list(csv.DictReader(open(out / "metrics_after.csv")))
    assert len(rows) == 20 and float(rows[0]["intersection_count"]) == 0  # frame 0: refined estimate
    frames = list(csv.DictReader(open(out / "frames.csv")))
    assert (frames[0]["refined"], frames[0]["verified"], frames[1]["refined"], frames[1]["verified"]) == ("1", "1", "0", "0")
    # frame 0 was refined apart, frame 1 is exported unrefined and still intersecting; frame 4's spheres are apart
    assert [frames[i]["intersecting"] for i in (0, 1, 4)] == ["0", "1", "0"]
    data = np.load(out / "hands.npz")
    assert data["joints"].shape == (20, 2, 21, 3) and data["refined"][0] and data["verified"][0] and not data["refined"][1]
    meta = json.load(open(out / "metadata.json"))
    assert meta["camera"]["K"][0][0] > 0 and meta["counts"] == {"frames": 20, "refined": 1, "verified": 1, "rejected": 0,
                                                                 "intersecting": 15}
    assert len(list((out / "meshes").glob("*_before_*.ply"))) == 40 and len(list((out / "meshes").glob("*_after_*.ply"))) == 2
    window.export(ExportOptions("verified", str(tmp_path / "verified")))
    wait_idle(qtbot, window)
    assert len(list(csv.DictReader(open(tmp_path / "verified" / "metrics_after.csv")))) == 1
    window.export(ExportOptions("verified", str(out)))  # an earlier export is replaced whole
    wait_idle(qtbot, window)
    assert len(list(csv.DictReader(open(out / "frames.csv")))) == 1 and not (out / "meshes").exists()


def test_input_warnings_reach_the_status_bar_once_the_models_are_ready(qtbot, make_window):
    computer = FakeComputer(frame_count=20)
    computer.input_warnings = ["the 3D predictions cover 7 of 20 frames; the others are estimated from the 2D keypoints"]
    window = make_window(computer, show=False)
    said = []
    window.controller.status.connect(said.append)
    window.show()
    qtbot.waitUntil(lambda: window.controller.is_ready, timeout=5000)
    assert any(s.startswith("Ready") and "cover 7 of 20 frames" in s for s in said), said
    # The status bar's line is overwritten by the next message; the banner stays until dismissed.
    banner = window.warning_banner
    assert banner.isVisible() and "cover 7 of 20 frames" in banner.label.text()
    window.model.step(1)
    qtbot.waitUntil(lambda: window.model.results.get(1) is not None, timeout=5000)
    assert banner.isVisible()
    qtbot.mouseClick(banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()


def test_no_warning_banner_for_clean_inputs(qtbot, make_window):
    window = make_window()
    qtbot.waitUntil(lambda: window.controller.is_ready, timeout=5000)
    assert not window.warning_banner.isVisible()


def test_a_frame_without_hands_cannot_be_refined_or_verified(qtbot, make_window):
    from dataclasses import replace

    from handviewer.pipeline.results import HandsEstimate

    window = make_window()
    result = wait_result(qtbot, window, 0)
    empty = replace(result, before=HandsEstimate(joints=np.full((2, 21, 3), np.nan, np.float32)))
    window.model.set_results({0: empty})
    refines = window.computer.calls["refine"]
    window.settings_panel.refine_button.click()
    window.actions_by_name["Mark verified"].trigger()
    wait_idle(qtbot, window)
    assert window.computer.calls["refine"] == refines and window.session.flags.get(0) is None
    assert "no hands to verify" in window.status_label.text()


def test_a_resize_just_before_closing_does_not_draw_into_the_finalized_views(qtbot, make_window):
    # Seen in CI: a resize's refit timer fired after shutdown() had finalized the render windows
    # and raised in the event loop ("Interactor has no attribute 'window_size'").
    window = make_window()
    wait_result(qtbot, window, 0)
    window.resize(window.width() + 40, window.height() + 30)
    assert window.scene_view._fit_timer.isActive()
    window.shutdown()
    assert not window.scene_view._fit_timer.isActive()
    window.scene_view.refit()  # the timer's slot and late signals are no-ops now
    window.scene_view.refresh()
    qtbot.wait(150)
