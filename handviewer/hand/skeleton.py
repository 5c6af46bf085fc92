"""The 21-joint hand skeleton: joint order, bones, and conversions to other orders.

Numpy only (no torch), so that I/O code can use it cheaply.

Joint order (MediaPipe/OpenPose): 0 wrist; 1-4 thumb CMC, MCP, IP, tip;
5-8 index MCP, PIP, DIP, tip; 9-12 middle; 13-16 ring; 17-20 pinky.
Two hands are stored right then left: (2, 21, 3).
"""

from __future__ import annotations

import numpy as np

NUM_JOINTS = 21
NUM_BONES = 20
FINGERS = ("thumb", "index", "middle", "ring", "pinky")

JOINT_NAMES = ("wrist",) + tuple(
    f"{finger}_{part}"
    for finger, parts in zip(
        FINGERS,
        [("cmc", "mcp", "ip", "tip")] + [("mcp", "pip", "dip", "tip")] * 4,
    )
    for part in parts
)

# PARENTS[j] is the joint that bone j-1 starts from; the wrist has none (-1).
PARENTS = np.array([-1] + [0 if (j - 1) % 4 == 0 else j - 1 for j in range(1, NUM_JOINTS)], dtype=np.int64)

# Bone b runs from BONES[b, 0] to BONES[b, 1]; bone b ends at joint b + 1.
BONES = np.stack([PARENTS[1:], np.arange(1, NUM_JOINTS)], axis=1)

# First joint of each finger chain (thumb CMC, index MCP, ...).
FINGER_BASES = np.array([1, 5, 9, 13, 17], dtype=np.int64)
TIPS = FINGER_BASES + 3

# InterHand2.6M order within one hand: per finger tip -> base (thumb first), wrist last.
# INTERHAND_TO_OURS[k] is our index of InterHand joint k; OURS_TO_INTERHAND[j] the InterHand index of our joint j.
INTERHAND_TO_OURS = np.array(
    [1 + 4 * f + (3 - m) for f in range(5) for m in range(4)] + [0], dtype=np.int64
)
OURS_TO_INTERHAND = np.argsort(INTERHAND_TO_OURS)


def from_interhand(joints: np.ndarray) -> np.ndarray:
    """InterHand2.6M order to ours.

    joints : (..., 42, C) right 0-20 then left 21-41, or (..., 21, C) one hand.
    Returns the same shape in our order (right then left for 42 joints).
    """
    return _reorder(joints, OURS_TO_INTERHAND)  # ours[j] = theirs[OURS_TO_INTERHAND[j]]


def to_interhand(joints: np.ndarray) -> np.ndarray:
    """Our order to InterHand2.6M order; (..., 21, C) or (..., 42, C) / (..., 2, 21, C) flattened to 42."""
    joints = np.asarray(joints)
    if joints.ndim >= 3 and joints.shape[-3:-1] == (2, NUM_JOINTS):
        joints = joints.reshape(*joints.shape[:-3], 2 * NUM_JOINTS, joints.shape[-1])
    return _reorder(joints, INTERHAND_TO_OURS)  # theirs[k] = ours[INTERHAND_TO_OURS[k]]


def _reorder(joints: np.ndarray, index: np.ndarray) -> np.ndarray:
    joints = np.asarray(joints)
    n = joints.shape[-2]
    if n == NUM_JOINTS:
        return joints[..., index, :]
    if n == 2 * NUM_JOINTS:
        full = np.concatenate([index, index + NUM_JOINTS])
        return joints[..., full, :]
    raise ValueError(f"expected 21 or 42 joints on axis -2, got shape {joints.shape}")


MIRROR_X = np.array([-1.0, 1.0, 1.0])
MIRROR_X.flags.writeable = False
"""(3,) float64: multiply points by it to mirror them along x (x -> -x): how a left hand becomes a right
hand and back (the left hand is a mirrored right hand, DESIGN.md section 4). Torch code takes it from
`handviewer.device_constants.flip_x` (made once per device and dtype)."""


def mirror_x(points: np.ndarray) -> np.ndarray:
    """Mirror points along x (x -> -x): how a left hand becomes a right hand and back (same dtype)."""
    out = np.array(points, copy=True)
    out[..., 0] *= -1
    return out


MIN_VISIBLE = 6
"""A hand with fewer visible joints than this is treated as missing (too little to place it)."""


def visible_joints(points, confidence: bool = False):
    """(..., 21) bool: which joints are seen. points (..., 21, D): 3D joints (mm) or 2D keypoints.

    A joint counts when all its D values are finite and, with `confidence` (the last value of
    keypoints (..., 21, 3) x px, y px, confidence), that confidence is > 0. Numpy arrays and torch
    tensors alike (comparisons only), so torch code uses it too.
    """
    seen = (abs(points) < float("inf")).all(-1)  # finite: not NaN, not +-inf
    return seen & (points[..., -1] > 0) if confidence else seen


def hand_present(points, min_joints: int = MIN_VISIBLE, confidence: bool = False):
    """(...) bool: the hand-present rule: at least `min_joints` visible joints (`visible_joints`).

    points (..., 21, D) as in `visible_joints`, numpy or torch.
    """
    return enough_joints(visible_joints(points, confidence), min_joints)


def enough_joints(visible, min_joints: int = MIN_VISIBLE):
    """(...) bool from visible (..., 21) bool: the hand-present rule on a visibility mask."""
    return visible.sum(-1) >= min_joints
