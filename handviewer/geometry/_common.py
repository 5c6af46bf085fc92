"""Small helpers shared by the geometry modules (input checks, dtype promotion, chunk sizes)."""

from __future__ import annotations

import torch

# Elements (batch x points x faces) processed at once by the chunked kernels. About 1 MiB per float32
# temporary: small enough to stay in cache (fastest on CPU), large enough to amortise Python overhead.
DEFAULT_CHUNK = 1 << 18
# On a GPU the cost is kernel launches, not cache misses: 16x larger chunks (scratch up to 12 x 4M
# elements, 200-400 MiB in float32-float64, for the largest meshes and point sets).
GPU_CHUNK = 1 << 22


def chunk_for(device: torch.device) -> int:
    """The chunk size (elements) that suits `device`."""
    return DEFAULT_CHUNK if device.type == "cpu" else GPU_CHUNK


def as_batched(points: torch.Tensor, vertices: torch.Tensor, faces: torch.Tensor):
    """Check shapes and bring `points`, `vertices` to one floating dtype and device.

    points : (B, P, 3) or (P, 3); vertices : (B, V, 3) or (V, 3); faces : (F, 3) integer.
    Unbatched vertices are given a batch of 1; unbatched points are shared by every batch element.
    Returns (points (B, P, 3), vertices (B or 1, V, 3), faces (F, 3) int64, squeeze) where `squeeze`
    says the caller gave no batch dimension at all (so results drop it again). Vertices keep a batch
    of 1 when one mesh serves all point sets (callers then treat the points as one long set).
    """
    points = torch.as_tensor(points)
    vertices = torch.as_tensor(vertices)
    faces = torch.as_tensor(faces, device=vertices.device).long()
    if points.shape[-1] != 3 or vertices.shape[-1] != 3 or faces.ndim != 2 or faces.shape[-1] != 3:
        raise ValueError(
            f"expected points (B, P, 3), vertices (B, V, 3), faces (F, 3); got "
            f"{tuple(points.shape)}, {tuple(vertices.shape)}, {tuple(faces.shape)}"
        )
    squeeze = points.ndim == 2 and vertices.ndim == 2
    dtype = torch.promote_types(points.dtype, vertices.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    points = points.to(device=vertices.device, dtype=dtype)
    vertices = vertices.to(dtype=dtype)
    if vertices.ndim == 2:
        vertices = vertices[None]
    if points.ndim == 2:
        points = points[None].expand(vertices.shape[0], -1, -1)
    if vertices.ndim != 3 or points.ndim != 3:
        raise ValueError("points and vertices must be (B, P, 3) and (B, V, 3)")
    if points.shape[0] != vertices.shape[0] and vertices.shape[0] != 1:
        raise ValueError(f"batch sizes differ: points {points.shape[0]}, vertices {vertices.shape[0]}")
    return points, vertices, faces, squeeze


def chunk_sizes(batch: int, points: int, per_point: int, chunk: int) -> tuple[int, int]:
    """(batch elements, points) per chunk so that batch * points * per_point <= chunk (at least 1 x 1)."""
    per_point = max(per_point, 1)
    pc = min(points, max(1, chunk // per_point))
    bc = min(batch, max(1, chunk // (per_point * max(pc, 1))))
    return bc, max(pc, 1)
