"""The terms refinement minimises, for a batch of frames of two hands (camera frame, mm)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from handviewer.intersect import intersection_loss
from handviewer.io import camera

@dataclass(frozen=True)
class EnergyWeights:
    """Internal scales of the data terms, which make each term about 1 for a typical error: 2D in units
    of `sigma_px`, 3D in units of `sigma_mm`. The intersection loss's weight is the user's
    `RefineSettings.weight`, not one of these."""

    reprojection: float = 1.0
    sigma_px: float = 8.0
    initial: float = 1.0
    sigma_mm: float = 10.0
    margin_logit: float = 0.0  # > 0: inflate the occupancy so that hands end with a small gap


def project(joints: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """(N, 2, 21, 3) mm, K (N, 3, 3) -> (N, 2, 21, 2) px: `io.camera.project` with z clamped to
    >= 1 mm, so that a joint behind the camera still has finite pixels and a gradient."""
    return camera.project(joints, K, min_depth_mm=1.0)


def _visible_confidence(keypoints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """keypoints (..., 21, 3) -> (visible (..., 21) bool: finite with confidence > 0, their
    confidence (..., 21), 0 where not visible)."""
    vis = torch.isfinite(keypoints).all(-1) & (keypoints[..., 2] > 0)
    return vis, torch.where(vis, keypoints[..., 2].nan_to_num(0.0), torch.zeros_like(keypoints[..., 2]))


def reprojection_px(joints: torch.Tensor, keypoints: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """(N,) confidence-weighted mean pixel error of the visible keypoints (NaN where none)."""
    vis, w = _visible_confidence(keypoints)
    err = (project(joints, K) - keypoints[..., :2].nan_to_num(0.0)).norm(dim=-1)
    err = torch.where(vis, err, torch.zeros_like(err))
    total = w.sum((1, 2))
    return torch.where(total > 0, (err * w).sum((1, 2)) / total.clamp_min(1e-9), torch.full_like(total, float("nan")))


def reprojection_term(joints, keypoints, K, weights: EnergyWeights) -> torch.Tensor:
    """(N,) confidence-weighted squared reprojection error in units of sigma_px (0 without keypoints)."""
    if keypoints is None or K is None or weights.reprojection <= 0:
        return joints.new_zeros(joints.shape[0])
    return _reprojection_residuals(joints, keypoints, K, weights).square().sum(-1)


def _reprojection_residuals(joints, keypoints, K, weights: EnergyWeights, confidence=None) -> torch.Tensor:
    """(N, H * 42) residuals whose squares sum to the reprojection term: each visible keypoint's pixel
    error in units of sigma_px, scaled by the square root of its share of the frame's confidence.
    joints, keypoints (N, H, 21, 3): H = 2 hands, or 1 when the frame's total confidence (N,) of
    both hands' visible keypoints is given (the data fit solves each hand on its own)."""
    vis, conf = _visible_confidence(keypoints)
    total = conf.sum((1, 2)) if confidence is None else confidence
    share = weights.reprojection * conf / total.clamp_min(1.0)[:, None, None]
    d = (project(joints, K) - keypoints[..., :2].nan_to_num(0.0)) / weights.sigma_px
    d = torch.where(vis[..., None], d * share.sqrt()[..., None], torch.zeros_like(d))
    return d.flatten(1)


def frame_confidence(keypoints: torch.Tensor) -> torch.Tensor:
    """(N,) total confidence of each frame's visible keypoints (N, 2, 21, 3)."""
    return _visible_confidence(keypoints)[1].sum((1, 2))


def data_residuals(joints, initial, keypoints, K, weights: EnergyWeights, confidence=None) -> torch.Tensor:
    """(N, R) residuals whose squares sum to each frame's data terms (R = 126 distances to the initial
    estimate, + 84 reprojection errors when keypoints are given): the least-squares form that
    `refine.fit_data_terms` solves. With `confidence` (N,) (see `frame_confidence`), joints etc. may
    hold one hand per row (N, 1, 21, 3): its share of the frame's terms."""
    parts = [((weights.initial / 42) ** 0.5 / weights.sigma_mm) * (joints - initial).flatten(1)]
    if keypoints is not None and K is not None and weights.reprojection > 0:
        parts.append(_reprojection_residuals(joints, keypoints, K, weights, confidence))
    return torch.cat(parts, 1)


def data_terms(joints, initial, keypoints, K, weights: EnergyWeights) -> torch.Tensor:
    """(N,) reprojection + distance-to-initial energy. keypoints/K may be None (3D only)."""
    return data_residuals(joints, initial, keypoints, K, weights).square().sum(-1)


def intersection_term(net, joints, point_set: str, both: bool, vertices=None, margin_logit: float = 0.0,
                      frames: torch.Tensor | None = None, features: torch.Tensor | None = None) -> torch.Tensor:
    """(N,) intersection loss of each frame's pair (right = joints[:, 0], left = joints[:, 1]);
    vertices (N, 2, V, 3) plain-mesh vertices, needed by the "mesh" point set; frames (N,) bool:
    evaluate only these frames (the others get 0); features (N, 2, F): the hands' encodings when
    already known (`intersect.loss.hand_features`)."""
    vr, vl = (vertices[:, 0], vertices[:, 1]) if vertices is not None else (None, None)
    return intersection_loss(net, joints[:, 0], joints[:, 1], point_set=point_set, both=both,
                             vertices_right=vr, vertices_left=vl, logit_bias=margin_logit, frames=frames,
                             features=features)
