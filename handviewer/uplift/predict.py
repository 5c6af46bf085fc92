"""Running the uplift model: 2D keypoints -> both hands' parameters and joints in the camera frame."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from handviewer.device_constants import flip_x
from handviewer.hand.kinematics import forward_kinematics
from handviewer.hand.params import HandParams
from handviewer.uplift.inputs import place_by_reprojection, visibility


@dataclass
class UpliftResult:
    """params_right / params_left: camera-frame parameters (left as the mirrored right hand: its
    joints are mirror_x(FK(params_left))); joints (N, 2, 21, 3) mm camera frame, NaN for missing
    hands; present (N, 2) bool."""

    params_right: HandParams
    params_left: HandParams
    joints: torch.Tensor
    present: torch.Tensor


def relative_joints(right: HandParams, left: HandParams, offset: torch.Tensor) -> torch.Tensor:
    """(N, 2, 21, 3) mm: both hands with the right wrist at the origin, the left wrist at the
    predicted offset (in right palm lengths)."""
    jr = forward_kinematics(right).joints
    jl = forward_kinematics(left).joints * flip_x(jr)
    palm = (jr[:, 9] - jr[:, 0]).norm(dim=-1, keepdim=True)
    return torch.stack([jr, jl + (offset * palm)[:, None]], 1)


def predict(net, keypoints: torch.Tensor, K: torch.Tensor) -> UpliftResult:
    """keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3) -> camera-frame hands.

    The right wrist is placed by reprojection least squares; the left wrist by the predicted offset
    (so the two hands' relative depth comes from the network, not from two independent guesses).
    When only the left hand is visible, it is placed by its own reprojection.
    """
    right, left, offset = net(keypoints, K)
    rel = relative_joints(right, left, offset)  # (N, 2, 21, 3)
    _, present = visibility(keypoints)
    t_right = place_by_reprojection(rel[:, 0], keypoints[:, 0], K)
    t_left_own = place_by_reprojection(rel[:, 1] - rel[:, 1, :1], keypoints[:, 1], K) - rel[:, 1, 0]
    origin = torch.where(present[:, :1], t_right, t_left_own)  # where the right wrist goes
    origin = torch.nan_to_num(origin, nan=0.0)
    joints = rel + origin[:, None, None]
    joints = torch.where(present[:, :, None, None], joints, torch.full_like(joints, float("nan")))
    params_right = HandParams(rot=right.rot, trans=joints[:, 0, 0].nan_to_num(0.0), bones=right.bones, angles=right.angles)
    params_left = HandParams(rot=left.rot, trans=(joints[:, 1, 0] * flip_x(joints)).nan_to_num(0.0), bones=left.bones, angles=left.angles)
    return UpliftResult(params_right, params_left, joints, present)
