"""Batched, differentiable forward kinematics of the 21-joint hand (torch)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from handviewer.hand import template as T
from handviewer.hand.params import HandParams
from handviewer.hand.rotations import axis_angle_to_matrix, flex_abd, rot_x

# Our joint index of each finger's chain: (5 fingers, 4 joints) base, middle, distal, tip.
_CHAIN = torch.arange(1, 21).reshape(5, 4)
_PALM_BONES = [0, 4, 8, 12, 16]


@dataclass
class Pose:
    """Forward kinematics of N hands.

    joints       : (N, 21, 3) mm.
    bone_frames  : (N, 21, 3, 3): frame of the bone ending at each joint (y along the bone, z palmar);
                   index 0 (wrist) holds the hand frame.
    joint_frames : (N, 21, 3, 3): frame halfway between the bone into a joint and the bone out of it
                   (for wrist and tips: the bone frame). Tissue around a joint is placed in it.
    joint_flex   : (N, 21) rad: flexion at each joint (0 at wrist and tips); tissue on the outside of
                   a bend is pushed out by 1 / cos(flex / 2) so bent fingers keep their thickness.
    scale        : (N,) hand size relative to the mean hand (middle-finger ray length).
    """

    joints: torch.Tensor
    bone_frames: torch.Tensor
    joint_frames: torch.Tensor
    joint_flex: torch.Tensor
    scale: torch.Tensor


def _const(x, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(x, dtype=like.dtype, device=like.device)


def forward_kinematics(params: HandParams) -> Pose:
    """Joints and frames of N right hands from their parameters."""
    rot0 = axis_angle_to_matrix(params.rot)  # (N, 3, 3)
    a = params.angles
    n = a.shape[0]

    # Palm bones: wrist -> thumb CMC and wrist -> MCPs, each deviating slightly from its rest direction.
    palm_dev = flex_abd(a[:, 0:10:2], a[:, 1:10:2])  # (N, 5, 3, 3)
    palm = rot0[:, None] @ _const(T.PALM_REST_FRAMES, a)[None] @ palm_dev  # (N, 5, 3, 3)

    # Local rotation at each of the three chain joints of each finger: (N, 5, 3, 3, 3).
    splay = _const(T.FINGER_SPLAY, a)
    thumb = torch.stack(
        [
            _const(T.THUMB_REST_OFFSET, a) @ flex_abd(a[:, 10], a[:, 11]),
            flex_abd(a[:, 12], a[:, 13]),
            rot_x(a[:, 14]),
        ],
        dim=1,
    )  # (N, 3, 3, 3)
    fa = a[:, 15:31].reshape(n, 4, 4)  # (N, finger, [mcp_flex, mcp_abd, pip, dip])
    fingers = torch.stack([flex_abd(fa[..., 0], fa[..., 1] + splay), rot_x(fa[..., 2]), rot_x(fa[..., 3])], dim=2)
    local = torch.cat([thumb[:, None], fingers], dim=1)  # (N, 5, 3, 3, 3)
    flex = torch.cat([a[:, [10, 12, 14]][:, None], fa[..., [0, 2, 3]]], dim=1)  # (N, 5, 3)
    # Half-way rotations for the frames at the joints.
    half_thumb = torch.stack(
        [_const(T.THUMB_REST_OFFSET, a) @ flex_abd(a[:, 10] / 2, a[:, 11] / 2), flex_abd(a[:, 12] / 2, a[:, 13] / 2), rot_x(a[:, 14] / 2)],
        dim=1,
    )
    half_fingers = torch.stack(
        [flex_abd(fa[..., 0] / 2, (fa[..., 1] + splay) / 2), rot_x(fa[..., 2] / 2), rot_x(fa[..., 3] / 2)], dim=2
    )
    half = torch.cat([half_thumb[:, None], half_fingers], dim=1)

    lengths = params.bones.reshape(n, 5, 4)  # (N, finger, [palm bone, bone1, bone2, bone3]) mm
    base = params.trans[:, None] + palm[..., :, 1] * lengths[..., 0:1]  # (N, 5, 3)
    frames, joint_frames, positions = [], [palm @ half[:, :, 0]], [base]
    parent = palm
    for k in range(3):
        frame = parent @ local[:, :, k]  # (N, 5, 3, 3)
        frames.append(frame)
        positions.append(positions[-1] + frame[..., :, 1] * lengths[..., k + 1 : k + 2])
        if k < 2:
            joint_frames.append(frame @ half[:, :, k + 1])
        parent = frame
    joint_frames.append(frames[-1])  # tips

    joints = torch.empty(n, 21, 3, dtype=a.dtype, device=a.device)
    joints[:, 0] = params.trans
    joints[:, _CHAIN.reshape(-1)] = torch.stack(positions, dim=2).reshape(n, 20, 3)
    bone_frames = torch.empty(n, 21, 3, 3, dtype=a.dtype, device=a.device)
    bone_frames[:, 0] = rot0
    bone_frames[:, _CHAIN.reshape(-1)] = torch.stack([palm] + frames, dim=2).reshape(n, 20, 3, 3)
    jframes = torch.empty_like(bone_frames)
    jframes[:, 0] = rot0
    jframes[:, _CHAIN.reshape(-1)] = torch.stack(joint_frames, dim=2).reshape(n, 20, 3, 3)
    joint_flex = torch.zeros(n, 21, dtype=a.dtype, device=a.device)
    joint_flex[:, _CHAIN[:, :3].reshape(-1)] = flex.reshape(n, 15)

    ray = params.bones[:, 8:12].sum(-1)
    scale = ray / float(T.MEAN_BONE_LENGTHS[8:12].sum())
    return Pose(joints=joints, bone_frames=bone_frames, joint_frames=jframes, joint_flex=joint_flex, scale=scale)
