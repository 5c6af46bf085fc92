"""Estimator-like errors for ground-truth sequences: wrong 3D poses and noisy 2D keypoints.

3D (`corrupt_sequence`), as real 3D two-hand estimators err (defaults of `CorruptionSettings`):
- each hand turns about its own wrist by an angle uniform in [5, 15] deg about a uniformly random
  axis; the error is drawn at keyframes every `key_every` = 10 frames and eased between them (axis
  slerped, angle lerped, so every frame's angle stays in [5, 15] deg), plus white jitter
  N(0, 1 deg) per axis per frame (`key_every` = 0: a fresh error every frame, no jitter);
- the left hand moves relative to the right (the right keeps its place): along the camera axis
  by a magnitude uniform in [10, 30] mm, towards the right hand with probability 0.8 (the side
  from the sequence's `approach` direction, else away), and sideways (x, y) towards the right hand
  by U(0, 10) mm plus N(0, 3.3 mm) per axis; keyframed the same way, plus N(0, 1.5 mm) jitter;
- finger joint angles get keyframed N(0, 4 deg) noise, clamped to the joint limits;
- bone lengths stay exact.
With these, most frames of an interacting ground-truth clip intersect (see the lead's report).

2D (`noisy_keypoints`), as a 2D detector errs: ground-truth joints projected with the camera, plus
N(0, 1.5 px) noise with confidence U(0.85, 0.97); 6 % of joints are uncertain (confidence
U(0.2, 0.5), N(0, 5 px) noise); 2 % are dropped (NaN); joints marked not visible (occluded, from a
rendering) are dropped with probability 0.5, else uncertain; joints outside the image are dropped.
All draws come from one `numpy.random.default_rng(seed)`: same seed, same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from handviewer.hand import HandParams
from handviewer.hand.params import clamp_angles
from handviewer.io import Camera, project
from handviewer.synth import _geometry as G


@dataclass(frozen=True)
class CorruptionSettings:
    """Distributions of the errors (module docstring). Angles in degrees, lengths in mm, pixels px."""

    rotation_deg: tuple[float, float] = (5.0, 15.0)
    depth_mm: tuple[float, float] = (10.0, 30.0)
    toward_prob: float = 0.8
    side_mm: float = 10.0
    angle_noise_deg: float = 4.0
    key_every: int = 10
    jitter_deg: float = 1.0
    jitter_mm: float = 1.5
    pixel_sigma: float = 1.5
    confidence: tuple[float, float] = (0.85, 0.97)
    uncertain_prob: float = 0.06
    uncertain_confidence: tuple[float, float] = (0.2, 0.5)
    uncertain_sigma: float = 5.0
    drop_prob: float = 0.02
    occluded_drop_prob: float = 0.5


@dataclass(frozen=True, eq=False)
class Corrupted:
    """An estimator-like version of a sequence.

    joints             : (T, 2, 21, 3) float32 mm camera frame, the corrupted 3D joints (right, left).
    keypoints          : (T, 2, 21, 3) float32: x px, y px, confidence; NaN = dropped.
    params_right       : HandParams (T) of the corrupted right hand.
    params_left        : HandParams (T) of the corrupted left hand (right-hand params of the mirror).
    rotation_error_deg : (T, 2) angle of each hand's rotation error.
    left_offset_mm     : (T, 3) camera frame: the left hand's translation error.
    """

    joints: np.ndarray
    keypoints: np.ndarray
    params_right: HandParams
    params_left: HandParams
    rotation_error_deg: np.ndarray
    left_offset_mm: np.ndarray


def _keyed(rng: np.random.Generator, frames: int, key_every: int):
    """(times, interpolate) for keyframed errors; every frame its own keyframe when key_every <= 0."""
    if key_every <= 0:
        times = np.arange(max(frames, 2), dtype=np.float64)
        return times, lambda v: v[:frames]
    times = G.key_times(frames, key_every)
    return times, lambda v: G.interpolate(times, v, frames)


def _rotation_errors(rng, frames: int, s: CorruptionSettings) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3, 3) rotation errors and their (T,) angles in degrees, for one hand."""
    times, lerp = _keyed(rng, frames, s.key_every)
    axes = rng.standard_normal((len(times), 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    for k in range(1, len(axes)):  # keep consecutive axes on one side, so the slerp never passes 0
        axes[k] *= np.sign(axes[k] @ axes[k - 1]) or 1.0
    angles = rng.uniform(*s.rotation_deg, size=len(times))
    axis = lerp(axes)
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    rotvec = axis * np.deg2rad(lerp(angles))[:, None]
    rot = G.rotvec_to_matrix(rotvec)
    if s.key_every > 0 and s.jitter_deg > 0:
        rot = G.rotvec_to_matrix(rng.normal(0.0, np.deg2rad(s.jitter_deg), size=(frames, 3))) @ rot
    return rot, np.rad2deg(np.linalg.norm(G.matrix_to_rotvec(rot), axis=1))


def _left_offsets(rng, approach: np.ndarray, s: CorruptionSettings) -> np.ndarray:
    """(T, 3) mm camera frame: the left hand's translation error (module docstring)."""
    frames = len(approach)
    times, lerp = _keyed(rng, frames, s.key_every)
    at = approach[np.clip(np.round(times).astype(int), 0, frames - 1)]  # (K, 3) right -> left
    toward = np.where(rng.uniform(size=len(times)) < s.toward_prob, 1.0, -1.0)
    sign_z = np.where(at[:, 2] > 0, -1.0, 1.0) * toward  # -approach_z brings the left hand closer
    depth = sign_z * rng.uniform(*s.depth_mm, size=len(times))
    xy = -at[:, :2] / np.maximum(np.linalg.norm(at[:, :2], axis=1, keepdims=True), 1e-9)
    side = xy * rng.uniform(0.0, s.side_mm, size=(len(times), 1)) + rng.normal(0.0, s.side_mm / 3, (len(times), 2))
    offset = lerp(np.concatenate([side, depth[:, None]], axis=1))
    if s.key_every > 0 and s.jitter_mm > 0:
        offset = offset + rng.normal(0.0, s.jitter_mm, size=offset.shape)
    return offset


def _angle_noise(rng, angles: torch.Tensor, s: CorruptionSettings) -> torch.Tensor:
    frames = len(angles)
    times, lerp = _keyed(rng, frames, s.key_every)
    noise = lerp(rng.normal(0.0, np.deg2rad(s.angle_noise_deg), size=(len(times), angles.shape[1])))
    return clamp_angles(angles + torch.as_tensor(noise, dtype=angles.dtype))


def corrupt_sequence(sequence, seed: int = 0, settings: CorruptionSettings = CorruptionSettings(),
                     visible: np.ndarray | None = None) -> Corrupted:
    """Estimator-like 3D joints and detector-like 2D keypoints of a `TwoHandSequence` (module docstring).

    visible : (T, 2, 21) bool, which ground-truth joints a camera sees (e.g. from
              `render.joint_visibility`); None: all visible.
    """
    from handviewer.synth.scenes import _model, pair_joints

    rng = np.random.default_rng(seed)
    frames = len(sequence)
    rot_r, deg_r = _rotation_errors(rng, frames, settings)
    rot_l, deg_l = _rotation_errors(rng, frames, settings)
    offset = _left_offsets(rng, np.asarray(sequence.approach, dtype=np.float64), settings)
    pr, pl = sequence.params_right, sequence.params_left
    t = lambda a: torch.tensor(np.array(a, dtype=np.float32))  # noqa: E731
    right = HandParams(
        rot=t(G.matrix_to_rotvec(rot_r @ G.rotvec_to_matrix(pr.rot.double().numpy()))),
        trans=pr.trans.clone(), bones=pr.bones.clone(), angles=_angle_noise(rng, pr.angles, settings))
    # The left hand's camera-frame rotation R about its wrist is M R M on its (mirrored) parameters.
    rot_left = G.MIRROR @ rot_l @ G.MIRROR @ G.rotvec_to_matrix(pl.rot.double().numpy())
    left = HandParams(
        rot=t(G.matrix_to_rotvec(rot_left)), trans=pl.trans + t(offset @ G.MIRROR), bones=pl.bones.clone(),
        angles=_angle_noise(rng, pl.angles, settings))
    keypoints = noisy_keypoints(sequence.joints, sequence.camera, seed=int(rng.integers(2**31)),
                                settings=settings, visible=visible)
    return Corrupted(pair_joints(_model(), right, left), keypoints, right, left,
                     np.stack([deg_r, deg_l], axis=1), offset)


def noisy_keypoints(joints: np.ndarray, camera: Camera, seed: int = 0,
                    settings: CorruptionSettings = CorruptionSettings(),
                    visible: np.ndarray | None = None) -> np.ndarray:
    """Detector-like 2D keypoints of 3D joints (module docstring).

    joints  : (T, 2, 21, 3) mm camera frame (NaN = missing).
    visible : (T, 2, 21) bool or None (all visible).
    Returns (T, 2, 21, 3) float32: x px, y px, confidence in [0, 1]; NaN (all three) = dropped.
    """
    s = settings
    rng = np.random.default_rng(seed)
    uv = project(np.asarray(joints, dtype=np.float64), camera)  # (T, 2, 21, 2) px
    shape = uv.shape[:-1]
    visible = np.ones(shape, bool) if visible is None else np.asarray(visible, bool)
    occluded = ~visible
    uncertain = (rng.uniform(size=shape) < s.uncertain_prob) | occluded
    dropped = (rng.uniform(size=shape) < s.drop_prob) | (occluded & (rng.uniform(size=shape) < s.occluded_drop_prob))
    sigma = np.where(uncertain, s.uncertain_sigma, s.pixel_sigma)[..., None]
    noisy = uv + rng.normal(0.0, 1.0, size=uv.shape) * sigma
    conf = np.where(uncertain, rng.uniform(*s.uncertain_confidence, size=shape), rng.uniform(*s.confidence, size=shape))
    outside = ~((noisy[..., 0] >= 0) & (noisy[..., 0] <= camera.width - 1)
                & (noisy[..., 1] >= 0) & (noisy[..., 1] <= camera.height - 1))
    out = np.concatenate([noisy, conf[..., None]], axis=-1).astype(np.float32)
    out[dropped | outside | ~np.isfinite(uv).all(axis=-1)] = np.nan
    return out
