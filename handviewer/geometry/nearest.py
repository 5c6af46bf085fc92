"""Exact distances from a few points to a triangle mesh, in numpy, testing only nearby triangles.

For the handful of points where two hands penetrate (`intersect.metrics.penetration_depths`) the
chunked torch kernels of `distance` cost more in dispatch than in arithmetic. Here each point first
gets an upper bound, its distance to the nearest mesh vertex; only triangles whose bounding box lies
within that bound can hold a nearer point, and only those (point, triangle) pairs are evaluated
exactly: the projection onto the plane when it falls inside the triangle, else the nearest of the
three edges. Exact (float64), no autograd.
"""

from __future__ import annotations

import numpy as np

__all__ = ["point_mesh_distance", "point_triangle_distance"]


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, y)


def _cross(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (M, 3) arrays (np.cross costs several times more on small arrays)."""
    out = np.empty_like(x)
    out[:, 0] = x[:, 1] * y[:, 2] - x[:, 2] * y[:, 1]
    out[:, 1] = x[:, 2] * y[:, 0] - x[:, 0] * y[:, 2]
    out[:, 2] = x[:, 0] * y[:, 1] - x[:, 1] * y[:, 0]
    return out


def _segment_sq(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distance (M,) from points p to segments ab, all (M, 3)."""
    ab, ap = b - a, p - a
    den = _dot(ab, ab)
    t = np.clip(_dot(ap, ab) / np.where(den > 0, den, 1.0), 0.0, 1.0)
    d = ap - ab * t[:, None]
    return _dot(d, d)


def point_triangle_distance(p, a, b, c) -> np.ndarray:
    """Distance (M,) mm from points p to triangles abc, each (M, 3) mm. Degenerate triangles are
    handled as their edges."""
    p, a, b, c = (np.asarray(x, dtype=np.float64) for x in (p, a, b, c))
    ab, ac, ap = b - a, c - a, p - a
    n = _cross(ab, ac)
    n2 = _dot(n, n)
    ok = n2 > np.finfo(np.float64).eps * _dot(ab, ab) * _dot(ac, ac)
    n2 = np.where(ok, n2, 1.0)
    # Barycentric coordinates of the projection of p onto the plane.
    w_b = _dot(_cross(ap, ac), n) / n2
    w_c = _dot(_cross(ab, ap), n) / n2
    inside = ok & (w_b >= 0) & (w_c >= 0) & (w_b + w_c <= 1)
    plane = _dot(ap, n) ** 2 / n2
    edges = np.minimum(np.minimum(_segment_sq(p, a, b), _segment_sq(p, b, c)), _segment_sq(p, c, a))
    return np.sqrt(np.where(inside, plane, edges))


def point_mesh_distance(points, vertices, faces) -> np.ndarray:
    """Distance (P,) mm from points (P, 3) mm to the surface of a mesh: vertices (V, 3) mm, faces
    (F, 3). Meant for few points (tens); memory O(P x (V + F))."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if len(p) == 0:
        return np.zeros(0)
    used = v if np.bincount(f.ravel(), minlength=len(v)).all() else v[np.unique(f)]
    diff = p[:, None] - used[None]  # (P, V, 3) mm
    bound2 = np.einsum("pvk,pvk->pv", diff, diff).min(1)  # (P,) mm^2, to the nearest vertex
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]  # (F, 3) mm
    lo, hi = np.minimum(np.minimum(a, b), c), np.maximum(np.maximum(a, b), c)  # triangle boxes
    # Triangles whose box meets the box of all the points' bounding balls, then point by point.
    reach = np.sqrt(bound2.max())
    near = np.nonzero(((lo <= p.max(0) + reach) & (hi >= p.min(0) - reach)).all(1))[0]
    lo, hi = lo[near], hi[near]
    gap = np.maximum(lo[None] - p[:, None], 0.0) + np.maximum(p[:, None] - hi[None], 0.0)  # (P, F', 3)
    i, j = np.nonzero(np.einsum("pfk,pfk->pf", gap, gap) <= bound2[:, None])
    j = near[j]
    d = point_triangle_distance(p[i], a[j], b[j], c[j])
    out = np.sqrt(bound2)
    np.minimum.at(out, i, d)
    return out
