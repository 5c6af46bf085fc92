"""Inputs that load but make no sense are reported with their numbers, never a traceback."""

import numpy as np
import pytest

from handviewer.io import Joints3D, Keypoints2D, save_own
from handviewer.pipeline.inputs import load_video_inputs
from handviewer.pipeline.plausible import camera_warnings, keypoint_warnings, prediction_warnings


@pytest.fixture
def hands(small_clip):
    return small_clip["joints"].astype(np.float32)  # (6, 2, 21, 3) mm


def test_predictions_in_metres_behind_the_camera_or_far_away_are_reported(hands):
    assert prediction_warnings(hands) == []
    assert "metres?" in prediction_warnings(hands / 1000.0)[0]
    behind = hands * np.array([1, 1, -1], np.float32)
    assert any("behind the camera" in w for w in prediction_warnings(behind))
    far = hands + np.array([0, 0, 229_000.0], np.float32)
    assert any("more than 20 m" in w for w in prediction_warnings(far))


def test_a_focal_length_far_from_the_image_size_is_reported():
    K = np.array([[768.0, 0, 320], [0, 768.0, 240], [0, 0, 1]])
    assert camera_warnings(K, (640, 480)) == []
    for f in (1e-3, 1e9):
        assert "focal length" in camera_warnings(np.diag([f, f, 1.0]), (640, 480))[0]


def test_keypoints_without_any_visible_hand_are_reported(small_clip):
    kp = small_clip["keypoints"].copy()
    assert keypoint_warnings(kp) == []
    kp[..., 2] = 0.0
    assert "no hand in any frame" in keypoint_warnings(kp)[0]


def test_absurd_predictions_become_missing_with_a_warning_and_frames_past_the_end_are_reported(small_clip, hands):
    huge = hands.copy()
    huge[1, 0] = 1e30  # one hand in frame 1
    path = small_clip["dir"] / "clip.predictions.npz"
    save_own(path, joints=Joints3D(np.concatenate([huge, hands[:2]]), np.arange(8)))  # frames 6, 7: past the end
    inputs = load_video_inputs(small_clip["video"], 6, (640, 480))
    assert np.isnan(inputs.predictions[1, 0]).all() and np.isfinite(inputs.predictions[1, 1]).all()
    said = inputs.warnings()
    assert any("21 joint(s) of the 3D predictions lie more than" in w for w in said), said
    assert any("2 frame(s) past the video's last frame (5)" in w for w in said), said
    save_own(small_clip["dir"] / "clip.keypoints.json",
             keypoints=Keypoints2D(small_clip["keypoints"], np.arange(6)))  # (unchanged keypoints)
    from handviewer.pipeline.stages import Pipeline

    initial = Pipeline().initial_from_joints(inputs.predictions, inputs.keypoints, inputs.K)
    assert bool(initial.present[1, 0])  # the absurd hand is uplifted from its keypoints instead
