"""2D keypoint loaders: OpenPose JSON, InterHand2.6M annotations, MediaPipe (error paths and result parsing)."""

from __future__ import annotations

import importlib.util
import json
from types import SimpleNamespace

import numpy as np
import pytest

from handviewer.hand.skeleton import BONES
from handviewer.io import (
    FileFormatError,
    HandIOError,
    Keypoints2D,
    MissingDependencyError,
    load_interhand,
    load_mediapipe,
    load_openpose,
    project,
    resolve_mediapipe_model,
)
from handviewer.io.mediapipe_hands import ENV_VAR, hands_from_result


def _openpose_file(folder, frame, right=None, left=None, people=1, name="clip"):
    person = {"pose_keypoints_2d": [0.0] * 75,
              "hand_right_keypoints_2d": [] if right is None else np.asarray(right).ravel().tolist(),
              "hand_left_keypoints_2d": [] if left is None else np.asarray(left).ravel().tolist()}
    path = folder / f"{name}_{frame:012d}_keypoints.json"
    path.write_text(json.dumps({"version": 1.3, "people": [person] * people}))
    return path


def _hand(offset):
    xyc = np.zeros((21, 3))
    xyc[:, 0] = offset + np.arange(21)
    xyc[:, 1] = 2 * offset + np.arange(21)
    xyc[:, 2] = 0.9
    return xyc


def test_openpose_folder_sorted_by_frame_number_with_missing_hands_as_nan(tmp_path):
    left = _hand(300)
    left[[4, 8], 2] = 0.0  # OpenPose writes undetected joints with confidence 0
    _openpose_file(tmp_path, 10, right=_hand(100))
    _openpose_file(tmp_path, 2, right=_hand(50), left=left)
    _openpose_file(tmp_path, 11, people=0)
    kp = load_openpose(tmp_path)
    assert isinstance(kp, Keypoints2D)
    assert kp.frame_indices.tolist() == [2, 10, 11]
    assert kp.xyc.shape == (3, 2, 21, 3) and kp.xyc.dtype == np.float32
    np.testing.assert_allclose(kp.xyc[0, 0], _hand(50))  # right hand first, our order kept
    np.testing.assert_allclose(kp.xyc[1, 0], _hand(100))
    assert np.isnan(kp.xyc[0, 1, [4, 8]]).all()  # confidence 0 -> NaN, all three channels
    np.testing.assert_allclose(kp.xyc[0, 1, 0], left[0])
    assert np.isnan(kp.xyc[1, 1]).all() and np.isnan(kp.xyc[2]).all()  # no left hand; nobody
    assert kp.present().tolist() == [[True, True], [True, False], [False, False]]
    dense = kp.dense(12)
    assert dense.shape == (12, 2, 21, 3) and np.isnan(dense[3]).all()
    np.testing.assert_allclose(dense[10, 0], _hand(100))


def test_openpose_list_of_files_and_person_choice(tmp_path):
    a = _openpose_file(tmp_path, 7, right=_hand(10), people=2)
    kp = load_openpose([a], person=1)
    np.testing.assert_allclose(kp.xyc[0, 0, :, 0], _hand(10)[:, 0])
    assert np.isnan(load_openpose(a, person=2).xyc).all()


def test_openpose_errors_name_the_file(tmp_path):
    short = _openpose_file(tmp_path, 1, right=np.ones(60))
    with pytest.raises(FileFormatError, match=r"000001_keypoints.json: hand_right_keypoints_2d: expected 63"):
        load_openpose(short)
    unnumbered = tmp_path / "keypoints.json"
    unnumbered.write_text(json.dumps({"people": []}))
    with pytest.raises(FileFormatError, match="keypoints.json: no frame number"):
        load_openpose(unnumbered)
    other = tmp_path / "x_5.json"
    other.write_text(json.dumps({"annotations": []}))
    with pytest.raises(FileFormatError, match="x_5.json: not an OpenPose file"):
        load_openpose(other)
    (tmp_path / "empty").mkdir()
    with pytest.raises(HandIOError, match="no OpenPose .json files"):
        load_openpose(tmp_path / "empty")


def test_openpose_duplicate_frame_numbers_are_refused(tmp_path):
    _openpose_file(tmp_path, 3, name="a")
    _openpose_file(tmp_path, 3, name="b")
    with pytest.raises(FileFormatError, match="two files have frame number 3"):
        load_openpose(tmp_path)


def test_interhand_rows_cameras_and_hand_types(interhand_files):
    s = load_interhand(*interhand_files)
    assert len(s) == 4
    assert s.file_names == ("image69148.jpg", "image44669.jpg", "image29590.jpg", "image2017.jpg")
    assert s.hand_types == ("interacting", "interacting", "left", "right")
    assert s.keypoints.frame_indices.tolist() == [69148, 44669, 29590, 2017]
    assert [c.size for c in s.cameras] == [(334, 512)] * 3 + [(512, 334)]
    assert s.cameras[0].fx == pytest.approx(1261.529, abs=1e-3)
    present = s.joints.present().tolist()
    assert present == [[True, True], [True, True], [False, True], [True, False]]
    assert np.isnan(s.keypoints.xyc[2, 0]).all() and np.isnan(s.keypoints.xyc[3, 1]).all()


def test_interhand_ground_truth_projects_inside_the_images(interhand_files):
    s = load_interhand(*interhand_files)
    for t, cam in enumerate(s.cameras):
        xy = s.keypoints.xy[t][s.joints.valid()[t]]  # (J, 2) px
        assert len(xy) >= 21
        assert (xy >= 0).all() and (xy[:, 0] < cam.width).all() and (xy[:, 1] < cam.height).all()
        np.testing.assert_allclose(xy, project(s.joints.joints[t][s.joints.valid()[t]], cam), atol=1e-3)
        assert (s.keypoints.confidence[t][s.joints.valid()[t]] == 1).all()
    assert np.nanmin(s.joints.joints[..., 2]) > 800  # about a metre from the cameras, mm


def test_interhand_joints_come_out_in_our_order(interhand_files):
    joints = load_interhand(*interhand_files).joints.joints  # (4, 2, 21, 3)
    bones = np.linalg.norm(joints[:, :, BONES[:, 1]] - joints[:, :, BONES[:, 0]], axis=-1)  # (4, 2, 20) mm
    finite = bones[np.isfinite(bones)]
    assert len(finite) == 6 * 20 and finite.min() > 10 and finite.max() < 110
    palm = bones[..., [4, 8, 12, 16]]  # wrist -> index/middle/ring/pinky MCP: the long bones
    assert np.nanmin(palm) > 60
    assert np.nanmax(bones[..., [3, 7, 11, 15, 19]]) < 35  # distal phalanges are short


def test_interacting_frames_have_real_close_contact(interhand_files):
    joints = load_interhand(*interhand_files).joints.joints
    for t in (0, 1):  # the two "interacting" images
        d = np.linalg.norm(joints[t, 0][:, None] - joints[t, 1][None], axis=-1)  # (21, 21) mm
        assert 11.0 < d.min() < 15.0


def test_interhand_missing_camera_names_the_camera_file(interhand_files, tmp_path):
    data, camera, joint_3d = interhand_files
    cams = json.loads(camera.read_text())
    del cams["3"]["campos"]["400026"]
    broken = tmp_path / "camera.json"
    broken.write_text(json.dumps(cams))
    with pytest.raises(FileFormatError, match=r"camera.json: no valid campos.*capture 3, camera 400026"):
        load_interhand(data, broken, joint_3d)


# ---------------------------------------------------------------- MediaPipe

needs_no_mediapipe = pytest.mark.skipif(importlib.util.find_spec("mediapipe") is not None,
                                        reason="mediapipe is installed; these test its absence")


@pytest.fixture
def no_config(monkeypatch, tmp_path):
    """No model configured anywhere: empty environment variable, config home in tmp_path."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "handviewer" / "config.json"


@needs_no_mediapipe
def test_mediapipe_absent_and_no_model_reports_both(no_config, tmp_path):
    with pytest.raises(MissingDependencyError) as err:
        load_mediapipe(tmp_path / "video.mp4")
    text = str(err.value)
    assert text.startswith("MediaPipe is not installed") and "No MediaPipe hand model configured" in text


@needs_no_mediapipe
def test_mediapipe_absent_says_how_to_install_and_where_to_get_the_model(no_config, tmp_path):
    model = tmp_path / "hand_landmarker.task"
    model.write_bytes(b"not really a model")
    with pytest.raises(MissingDependencyError) as err:
        load_mediapipe(tmp_path / "video.mp4", model_path=model)
    text = str(err.value)
    assert text.startswith("MediaPipe is not installed") and "pip install handviewer[mediapipe]" in text
    assert "hand_landmarker.task" in text and "ai.google.dev" in text and ENV_VAR in text


def test_missing_model_says_where_it_looked_and_how_to_point_to_it(no_config, tmp_path):
    with pytest.raises(MissingDependencyError, match="No MediaPipe hand model configured") as err:
        load_mediapipe(tmp_path / "video.mp4")  # with mediapipe absent, the message leads with installing it
    assert str(no_config) in str(err.value) and "mediapipe_model" in str(err.value)
    with pytest.raises(MissingDependencyError, match=r"not found: .*gone.task \(from the model_path argument\)"):
        resolve_mediapipe_model(tmp_path / "gone.task")


def test_model_path_order_argument_then_environment_then_config(no_config, tmp_path, monkeypatch):
    a, b, c = (tmp_path / f"{n}.task" for n in "abc")
    for p in (a, b, c):
        p.write_bytes(b"x")
    no_config.parent.mkdir(parents=True)
    no_config.write_text(json.dumps({"mediapipe_model": str(c)}))
    assert resolve_mediapipe_model() == c
    monkeypatch.setenv(ENV_VAR, str(b))
    assert resolve_mediapipe_model() == b
    assert resolve_mediapipe_model(a) == a


def test_broken_config_file_is_reported(no_config):
    no_config.parent.mkdir(parents=True)
    no_config.write_text(json.dumps({"mediapipe_model": 3}))
    with pytest.raises(FileFormatError, match="config.json: 'mediapipe_model' must be a path string"):
        resolve_mediapipe_model()


def _mp_hand(label, score, x0):
    landmarks = [SimpleNamespace(x=x0 + 0.01 * j, y=0.5, z=0.0) for j in range(21)]
    return landmarks, [SimpleNamespace(category_name=label, score=score)]


def test_mediapipe_result_goes_to_pixel_coordinates_right_then_left():
    hands = [_mp_hand("Left", 0.8, 0.1), _mp_hand("Right", 0.95, 0.5)]
    result = SimpleNamespace(hand_landmarks=[h[0] for h in hands], handedness=[h[1] for h in hands])
    xyc = hands_from_result(result, width=200, height=100)
    np.testing.assert_allclose(xyc[0, 0], [0.5 * 200 - 0.5, 0.5 * 100 - 0.5, 0.95], rtol=1e-6)
    np.testing.assert_allclose(xyc[1, 20, :2], [(0.1 + 0.2) * 200 - 0.5, 49.5], rtol=1e-6)
    assert xyc[1, 0, 2] == pytest.approx(0.8)
    swapped = hands_from_result(result, 200, 100, swap_handedness=True)
    np.testing.assert_allclose(swapped[1], xyc[0])


def test_mediapipe_same_label_twice_keeps_the_more_confident_one():
    hands = [_mp_hand("Right", 0.6, 0.1), _mp_hand("Right", 0.9, 0.5)]
    result = SimpleNamespace(hand_landmarks=[h[0] for h in hands], handedness=[h[1] for h in hands])
    xyc = hands_from_result(result, 100, 100)
    assert xyc[0, 0, 2] == pytest.approx(0.9) and xyc[1, 0, 2] == pytest.approx(0.6)
    empty = hands_from_result(SimpleNamespace(hand_landmarks=[], handedness=[]), 100, 100)
    assert np.isnan(empty).all()


def test_keypoints_option_takes_one_openpose_file_by_its_content_and_names_the_formats(tmp_path):
    from handviewer.pipeline.inputs import load_keypoints
    from handviewer.io.errors import FileFormatError

    path = _openpose_file(tmp_path, 2, right=_hand(10), left=_hand(40), name="detections")
    keypoints = load_keypoints(path, frame_count=4)
    assert keypoints.shape == (4, 2, 21, 3)
    assert np.allclose(keypoints[2, 0, :, 0], 10 + np.arange(21)) and np.isnan(keypoints[0]).all()
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"something": 1}))
    with pytest.raises(FileFormatError, match="OpenPose JSON file or folder"):
        load_keypoints(other, frame_count=4)
