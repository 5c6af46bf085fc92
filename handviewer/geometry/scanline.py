"""Which points of a regular grid lie inside a closed mesh, by casting one ray per grid column.

For a grid of cell centres (`grid_points`' layout) every column (x_i, y_j) is a ray along +z. Each
triangle is projected onto the xy plane and tested only against the columns in its projected box;
where a column crosses it, the crossing adds +1 (entering: the face looks down, -z) or -1 (leaving)
to every grid point above it. The running sum is the winding number along the column (1 inside a
closed outward-oriented mesh, 0 outside). Cost O(faces x columns per face + points tested), pure
numpy: a few tenths of a millisecond for the small bodies where two hands intersect, where the
winding-number test (`winding`) costs O(points x faces).

Columns through an edge or a vertex of the projection are assigned to exactly one of the triangles
sharing it (the "top-left" fill rule of rasterisers, with each edge's function computed the same
way, bit for bit, from both sides), so no crossing is counted twice or missed. Triangles seen
edge-on (zero projected area) are skipped: their neighbours close the surface.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grid_inside"]


def _edge_values(v2: np.ndarray, faces: np.ndarray, cols: np.ndarray, tri: np.ndarray, k: int):
    """Edge function of edge k (corner k -> k+1) of triangles `tri` at column points `cols` (M, 2),
    computed from the lower vertex index to the higher one (identical bits from both neighbours),
    then signed for the triangle's own direction; and whether the edge wins ties (top-left rule)."""
    a, b = faces[tri, k], faces[tri, (k + 1) % 3]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    sign = np.where(a < b, 1.0, -1.0)
    p, q = v2[lo], v2[hi]
    e = (q[:, 0] - p[:, 0]) * (cols[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (cols[:, 0] - p[:, 0])
    d = (q - p) * sign[:, None]  # the edge's direction in the triangle (M, 2)
    wins = (d[:, 1] > 0) | ((d[:, 1] == 0) & (d[:, 0] < 0))
    return e * sign, wins


def grid_inside(vertices, faces, lo, hi, n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of the n x n x n grid over the box [lo, hi] that lie inside a closed mesh.

    vertices : (V, 3) mm; faces : (F, 3) int, counter-clockwise seen from outside (closed, oriented).
    lo, hi   : (3,) mm, the grid's box; cell centres are those of `grid_points(lo, hi, n)`.
    Returns (points (K, 3) float64 mm, index (K,) int64 into `grid_points`' order, x slowest, z
    fastest). Only the columns and layers within the mesh's bounding box are visited.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    empty = np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    if len(f) == 0 or not np.isfinite(v).all():
        return empty
    cell = (hi - lo) / n  # (3,) mm
    centre = lambda axis, i: lo[axis] + (i + 0.5) * cell[axis]  # noqa: E731
    tri = v[f]  # (F, 3, 3) mm
    # Projected orientation: > 0 counter-clockwise seen from +z (the face looks up: leaving).
    ab, ac = tri[:, 1, :2] - tri[:, 0, :2], tri[:, 2, :2] - tri[:, 0, :2]
    area2 = ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]  # (F,)
    keep = area2 != 0
    # Column index ranges per triangle: centres c with tmin <= c <= tmax.
    tmin, tmax = tri[:, :, :2].min(1), tri[:, :, :2].max(1)  # (F, 2) mm
    i0 = np.maximum(np.ceil((tmin - lo[:2]) / cell[:2] - 0.5), 0).astype(np.int64)
    i1 = np.minimum(np.floor((tmax - lo[:2]) / cell[:2] - 0.5), n - 1).astype(np.int64)
    cnt = np.where(keep, np.maximum(i1 - i0 + 1, 0).prod(1), 0)  # (F,) candidate columns
    total = int(cnt.sum())
    if total == 0:
        return empty
    # One row per (triangle, column) candidate.
    t = np.repeat(np.arange(len(f)), cnt)  # (M,)
    local = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    ny = np.maximum(i1[t, 1] - i0[t, 1] + 1, 1)
    ix, iy = i0[t, 0] + local // ny, i0[t, 1] + local % ny
    cols = np.stack([centre(0, ix), centre(1, iy)], axis=1)  # (M, 2) mm
    s = np.sign(area2[t])  # normalise every projection to counter-clockwise
    hit = np.ones(total, dtype=bool)
    for k in range(3):
        e, wins = _edge_values(v[:, :2], f, cols, t, k)
        e, wins = e * s, np.where(s > 0, wins, ~wins)  # reversing an edge flips its tie rule
        hit &= (e > 0) | ((e == 0) & wins)
    t, ix, iy, cols, s = t[hit], ix[hit], iy[hit], cols[hit], s[hit]
    # Height of the crossing: the triangle's plane at the column.
    a = tri[t, 0]
    nrm = np.cross(tri[t, 1] - a, tri[t, 2] - a)  # (M, 3), nrm[:, 2] != 0
    z = a[:, 2] - (nrm[:, 0] * (cols[:, 0] - a[:, 0]) + nrm[:, 1] * (cols[:, 1] - a[:, 1])) / nrm[:, 2]
    # Layers within the mesh's z range only; a crossing affects the grid points strictly above it.
    k0 = max(int(np.ceil((v[:, 2].min() - lo[2]) / cell[2] - 0.5)), 0)
    k1 = min(int(np.floor((v[:, 2].max() - lo[2]) / cell[2] - 0.5)), n - 1)
    if k1 < k0:
        return empty
    first = np.clip(np.floor((z - lo[2]) / cell[2] - 0.5).astype(np.int64) + 1, k0, k1 + 1) - k0
    ucol, col = np.unique(ix * n + iy, return_inverse=True)
    steps = np.zeros((len(ucol), k1 - k0 + 2))
    np.add.at(steps, (col, first), -s)  # entering (face looks down, s < 0) adds +1
    inside = np.cumsum(steps, axis=1)[:, :-1] > 0.5  # (columns, layers)
    c, k = np.nonzero(inside)
    index = (ucol[c] * n + k + k0).astype(np.int64)
    i, j = ucol[c] // n, ucol[c] % n
    points = np.stack([centre(0, i), centre(1, j), centre(2, k + k0)], axis=1)
    return points, index
