"""The point sets of one hand that are tested against the other hand's occupancy (paper §III)."""

from __future__ import annotations

import torch

from handviewer.device_constants import on_device
from handviewer.hand.skeleton import BONES
from handviewer.intersect.names import POINT_SETS
POINTS_PER_BONE = 5


def hand_points(point_set: str, joints: torch.Tensor, vertices: torch.Tensor | None = None) -> torch.Tensor:
    """(N, K, 3) mm: sparse = the 21 joints; dense = joints + 5 evenly spaced points inside each of the
    20 bones (121); mesh = the surface vertices of the `plain` mesh, surface = those and its faces'
    centres (must be given: `PairParams.joints_and_vertices(face_centres=...)`)."""
    if point_set == "sparse":
        return joints
    if point_set == "dense":
        t = torch.arange(1, POINTS_PER_BONE + 1, dtype=joints.dtype, device=joints.device) / (POINTS_PER_BONE + 1)
        ends = on_device("bones", lambda: BONES, joints.device)  # (20, 2) joint indices
        a, b = joints[:, ends[:, 0]], joints[:, ends[:, 1]]  # (N, 20, 3)
        inner = a[:, :, None] + t[None, None, :, None] * (b - a)[:, :, None]  # (N, 20, 5, 3)
        return torch.cat([joints, inner.reshape(joints.shape[0], -1, 3)], dim=1)
    if point_set in ("mesh", "surface"):
        if vertices is None:
            raise ValueError(f"the {point_set!r} point set needs the hand's plain-mesh surface points")
        return vertices
    raise ValueError(f"point_set must be one of {POINT_SETS}, got {point_set!r}")
