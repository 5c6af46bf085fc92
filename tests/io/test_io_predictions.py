"""load_predictions: InterHand2.6M JSON, lists, NPZ/NPY, joint-order detection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from handviewer.hand.skeleton import FINGER_BASES, from_interhand, to_interhand
from handviewer.io import FileFormatError, HandIOError, detect_joint_order, load_interhand, load_predictions


@pytest.fixture
def gt(interhand_files):
    """(4, 2, 21, 3) mm camera-frame ground truth in our order (NaN for the absent hands)."""
    return load_interhand(*interhand_files).joints.joints.astype(np.float64)


def test_interhand_joint_3d_file_is_read_in_our_order_with_invalid_as_nan(interhand_files):
    path = interhand_files[2]
    pred = load_predictions(path)
    assert pred.frame_indices.tolist() == [2017, 29590, 44669, 69148]  # sorted by frame
    raw = json.loads(path.read_text())
    world = np.array(raw["4"]["2017"]["world_coord"])  # right hand only; the left is [1, 1, 1] junk
    np.testing.assert_allclose(pred.joints[0, 0], from_interhand(world[:21]), rtol=1e-6)
    assert np.isnan(pred.joints[0, 1]).all() and np.isnan(pred.joints[1, 0]).all()
    assert pred.present().tolist() == [[True, False], [False, True], [True, True], [True, True]]
    one = load_predictions(path, capture=3)
    assert one.frame_indices.tolist() == [69148]


def test_list_and_plain_dict_json(tmp_path, gt):
    frames = [{"frame": 9, "joints": gt[1].tolist()}, {"frame_idx": 4, "joints": np.nan_to_num(gt[0]).tolist()}]
    (tmp_path / "list.json").write_text(json.dumps(frames))
    pred = load_predictions(tmp_path / "list.json", order="ours")
    assert pred.frame_indices.tolist() == [4, 9]
    np.testing.assert_allclose(pred.joints[1], gt[1], rtol=1e-6)
    doc = {"joints": to_interhand(gt[:2]).tolist(), "frame_indices": [100, 101], "joint_order": "interhand26m"}
    (tmp_path / "dict.json").write_text(json.dumps(doc).replace("NaN", "null"))
    np.testing.assert_allclose(load_predictions(tmp_path / "dict.json").joints, gt[:2], rtol=1e-6)


@pytest.mark.parametrize("layout", ["42", "2x21"])
def test_npz_and_npy_orders_are_detected(tmp_path, gt, layout):
    interhand = to_interhand(gt)  # (4, 42, 3)
    ours = gt.reshape(4, 42, 3)
    if layout == "2x21":
        interhand, ours = interhand.reshape(4, 2, 21, 3), gt
    np.savez(tmp_path / "ih.npz", joints=interhand)
    np.savez(tmp_path / "ours.npz", joints=ours, frame_indices=[3, 4, 5, 6])
    np.save(tmp_path / "ih.npy", interhand)
    for name in ("ih.npz", "ours.npz", "ih.npy"):
        np.testing.assert_allclose(load_predictions(tmp_path / name).joints, gt, rtol=1e-6, err_msg=name)
    assert load_predictions(tmp_path / "ours.npz").frame_indices.tolist() == [3, 4, 5, 6]
    forced = load_predictions(tmp_path / "ih.npz", order="ours")  # the caller's word wins
    np.testing.assert_allclose(forced.joints.reshape(4, 42, 3), to_interhand(gt), rtol=1e-6)


def test_stated_joint_order_wins_over_the_heuristic(tmp_path, gt):
    np.savez(tmp_path / "stated.npz", joints=gt, joint_order=np.array("interhand26m"))
    np.testing.assert_allclose(load_predictions(tmp_path / "stated.npz").joints, from_interhand(gt), rtol=1e-6)


def test_npz_joint_valid_masks_joints(tmp_path, gt):
    valid = np.ones((4, 42), bool)
    valid[2, 5] = False
    np.savez(tmp_path / "v.npz", joints=np.nan_to_num(gt).reshape(4, 42, 3), joint_valid=valid, joint_order="ours")
    pred = load_predictions(tmp_path / "v.npz")
    assert np.isnan(pred.joints[2, 0, 5]).all() and np.isfinite(pred.joints[2, 0, 4]).all()


def _rotation(axis, angle):
    a = axis / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _curl(hand, angles):
    """Bend every finger (not the thumb) at MCP, PIP and DIP by the given angles (radians)."""
    hand = hand.copy()
    normal = np.cross(hand[5] - hand[0], hand[17] - hand[0])
    for base in FINGER_BASES[1:]:
        chain = [base, base + 1, base + 2, base + 3]
        for k, angle in enumerate(angles):
            pivot = hand[chain[k]]
            rot = _rotation(np.cross(hand[chain[k + 1]] - pivot, normal), angle)
            hand[chain[k + 1:]] = pivot + (hand[chain[k + 1:]] - pivot) @ rot.T
    return hand


def test_detect_joint_order_per_hand_any_scale_any_finger_pose(gt):
    for t, h in zip(*np.nonzero(np.isfinite(gt[..., 0, 0]))):
        hand = gt[t, h]
        for variant in (hand, hand * 0.6, hand / 1000.0, _curl(hand, np.radians([80, 100, 70])),
                        _curl(hand, np.radians([-30, 0, 0])), hand + np.random.default_rng(t).normal(0, 3, hand.shape)):
            assert detect_joint_order(variant) == "ours"
            assert detect_joint_order(to_interhand(variant)) == "interhand"
    assert detect_joint_order(np.full((3, 42, 3), np.nan)) == "ours"


def test_prediction_errors_name_the_file_and_the_fix(tmp_path):
    np.save(tmp_path / "one_hand.npy", np.zeros((5, 21, 3)))
    with pytest.raises(FileFormatError, match=r"one_hand.npy: joints must have shape .*one hand only"):
        load_predictions(tmp_path / "one_hand.npy")
    np.savez(tmp_path / "two.npz", a=np.zeros((1, 42, 3)), b=np.zeros((1, 42, 3)))
    with pytest.raises(FileFormatError, match=r"two.npz: no 'joints' array \(found \['a', 'b'\]\)"):
        load_predictions(tmp_path / "two.npz")
    (tmp_path / "order.json").write_text(json.dumps({"joints": np.zeros((1, 42, 3)).tolist(), "joint_order": "mano"}))
    with pytest.raises(FileFormatError, match="unknown joint_order 'mano'"):
        load_predictions(tmp_path / "order.json")
    (tmp_path / "frames.json").write_text(json.dumps({"a": {"world_coord": np.zeros((42, 3)).tolist()}}))
    with pytest.raises(FileFormatError, match="frame keys must be integers"):
        load_predictions(tmp_path / "frames.json")
    with pytest.raises(HandIOError, match="no such file"):
        load_predictions(tmp_path / "missing.json")
    (tmp_path / "p.txt").write_text("1 2 3")
    with pytest.raises(HandIOError, match="unknown suffix"):
        load_predictions(tmp_path / "p.txt")
    with pytest.raises(ValueError, match="order must be"):
        load_predictions(tmp_path / "one_hand.npy", order="mediapipe")


def test_captures_repeating_a_frame_need_a_choice(tmp_path):
    record = {"world_coord": np.zeros((42, 3)).tolist(), "joint_valid": [1] * 42}
    (tmp_path / "caps.json").write_text(json.dumps({"1": {"7": record}, "2": {"7": record}}))
    with pytest.raises(FileFormatError, match="repeat a frame index; pass capture="):
        load_predictions(tmp_path / "caps.json")
    assert load_predictions(tmp_path / "caps.json", capture="2").frame_indices.tolist() == [7]
