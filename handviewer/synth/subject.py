"""Synthetic videos of one subject's hand: a constant shape (bones and palm layout), moving fingers.

The test and benchmark material for `hand.subject`: what a per-video shape estimate should recover.
"""

from __future__ import annotations

import numpy as np
import torch

from handviewer.hand.params import HandParams, random_params
from handviewer.hand.subject import SHAPE_ANGLES, HandShape
from handviewer.hand.template import ANGLE_LIMITS


def constant_shape_video(frames: int = 100, seed: int = 0, smooth: int = 10) -> tuple[HandParams, HandShape]:
    """`frames` poses of one right hand whose shape is constant: the bones of one random hand and a
    palm layout drawn within half the anatomical range of the `SHAPE_ANGLES`; the other angles move
    smoothly (random anatomical poses every `smooth` frames, linearly interpolated), as does the
    global rotation (within +-30 degrees of a random one) and the wrist (within 40 mm).
    Returns (params (frames,), the true shape)."""
    g = np.random.default_rng(seed)
    keys = frames // max(smooth, 1) + 2
    key = random_params(keys, seed=int(g.integers(2**31)), rotate=False, ranges="anatomical", dtype=torch.float64)
    t = np.linspace(0, keys - 1, frames)
    lerp = lambda a: np.stack([np.interp(t, np.arange(keys), a[:, k]) for k in range(a.shape[1])], 1)  # noqa: E731
    angles = lerp(key.angles.numpy())
    cols = list(SHAPE_ANGLES)
    palm = g.uniform(0.5 * ANGLE_LIMITS[cols, 0], 0.5 * ANGLE_LIMITS[cols, 1])
    angles[:, cols] = palm
    bones = key.bones[0].numpy()
    base = g.standard_normal(3)
    base *= g.uniform(0.0, np.pi) / np.linalg.norm(base)
    rot = base + lerp(g.uniform(-0.5, 0.5, size=(keys, 3)))
    trans = np.array([0.0, 0.0, 500.0]) + lerp(g.uniform(-20.0, 20.0, size=(keys, 3)))
    f = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32)  # noqa: E731
    params = HandParams(rot=f(rot), trans=f(trans), bones=f(np.broadcast_to(bones, (frames, 20))), angles=f(angles))
    return params, HandShape(bones, palm)


def noisy_joints(joints: np.ndarray, noise_mm: float = 2.0, missing: float = 0.1, seed: int = 0) -> np.ndarray:
    """joints (N, 21, 3) mm with Gaussian noise (`noise_mm` per axis) and a share `missing` of the
    joints (never the wrist) set to NaN, as an estimator's output."""
    g = np.random.default_rng(seed)
    out = np.asarray(joints, np.float64) + g.normal(0.0, noise_mm, size=np.shape(joints))
    drop = g.random(out.shape[:2]) < missing
    drop[:, 0] = False
    out[drop] = np.nan
    return out.astype(np.float32)


__all__ = ["constant_shape_video", "noisy_joints"]
