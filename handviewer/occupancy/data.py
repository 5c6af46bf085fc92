"""Training data for the occupancy network, made by the project's own hand model.

Per hand: random pose within the joint limits, random bone lengths around the adult mean, random
global rotation (any angle; the network's canonical frame undoes it); 8,192 points, half uniform
in the padded bounding box and half near the surface (surface samples plus Gaussian noise of 2 or
8 mm), labelled inside/outside exactly against the watertight `plain` mesh by winding numbers.
Stored in each hand's canonical frame (float16 points, about 0.1 mm resolution).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from handviewer.cache import cache_dir
from handviewer.geometry import inside_mesh
from handviewer.hand import HandModel
from handviewer.io._files import atomic_write
from handviewer.occupancy.canonical import to_canonical

DATA_VERSION = 1


@dataclass
class OccupancyData:
    """points (H, P, 3) float16 canonical; inside (H, P) bool; joints (H, 21, 3) float32 canonical."""

    points: np.ndarray
    inside: np.ndarray
    joints: np.ndarray

    def __len__(self) -> int:
        return len(self.joints)


def sample_points(vertices: torch.Tensor, faces: torch.Tensor, count: int, generator: torch.Generator,
                  pad: float = 15.0, near_fraction: float = 0.5) -> torch.Tensor:
    """(N, count, 3) mm: points uniform in each mesh's box padded by `pad` mm, and near its surface."""
    n = vertices.shape[0]
    near = int(count * near_fraction)
    lo, hi = vertices.min(1).values - pad, vertices.max(1).values + pad
    uniform = lo[:, None] + torch.rand(n, count - near, 3, generator=generator, dtype=vertices.dtype) * (hi - lo)[:, None]
    tri = vertices[:, faces]  # (N, F, 3, 3)
    area = torch.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0], dim=-1).norm(dim=-1)  # (N, F)
    face = torch.multinomial(area, near, replacement=True, generator=generator)  # (N, near)
    u, v = torch.rand(2, n, near, 1, generator=generator, dtype=vertices.dtype)
    flip = (u + v) > 1
    u, v = torch.where(flip, 1 - u, u), torch.where(flip, 1 - v, v)
    t = torch.gather(tri, 1, face[..., None, None].expand(-1, -1, 3, 3))
    surface = t[:, :, 0] + u * (t[:, :, 1] - t[:, :, 0]) + v * (t[:, :, 2] - t[:, :, 0])
    sigma = torch.where(torch.rand(n, near, 1, generator=generator) < 0.5, 2.0, 8.0).to(vertices.dtype)
    noisy = surface + sigma * torch.randn(n, near, 3, generator=generator, dtype=vertices.dtype)
    return torch.cat([uniform, noisy], dim=1)


def generate(hands: int, seed: int, points_per_hand: int = 8192, chunk: int = 64,
             anatomical_share: float = 0.0) -> Generator[tuple[float, str], None, OccupancyData]:
    """Make `hands` labelled hands; yields (fraction, message) progress, returns the data.
    anatomical_share: the share of hands drawn over the anatomical joint ranges (twisted fingers,
    per-person palms: what IK fits to real hands) instead of the typical ones."""
    model = HandModel("plain")
    faces = torch.as_tensor(model.faces)
    g = torch.Generator().manual_seed(seed)
    out_p, out_in, out_j = [], [], []
    for start in range(0, hands, chunk):
        n = min(chunk, hands - start)
        params = model.random_params(n, seed=seed * 1_000_003 + start)
        if anatomical_share > 0:
            wide = model.random_params(n, seed=seed * 1_000_003 + start + 500_000_000, ranges="anatomical")
            take = torch.rand(n, generator=g) < anatomical_share
            params = params.map(lambda t: t.clone())
            for name, value in wide.tensors().items():
                params.tensors()[name][take] = value[take]
        with torch.no_grad():
            joints, verts = model.forward(params)
            pts = sample_points(verts, faces, points_per_hand, g)
            inside = inside_mesh(pts, verts, faces)
            cp, cj = to_canonical(pts, joints)
        out_p.append(cp.numpy().astype(np.float16))
        out_in.append(inside.numpy())
        out_j.append(cj.numpy().astype(np.float32))
        yield (start + n) / hands, f"labelled {start + n}/{hands} hands"
    return OccupancyData(np.concatenate(out_p), np.concatenate(out_in), np.concatenate(out_j))


def cached(hands: int, seed: int, points_per_hand: int = 8192, anatomical_share: float = 0.0
           ) -> Generator[tuple[float, str], None, OccupancyData]:
    """`generate`, stored in the user cache so that a second run (or a resumed one) loads it at once."""
    mix = f"_anat{anatomical_share:g}" if anatomical_share > 0 else ""
    path = cache_dir("occupancy") / f"data_v{DATA_VERSION}_{hands}_{seed}_{points_per_hand}{mix}.npz"
    if path.exists():
        with np.load(path) as f:
            return OccupancyData(f["points"], f["inside"], f["joints"])
    data = yield from generate(hands, seed, points_per_hand, anatomical_share=anatomical_share)
    with atomic_write(path, binary=True) as f:  # a file object: np.savez adds no suffix
        np.savez(f, points=data.points, inside=data.inside, joints=data.joints)
    return data


__all__ = ["OccupancyData", "sample_points", "generate", "cached", "Path"]
