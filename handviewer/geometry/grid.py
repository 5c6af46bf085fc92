"""Bounding boxes and regular grids of sample points (the 50^3 grids of the intersection counts)."""

from __future__ import annotations

import torch

__all__ = ["bounding_box", "grid_points", "pair_grid"]


def bounding_box(vertices: torch.Tensor, pad: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Axis-aligned bounding box of point sets.

    vertices : (..., V, 3) mm.
    pad      : mm added on every side (may be negative).
    Returns (lo, hi), each (..., 3) mm. NaN vertices (a missing hand) give NaN boxes.
    """
    vertices = torch.as_tensor(vertices)
    lo = vertices.amin(dim=-2) - pad  # (..., 3) mm
    hi = vertices.amax(dim=-2) + pad  # (..., 3) mm
    return lo, hi


def grid_points(
    lo: torch.Tensor,
    hi: torch.Tensor,
    n: int = 50,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Centres of the n x n x n cells dividing the box [lo, hi].

    lo, hi : (..., 3) mm, box corners (a batch of boxes gives a batch of grids).
    n      : cells per axis.
    Returns (..., n**3, 3) mm, x slowest and z fastest: reshaping to (..., n, n, n, 3) indexes
    [i, j, k] = cell (x_i, y_j, z_k). Cell centres (not corners) so that the number of points inside a
    solid times the cell volume (see `pair_grid`) estimates its volume by the midpoint rule.
    `device`/`dtype` default to those of `lo` (float32 if `lo` is not floating).
    """
    lo = torch.as_tensor(lo, device=device)
    if dtype is None:
        dtype = lo.dtype if lo.dtype.is_floating_point else torch.get_default_dtype()
    lo = lo.to(dtype=dtype)
    hi = torch.as_tensor(hi, device=lo.device).to(dtype=dtype)
    lo, hi = torch.broadcast_tensors(lo, hi)
    t = (torch.arange(n, device=lo.device, dtype=dtype) + 0.5) / n  # (n,) unit cell centres
    axes = lo[..., None, :] + t[:, None] * (hi - lo)[..., None, :]  # (..., n, 3) mm
    batch = lo.shape[:-1]
    x = axes[..., :, None, None, 0].expand(*batch, n, n, n)
    y = axes[..., None, :, None, 1].expand(*batch, n, n, n)
    z = axes[..., None, None, :, 2].expand(*batch, n, n, n)
    return torch.stack([x, y, z], dim=-1).reshape(*batch, n**3, 3)


def pair_grid(
    verts_a: torch.Tensor, verts_b: torch.Tensor, n: int = 50, pad: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid over the union of the bounding boxes of two meshes (the paper's 50^3 = 125,000 points).

    verts_a, verts_b : (..., V, 3) mm, the two hands (V may differ; leading dims broadcast).
    n   : cells per axis.
    pad : mm added to the union box on every side.
    Returns (points (..., n**3, 3) mm, cell_volume (...) mm^3): the number of grid points inside a
    solid (e.g. inside both hands) times `cell_volume` estimates its volume in mm^3.

    Note: points inside both hands also lie inside the intersection of the two boxes; the union box
    keeps the paper's convention (a fixed number of points per pair, resolution set by the pair's size).
    """
    lo_a, hi_a = bounding_box(verts_a)
    lo_b, hi_b = bounding_box(verts_b)
    lo = torch.minimum(lo_a, lo_b) - pad  # (..., 3) mm
    hi = torch.maximum(hi_a, hi_b) + pad  # (..., 3) mm
    cell_volume = ((hi - lo) / n).prod(dim=-1)  # (...) mm^3
    return grid_points(lo, hi, n), cell_volume
