import json
from pathlib import Path

import numpy as np
import pytest

from handviewer.hand import skeleton as S

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "interhand26m_mmpose_samples"


def test_bones_form_a_tree_rooted_at_the_wrist():
    assert S.BONES.shape == (20, 2)
    for parent, child in S.BONES:
        assert parent < child  # parents come first, so FK can run in index order
    assert set(S.PARENTS[S.FINGER_BASES]) == {0}
    assert S.JOINT_NAMES[0] == "wrist" and S.JOINT_NAMES[8] == "index_tip" and S.JOINT_NAMES[20] == "pinky_tip"


def test_interhand_round_trip_and_known_positions():
    theirs = np.arange(42 * 3, dtype=float).reshape(42, 3)
    ours = S.from_interhand(theirs)
    assert np.array_equal(S.to_interhand(ours), theirs)
    assert np.array_equal(ours[0], theirs[20])  # right wrist is InterHand joint 20
    assert np.array_equal(ours[4], theirs[0])  # right thumb tip is InterHand joint 0
    assert np.array_equal(ours[21], theirs[41])  # left wrist
    assert np.array_equal(S.to_interhand(ours.reshape(2, 21, 3)), theirs)
    with pytest.raises(ValueError):
        S.from_interhand(np.zeros((20, 3)))


def test_interhand_ground_truth_has_anatomical_bone_lengths():
    path = SHARED / "test_interhand2.6m_joint_3d.json"
    if not path.exists():
        pytest.skip("../shared/data is absent")
    data = json.loads(path.read_text())
    lengths = []
    for frames in data.values():
        for rec in frames.values():
            ours = S.from_interhand(np.array(rec["world_coord"], dtype=float))
            valid = S.from_interhand(np.array(rec["joint_valid"], dtype=float).reshape(42, 1))[:, 0] > 0
            for hand in range(2):
                j, v = ours[21 * hand : 21 * hand + 21], valid[21 * hand : 21 * hand + 21]
                if v.all():
                    lengths.append(np.linalg.norm(j[S.BONES[:, 1]] - j[S.BONES[:, 0]], axis=1))
    lengths = np.array(lengths)
    assert len(lengths) >= 4
    # Phalanges 15-50 mm, metacarpals (wrist to MCP) 65-100 mm: only true in the right joint order.
    assert ((lengths[:, [5, 6, 7, 9, 10, 11]] > 15) & (lengths[:, [5, 6, 7, 9, 10, 11]] < 50)).all()
    assert ((lengths[:, [4, 8, 12]] > 65) & (lengths[:, [4, 8, 12]] < 100)).all()


def test_hand_present_is_one_rule_for_joints_and_keypoints_numpy_and_torch():
    import torch

    from handviewer.hand.skeleton import MIN_VISIBLE, hand_present, visible_joints

    joints = np.ones((4, 2, 21, 3))
    joints[0, 1] = np.nan  # no left hand
    joints[1, 0, MIN_VISIBLE:] = np.nan  # just enough joints
    joints[2, 0, MIN_VISIBLE - 1:] = np.nan  # one too few
    joints[3, 1, :, 0] = np.inf  # not finite
    expected = [[True, False], [True, True], [False, True], [True, False]]
    assert hand_present(joints).tolist() == expected
    assert hand_present(torch.as_tensor(joints)).tolist() == expected
    assert hand_present(joints, min_joints=1)[2].tolist() == [True, True]
    keypoints = joints.copy()
    keypoints[1, 1, :, 2] = 0.0  # confidence 0: not seen
    assert hand_present(keypoints, confidence=True)[1].tolist() == [True, False]
    assert visible_joints(torch.as_tensor(keypoints), confidence=True).tolist() == visible_joints(keypoints, True).tolist()
