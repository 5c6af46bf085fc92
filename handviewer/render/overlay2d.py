"""Geometry for the 2D overlay drawn over the video frame (the GUI draws it; no Qt here)."""

from __future__ import annotations

import numpy as np

from handviewer.hand.skeleton import BONES
from handviewer.results import HandsEstimate


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame points.

    points : (..., 3) mm, camera frame (z forward).  K : (3, 3).
    Returns (..., 2) px; NaN where the point is NaN or not in front of the camera.
    """
    points = np.asarray(points, dtype=np.float64)
    z = points[..., 2:3]
    with np.errstate(invalid="ignore", divide="ignore"):
        uv = (points @ np.asarray(K, dtype=np.float64).T)[..., :2] / z
    return np.where(z > 0, uv, np.nan)


def projected_joints(estimate: HandsEstimate | None, K: np.ndarray | None) -> np.ndarray | None:
    """(2, 21, 2) px: the estimate's 3D joints seen by the video camera, or None without K."""
    if estimate is None or K is None:
        return None
    return project(estimate.joints, K)


def visible_bones(points_2d: np.ndarray) -> np.ndarray:
    """(B, 2) joint pairs of the bones whose two ends are finite. points_2d : (21, >=2)."""
    finite = np.isfinite(np.asarray(points_2d)[:, :2]).all(axis=1)
    return BONES[finite[BONES].all(axis=1)]
