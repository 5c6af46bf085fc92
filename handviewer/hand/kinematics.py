"""Batched, differentiable forward kinematics of the 21-joint hand (torch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from handviewer.device_constants import on_device
from handviewer.hand import template as T
from handviewer.hand.params import HandParams
from handviewer.hand.rotations import axis_angle_to_matrix


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


def _rotation_table():
    """Where each of the 35 rotations of a hand takes its angles from, for `_rotations`.

    Rows 0-4: the palm bones' deviations; 5-19: the local rotation at each chain joint (finger-major:
    thumb CMC, MCP, IP, then index MCP, PIP, DIP, ...); 20-34: the half-way rotations of those joints.
    Every rotation is flex_abd(flex, abd) @ rot_y(twist) (rot_x is abd = 0; the twist is 0 but at the
    MCP joints, where the proximal phalanx turns about its own axis: chain joint 1 of the thumb, 0 of
    the others), so one closed-form build covers them all. Returns flex, abd and twist indices into
    the angles extended by a 0 at index NUM_ANGLES, the added abduction (finger splay), the angle
    scale (1 or 1/2) and the rest rotation each one is pre-multiplied by.
    """
    import numpy as np

    zero = T.NUM_ANGLES  # index of the appended 0
    tw = T.TWIST_SLICE.start
    flex, abd, twist, splay = list(range(0, 10, 2)), list(range(1, 10, 2)), [zero] * 5, [0.0] * 5
    pre = [T.PALM_REST_FRAMES[i] for i in range(5)]
    chain_flex, chain_abd, chain_twist = [10, 12, 14], [11, 13, zero], [zero, tw, zero]
    chain_splay, chain_pre = [0.0] * 3, [T.THUMB_REST_OFFSET, np.eye(3), np.eye(3)]
    for f in range(4):
        b = 15 + 4 * f  # [mcp_flex, mcp_abd, pip, dip]
        chain_flex += [b, b + 2, b + 3]
        chain_abd += [b + 1, zero, zero]
        chain_twist += [tw + 1 + f, zero, zero]
        chain_splay += [float(T.FINGER_SPLAY[f]), 0.0, 0.0]
        chain_pre += [np.eye(3)] * 3
    flex, abd, twist = flex + chain_flex * 2, abd + chain_abd * 2, twist + chain_twist * 2
    splay, pre = splay + chain_splay * 2, pre + chain_pre * 2
    scale = [1.0] * 20 + [0.5] * 15
    return (torch.tensor(flex), torch.tensor(abd), torch.tensor(twist), torch.tensor(splay, dtype=torch.float64),
            torch.tensor(scale, dtype=torch.float64), torch.as_tensor(np.stack(pre)))


_TABLE = _rotation_table()


def _rotations(a: torch.Tensor) -> torch.Tensor:
    """(N, 36) angles -> (N, 35, 3, 3): rest @ flex_abd(flex, abd) @ rot_y(twist) for the rows of
    `_rotation_table`.

    One batched build instead of a dozen small ones: at the batch sizes of interactive refinement the
    cost of FK is the number of torch operations, not the arithmetic."""
    flex_i, abd_i, twist_i, splay, scale, pre = _table_like(a)
    ext = torch.cat([a, a.new_zeros(a.shape[0], 1)], 1)
    f = ext[:, flex_i] * scale
    b = (ext[:, abd_i] + splay) * scale
    t = ext[:, twist_i] * scale
    cf, sf, cb, sb, ct, st = torch.cos(f), torch.sin(f), torch.cos(b), torch.sin(b), torch.cos(t), torch.sin(t)
    # rot_z(-abd) @ rot_x(flex) @ rot_y(twist), written out.
    sbsf, cbsf = sb * sf, cb * sf
    m = torch.stack([cb * ct + sbsf * st, sb * cf, cb * st - sbsf * ct,
                     cbsf * st - sb * ct, cb * cf, -sb * st - cbsf * ct,
                     -cf * st, sf, cf * ct], -1)
    return pre @ m.reshape(*f.shape, 3, 3)


def _table_like(a: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """`_TABLE` on `a`'s device (the indices) and in its dtype (the rest)."""
    return tuple(on_device(f"fk_rotation_table_{k}", lambda k=k: _TABLE[k], a.device, None if k < 3 else a.dtype)
                 for k in range(len(_TABLE)))


def forward_kinematics(params: HandParams) -> Pose:
    """Joints and frames of N right hands from their parameters."""
    rot0 = axis_angle_to_matrix(params.rot)  # (N, 3, 3)
    a = params.angles
    n = a.shape[0]
    rots = _rotations(a)
    # Palm bones: wrist -> thumb CMC and wrist -> MCPs, each deviating slightly from its rest direction.
    palm = rot0[:, None] @ rots[:, 0:5]  # (N, 5, 3, 3)
    local = rots[:, 5:20].reshape(n, 5, 3, 3, 3)  # local rotation at each chain joint of each finger
    half = rots[:, 20:35].reshape(n, 5, 3, 3, 3)  # half-way rotations, for the frames at the joints
    flex = a[:, _table_like(a)[0][5:20]].reshape(n, 5, 3)  # (N, 5, 3) flexion at the chain joints

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

    # Our joint order is the wrist, then each finger's chain: (N, 1 + 5 * 4, ...) by one cat each.
    joints = torch.cat([params.trans[:, None], torch.stack(positions, dim=2).reshape(n, 20, 3)], 1)
    bone_frames = torch.cat([rot0[:, None], torch.stack([palm] + frames, dim=2).reshape(n, 20, 3, 3)], 1)
    jframes = torch.cat([rot0[:, None], torch.stack(joint_frames, dim=2).reshape(n, 20, 3, 3)], 1)
    joint_flex = torch.cat([a.new_zeros(n, 1), F.pad(flex, (0, 1)).reshape(n, 20)], 1)

    ray = params.bones[:, 8:12].sum(-1)
    scale = ray / float(T.MEAN_BONE_LENGTHS[8:12].sum())
    return Pose(joints=joints, bone_frames=bone_frames, joint_frames=jframes, joint_flex=joint_flex, scale=scale)


def joints_moved_by(with_bones: bool) -> np.ndarray:
    """(D, 21) bool: which joints each parameter can move, for the flat layout rot (3), trans (3),
    angles (NUM_ANGLES) [, bones (20)] that the least-squares fits use. Each finger's angles, twist,
    palm deviation and bones move only that finger's four joints: a Jacobian sparsity pattern that
    lets finite differences probe the five fingers at once (`lm.levenberg_marquardt`)."""
    fingers = np.zeros((5, 21), dtype=bool)
    for f in range(5):
        fingers[f, 1 + 4 * f : 5 + 4 * f] = True
    finger_of_angle = np.empty(T.NUM_ANGLES, dtype=np.int64)
    finger_of_angle[T.PALM_SLICE] = np.repeat(np.arange(5), 2)
    finger_of_angle[T.THUMB_SLICE] = 0
    finger_of_angle[T.FINGER_SLICE] = 1 + np.arange(16) // 4
    finger_of_angle[T.TWIST_SLICE] = np.arange(5)
    rows = [np.ones((6, 21), dtype=bool), fingers[finger_of_angle]]
    if with_bones:
        rows.append(fingers[np.arange(20) // 4])
    return np.concatenate(rows)
