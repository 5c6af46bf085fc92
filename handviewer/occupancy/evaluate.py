"""Accuracy of an occupancy network: IoU on a 50^3 grid spanning each mesh, on held-out hands."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import torch

from handviewer.geometry import grid_points, inside_mesh, unsigned_distance
from handviewer.hand import HandModel


@torch.no_grad()
def grid_iou(net, hands: int = 200, seed: int = 987_654, resolution: int = 50, shell_mm: float = 5.0,
             device=None, ranges: str = "typical") -> Generator[tuple[float, str], None, dict]:
    """Per-hand IoU between the network (p > 0.5) and the exact inside test on a resolution^3 grid
    spanning each `plain` mesh's bounding box, for `hands` random hands from `seed` (not the training
    seeds) drawn over `ranges` ("typical": the training distribution; "anatomical": the joint limits,
    twists included). Also the IoU restricted to grid points within `shell_mm` of the surface, where
    errors matter.
    Yields progress; returns {"iou": (H,), "shell_iou": (H,)} as numpy arrays.
    """
    model = HandModel("plain")
    faces = torch.as_tensor(model.faces)
    params = model.random_params(hands, seed=seed, ranges=ranges)
    joints, verts = model.forward(params)
    ious, shells = [], []
    for h in range(hands):
        lo, hi = verts[h].min(0).values, verts[h].max(0).values
        grid = grid_points(lo, hi, resolution)[None].to(verts.dtype)  # (1, R^3, 3)
        truth = inside_mesh(grid, verts[h : h + 1], faces)[0]
        pred = net.probability(grid.to(device or "cpu"), joints[h : h + 1].to(device or "cpu"))[0].cpu() > 0.5
        ious.append(_iou(pred, truth))
        near = _near_surface(grid, verts[h : h + 1], faces, shell_mm)
        shells.append(_iou(pred[near], truth[near]))
        if (h + 1) % 10 == 0 or h + 1 == hands:
            yield (h + 1) / hands, f"{h + 1}/{hands} hands, mean IoU so far {np.mean(ious):.3f}"
    return {"iou": np.array(ious), "shell_iou": np.array(shells)}


def _iou(pred: torch.Tensor, truth: torch.Tensor) -> float:
    union = (pred | truth).sum().item()
    return (pred & truth).sum().item() / union if union else 1.0


def _near_surface(grid: torch.Tensor, verts: torch.Tensor, faces: torch.Tensor, shell_mm: float) -> torch.Tensor:
    """(R^3,) bool: grid points within shell_mm of the surface (exact distances, pre-filtered by vertices)."""
    edge = (verts[0, faces[:, 0]] - verts[0, faces[:, 1]]).norm(dim=-1).max().item()
    to_vertex = torch.cdist(grid[0], verts[0]).min(dim=1).values
    candidates = torch.nonzero(to_vertex < shell_mm + edge)[:, 0]
    near = torch.zeros(grid.shape[1], dtype=torch.bool)
    dist = unsigned_distance(grid[:, candidates], verts, faces)[0]
    near[candidates[dist < shell_mm]] = True
    return near


def summary(result: dict) -> dict:
    iou, shell = result["iou"], result["shell_iou"]
    return {
        "hands": int(len(iou)),
        "mean_iou": float(iou.mean()),
        "p5_iou": float(np.percentile(iou, 5)),
        "shell_mean_iou": float(shell.mean()),
        "shell_p5_iou": float(np.percentile(shell, 5)),
    }
