"""Edit > Add hand in the real window: the actions reach the session as one undoable step each and
the compute core gets the new keypoints (the maths is tested in tests/session/test_add_hand.py)."""

import numpy as np
from hv_double import FakeComputer


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
    window.actions_by_name["Place template left hand"].trigger()
    assert "drag its joints" in window.status_label.text() and np.isfinite(session.keypoints(4)[1]).all()
    session.set_frame(19)
    window.actions_by_name["Copy right hand from next frame"].trigger()
    assert "Cannot add the right hand: no frame after frame 19" in window.status_label.text()
