"""Adding a missed hand by hand: copy from a neighbouring frame, interpolate between key frames, place
a template; each one undoable step, on frames the session has not computed yet too."""

import numpy as np
import pytest

from handviewer.session import Session
from handviewer.session.add_hand import (ADDED_CONFIDENCE, TEMPLATE_2D, copy_hand, gesture_placement, interpolate_hand,
                                         keypoints_source,
                                         place_template, present, template_hand)


def _hand(offset):
    """(21, 3) a hand: the template at 40 px scale, shifted by offset (x, y) px, confidence 0.9."""
    xy = 200.0 + 40.0 * TEMPLATE_2D + np.asarray(offset, np.float32)
    return np.concatenate([xy, np.full((21, 1), 0.9)], 1).astype(np.float32)


@pytest.fixture
def clip():
    """10 frames: the right hand moves 10 px right per frame; the left hand is missing in frames 3-6
    and 9, else 300 px to the right of the right hand, moving too."""
    kp = np.full((10, 2, 21, 3), np.nan, np.float32)
    for t in range(10):
        kp[t, 0] = _hand((10.0 * t, 0.0))
        if t not in (3, 4, 5, 6, 9):
            kp[t, 1] = _hand((300.0 + 10.0 * t, 0.0))
    session = Session("v.mp4", frame_count=10)
    return session, kp, keypoints_source(session, lambda i: kp[i].copy())


def test_copy_from_the_previous_or_next_frame_with_the_hand(clip):
    session, kp, of = clip
    assert copy_hand(session, of, 4, 1, -1) == 2
    got = session.keypoints(4)
    assert np.allclose(got[1, :, :2], kp[2, 1, :, :2]) and np.allclose(got[1, :, 2], ADDED_CONFIDENCE)
    assert np.allclose(got[0], kp[4, 0])  # the other hand untouched
    assert copy_hand(session, of, 5, 1, +1) == 7
    with pytest.raises(ValueError, match="no frame after frame 9 has the left hand"):
        copy_hand(session, of, 9, 1, +1)
    session.undo()
    assert session.keypoints(5) is None  # never seen: back to nothing edited
    session.undo()
    assert session.keypoints(4) is None and not session.keypoint_edits


def test_interpolation_fills_the_gap_linearly_in_one_undoable_step(clip):
    session, kp, of = clip
    first, last, changed = interpolate_hand(session, of, 5, 1)
    assert (first, last, changed) == (2, 7, 4)
    for t in range(3, 7):  # the truth moves linearly: the interpolation finds it exactly
        assert np.allclose(session.keypoints(t)[1, :, :2], _hand((300.0 + 10.0 * t, 0.0))[:, :2], atol=1e-3)
        assert present(session.keypoints(t), 1)
    assert "between frames 2 and 7" in session.history.undo_text()
    session.undo()  # the whole gap at once
    assert not session.keypoint_edits


def test_interpolation_prefers_frames_the_user_corrected_and_keeps_found_hands(clip):
    session, kp, of = clip
    corrected = kp[1].copy()
    corrected[1, :, 0] += 50.0  # the user moved the left hand of frame 1
    session.edit_frames({1: corrected}, {1: kp[1]})
    first, last, changed = interpolate_hand(session, of, 4, 1)
    assert (first, last) == (1, 7) and changed == 4  # frame 2 has the hand: kept
    assert np.allclose(session.keypoints(2) if session.keypoints(2) is not None else kp[2], kp[2], equal_nan=True)
    with pytest.raises(ValueError, match="no frame after frame 9"):
        interpolate_hand(session, of, 9, 1)


def test_a_template_hand_is_placed_by_wrist_and_knuckle_mirrored_for_the_left(clip):
    right = template_hand([100.0, 100.0], [100.0, 50.0], 0)
    assert np.allclose(right[0], [100, 100]) and np.allclose(right[9], [100, 50])
    assert right[4, 0] < 100 < right[20, 0]  # fingers up: a right hand's thumb on the image's left
    left = template_hand([100.0, 100.0], [150.0, 100.0], 1)  # pointing right
    assert np.allclose(left[9], [150, 100]) and left[12, 0] > 150
    assert np.isclose(np.linalg.norm(left[12] - left[0]), np.linalg.norm(right[12] - right[0]), rtol=1e-5)
    session, kp, of = clip
    place_template(session, of, 4, 1, (640, 480))
    got = session.keypoints(4)
    assert present(got, 1) and np.isfinite(got[1]).all()
    size = np.linalg.norm(got[1, 9, :2] - got[1, 0, :2])
    assert np.isclose(size, np.linalg.norm(kp[4, 0, 9, :2] - kp[4, 0, 0, :2]), rtol=1e-4)  # the other hand's size
    assert got[1, 0, 0] > kp[4, 0, 0, 0]  # a left hand beside the right, on the image's right
    with pytest.raises(ValueError, match="apart"):
        template_hand([5.0, 5.0], [5.0, 5.0], 0)


def test_gesture_placement_takes_the_drag_or_a_default_size_for_a_click():
    kp = np.full((2, 21, 3), np.nan, np.float32)
    kp[0] = _hand((0.0, 0.0))  # the right hand, 40 px from wrist to middle knuckle
    wrist, mcp = gesture_placement([100, 300], [160, 220], kp, 1, (640, 480))
    assert np.allclose(wrist, [100, 300]) and np.allclose(mcp, [160, 220])
    hand = template_hand(wrist, mcp, 1)
    assert np.allclose(hand[0], [100, 300], atol=1e-4) and np.allclose(hand[9], [160, 220], atol=1e-4)
    # a click: upright, the other hand's size
    wrist, mcp = gesture_placement([100, 300], [101, 302], kp, 1, (640, 480))
    assert np.allclose(wrist, [100, 300]) and np.allclose(mcp, [100, 260], atol=1e-3)
    # no other hand: a sixth of the image height
    empty = np.full((2, 21, 3), np.nan, np.float32)
    assert np.allclose(gesture_placement([50, 400], [50, 400], empty, 0, (640, 480))[1], [50, 320])
    with pytest.raises(ValueError, match="finite"):
        gesture_placement([np.nan, 1], [3, 4], kp, 1, (640, 480))
