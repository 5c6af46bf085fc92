"""Edit > Add hand in the real window: the actions reach the session as one undoable step each and
the compute core gets the new keypoints (the maths is tested in tests/session/test_add_hand.py)."""

import numpy as np
import pytest
from hv_double import FakeComputer
from hv_helpers import wait_idle
from PySide6.QtCore import QPoint, Qt

from handviewer.session.add_hand import ADDED_CONFIDENCE, TEMPLATE_2D


def test_interpolate_copy_and_template_from_the_menu_each_undoable(make_window, qtbot):
    computer = FakeComputer(frame_count=20)
    for i in range(3, 7):  # the detector missed the left hand in frames 3-6
        kp = computer.keypoints(i)
        kp[1] = np.nan
        computer.edits[i] = kp
    window = make_window(computer=computer)
    session = window.session
    session.set_frame(4)
    window.actions_by_name["Interpolate left hand between key frames"].trigger()
    assert "4 frame(s) between frames 2 and 7" in window.status_label.text()
    for i in range(3, 7):
        assert np.isfinite(session.keypoints(i)[1]).all()
    qtbot.waitUntil(lambda: all(np.isfinite(computer.keypoints(i)[1]).all() for i in range(3, 7)), timeout=5000)
    window.undo_action.trigger()
    assert not session.keypoint_edits  # the whole gap in one step
    # The compute core gets the undone keypoints in its worker, as for any edit.
    qtbot.waitUntil(lambda: all(np.isnan(computer.keypoints(i)[1]).all() for i in range(3, 7)), timeout=5000)
    window.actions_by_name["Copy left hand from next frame"].trigger()
    assert "from frame 7" in window.status_label.text() and np.isfinite(session.keypoints(4)[1]).all()
    window.undo_action.trigger()
    window.actions_by_name["Place template left hand"].trigger()  # arms the gesture; Enter: default spot
    assert "press on its wrist" in window.status_label.text() and window.frame_view.template_gesture.active
    qtbot.keyClick(window.frame_view, Qt.Key.Key_Return)
    assert "drag its joints" in window.status_label.text() and np.isfinite(session.keypoints(4)[1]).all()
    session.set_frame(19)
    window.actions_by_name["Copy right hand from next frame"].trigger()
    assert "Cannot add the right hand: no frame after frame 19" in window.status_label.text()


def _left_hand_missing(frames=20, missing=(4,)):
    computer = FakeComputer(frame_count=frames)
    for i in missing:
        kp = computer.keypoints(i)
        kp[1] = np.nan
        computer.edits[i] = kp
    return computer


def test_template_hand_placed_by_a_drag_from_wrist_to_knuckle(make_window, qtbot):
    """Place template: press on the wrist, drag (the preview follows), release on the middle knuckle:
    one undoable step with the wrist where pressed and the middle MCP where released."""
    window = make_window(computer=_left_hand_missing())
    session, view = window.session, window.frame_view
    session.set_frame(4)
    wait_idle(qtbot, window)
    gesture = view.template_gesture
    window.actions_by_name["Place template left hand"].trigger()
    assert gesture.active and 4 not in session.keypoint_edits
    wrist, middle, knuckle = QPoint(150, 260), QPoint(170, 200), QPoint(210, 170)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=wrist)
    qtbot.mouseMove(view.viewport(), middle)
    preview = gesture.preview()  # the preview follows the drag: wrist at the press, knuckle at the mouse
    at = [view.mapToScene(p) for p in (wrist, middle, knuckle)]
    assert preview is not None and np.allclose(preview[0], [at[0].x(), at[0].y()], atol=1.5)
    assert np.allclose(preview[9], [at[1].x(), at[1].y()], atol=1.5)
    assert 4 not in session.keypoint_edits  # nothing recorded while dragging
    qtbot.mouseMove(view.viewport(), knuckle)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=knuckle)
    assert not gesture.active and gesture.preview() is None
    left = session.keypoints(4)[1]
    assert np.allclose(left[0, :2], [at[0].x(), at[0].y()], atol=1.5)
    assert np.allclose(left[9, :2], [at[2].x(), at[2].y()], atol=1.5)
    assert np.allclose(left[:, 2], ADDED_CONFIDENCE)
    # size and rotation from the drag: every joint is the mirrored template turned and scaled by it
    d = np.array([at[2].x() - at[0].x(), at[2].y() - at[0].y()])
    size, angle = np.hypot(*d), np.arctan2(d[0], -d[1])  # clockwise from "up" on the image
    c, s = np.cos(angle), np.sin(angle)
    expected = left[0, :2] + size * (TEMPLATE_2D * [-1.0, 1.0]) @ np.array([[c, -s], [s, c]]).T
    assert np.allclose(left[:, :2], expected, atol=0.5)
    assert np.isfinite(session.keypoints(4)[0]).all()  # the right hand untouched
    assert "Placed a template left hand" in window.status_label.text()
    assert "template" in window.undo_action.text()
    qtbot.waitUntil(lambda: np.isfinite(window.computer.keypoints(4)[1]).all(), timeout=5000)
    # keypoint drags work again after the gesture
    assert view.keypoints[1][0].isVisible()
    window.undo_action.trigger()  # one step removes the whole hand
    assert 4 not in session.keypoint_edits or not np.isfinite(session.keypoints(4)[1]).any()
    qtbot.waitUntil(lambda: np.isnan(window.computer.keypoints(4)[1]).all(), timeout=5000)


@pytest.mark.parametrize("how", ["escape", "escape elsewhere", "right button", "frame change"])
def test_template_gesture_cancelled_records_nothing(make_window, qtbot, how):
    window = make_window(computer=_left_hand_missing())
    session, view = window.session, window.frame_view
    session.set_frame(4)
    wait_idle(qtbot, window)
    undo_text = window.undo_action.text()
    window.actions_by_name["Place template left hand"].trigger()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(150, 260))
    qtbot.mouseMove(view.viewport(), QPoint(190, 200))
    assert view.template_gesture.preview() is not None
    if how == "escape":
        qtbot.keyClick(view, Qt.Key.Key_Escape)
    elif how == "escape elsewhere":  # the focus on another widget: Esc still cancels the gesture
        window.timeline.setFocus()
        qtbot.keyClick(window.timeline, Qt.Key.Key_Escape)
    elif how == "right button":
        qtbot.mousePress(view.viewport(), Qt.MouseButton.RightButton, pos=QPoint(190, 200))
    else:
        session.set_frame(5)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(190, 200))
    assert not view.template_gesture.active and view.template_gesture.preview() is None
    assert 4 not in session.keypoint_edits and 5 not in session.keypoint_edits
    assert window.undo_action.text() == undo_text
    if how != "frame change":
        assert "not placed" in window.status_label.text()
