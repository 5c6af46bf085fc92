"""From 2D keypoints to the uplift network's input, and the perspective placement back to 3D.

Keypoints become normalised camera coordinates ((u - cx) / fx, (v - cy) / fy), centred on the
right wrist (or the visible keypoints' mean) and divided by their spread: the input is the same
whatever the camera, image size or distance. The left hand is handled as a mirrored right hand by
negating x (a mirror of the whole scene about the camera's y-z plane).
"""

from __future__ import annotations

import torch

from handviewer.device_constants import flip_x
from handviewer.hand.skeleton import MIN_VISIBLE, enough_joints, visible_joints  # noqa: F401 (MIN_VISIBLE re-exported)


def normalised_coords(keypoints: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3) -> (N, 2, 21, 2) normalised camera coords (NaN kept)."""
    fx, fy, cx, cy = K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2]
    x = (keypoints[..., 0] - cx[:, None, None]) / fx[:, None, None]
    y = (keypoints[..., 1] - cy[:, None, None]) / fy[:, None, None]
    return torch.stack([x, y], dim=-1)


def visibility(keypoints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(joint visible (N, 2, 21) bool, hand present (N, 2) bool) from keypoints (N, 2, 21, 3):
    `skeleton.visible_joints` with confidence and the hand-present rule `skeleton.enough_joints`."""
    vis = visible_joints(keypoints, confidence=True)
    return vis, enough_joints(vis)


def network_input(keypoints: torch.Tensor, K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(input for the right-hand pass (N, 126), input for the left-hand pass (N, 126)).

    Each pass sees its own hand first and the other hand second; the left pass is mirrored (x -> -x)
    so that the same weights predict both hands as right hands.
    """
    xy = normalised_coords(keypoints, K)
    vis, present = visibility(keypoints)
    vis = vis & present[..., None]
    xy = torch.where(vis[..., None], xy, torch.zeros_like(xy))
    w = vis.to(xy.dtype)
    # Centre: the right wrist when visible, else the mean of the visible keypoints.
    mean = (xy * w[..., None]).sum((1, 2)) / w.sum((1, 2)).clamp_min(1.0)[:, None]
    centre = torch.where(vis[:, 0, 0, None], xy[:, 0, 0], mean)
    rel = (xy - centre[:, None, None]) * w[..., None]
    spread = torch.sqrt((rel.square().sum(-1) * w).sum((1, 2)) / w.sum((1, 2)).clamp_min(1.0)).clamp_min(1e-6)
    rel = rel / spread[:, None, None, None]
    conf = torch.where(vis, keypoints[..., 2].nan_to_num(0.0), torch.zeros_like(w))
    feats = torch.cat([rel, conf[..., None]], dim=-1)  # (N, 2, 21, 3)
    right = feats.reshape(len(feats), -1)
    mirrored = feats.flip(1) * flip_x(feats)
    return right, mirrored.reshape(len(feats), -1)


def place_by_reprojection(joints_rel: torch.Tensor, keypoints: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Translation t (N, 3) mm that best reprojects root-relative joints (N, 21, 3) onto keypoints (N, 21, 3).

    Linear least squares in t: fx (X + tx) - (u - cx)(Z + tz) = 0 and likewise for y, weighted by
    confidence; missing keypoints get zero weight. Returns NaN where fewer than 3 keypoints are visible.
    """
    fx, fy, cx, cy = K[:, 0, 0, None], K[:, 1, 1, None], K[:, 0, 2, None], K[:, 1, 2, None]
    vis = visible_joints(keypoints, confidence=True)
    u = torch.where(vis, keypoints[..., 0], torch.zeros_like(keypoints[..., 0])) - cx
    v = torch.where(vis, keypoints[..., 1], torch.zeros_like(keypoints[..., 1])) - cy
    w = torch.where(vis, keypoints[..., 2].nan_to_num(0.0), torch.zeros_like(u)).sqrt()
    X, Y, Z = joints_rel.unbind(-1)
    zero = torch.zeros_like(u)
    rows_x = torch.stack([fx.expand_as(u), zero, -u], -1)  # (N, 21, 3)
    rows_y = torch.stack([zero, fy.expand_as(v), -v], -1)
    A = torch.cat([rows_x, rows_y], 1) * torch.cat([w, w], 1)[..., None]  # (N, 42, 3)
    b = torch.cat([u * Z - fx * X, v * Z - fy * Y], 1) * torch.cat([w, w], 1)  # (N, 42)
    AtA = A.transpose(1, 2) @ A + 1e-9 * torch.eye(3, dtype=A.dtype, device=A.device)
    t = torch.linalg.solve(AtA, (A.transpose(1, 2) @ b[..., None]))[..., 0]
    return torch.where((vis.sum(-1) >= 3)[:, None], t, torch.full_like(t, float("nan")))
