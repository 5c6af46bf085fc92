"""Self-intersections of a triangle mesh: pairs of non-adjacent triangles that cross.

Numpy, float64. Broad phase: sort and sweep of the triangles' bounding boxes. Narrow phase: the
separating axis theorem on all candidate pairs at once (no Python loop over triangles).

Two triangles are reported when their relative interiors meet, i.e. when they cross by more than
`tol`. For triangles in different planes the 11 SAT axes (both normals, 9 edge-edge cross products)
are exactly the facet normals of their Minkowski difference, so "no axis separates them strictly" is
that condition; (near-)coplanar pairs are tested in their plane with the 6 in-plane edge normals.
Consequences: triangles that only touch (along an edge, at a vertex, a vertex on a face) are not
reported; coplanar triangles that overlap are. Pairs sharing a vertex index (neighbours in the mesh)
are skipped unless `adjacent=True`. Degenerate (zero-area) triangles only count through the other
triangle's tests.
"""

from __future__ import annotations

import numpy as np

__all__ = ["self_intersections", "is_self_intersecting", "candidate_pairs", "triangles_intersect"]


def _as_numpy(vertices, faces) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(vertices, "detach"):
        vertices = vertices.detach().cpu().numpy()
    if hasattr(faces, "detach"):
        faces = faces.detach().cpu().numpy()
    v, f = np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"expected vertices (V, 3) and faces (F, 3); got {v.shape}, {f.shape}")
    return v, f


def _default_tol(v: np.ndarray) -> float:
    """1e-9 of the bounding-box diagonal (1e-7 mm for a hand): overlaps below it count as touching."""
    return 1e-9 * float(np.linalg.norm(v.max(0) - v.min(0))) if len(v) else 0.0


def _pairs_within_groups(group_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (p, q) with p < q < group_end[p] (group_end[p] >= p + 1), as two index arrays."""
    counts = group_end - np.arange(len(group_end)) - 1
    first = np.repeat(np.arange(len(group_end)), counts)
    starts = np.cumsum(counts) - counts
    second = first + 1 + np.arange(counts.sum()) - np.repeat(starts, counts)
    return first, second


def candidate_pairs(tri: np.ndarray, faces: np.ndarray, tol: float = 0.0, adjacent: bool = False) -> np.ndarray:
    """Pairs (K, 2), i < j, of triangles whose boxes (grown by tol) overlap (and share no vertex).

    tri : (F, 3, 3) corner coordinates; faces : (F, 3) vertex indices.
    adjacent : keep pairs that share a vertex index too.
    Sort and sweep along the axis with the fewest overlapping box intervals, then a box test on the
    other two axes. (Uniform grid hashing was measured slower on hand meshes, whose triangles are
    large compared with the fingers' thickness.)
    """
    lo = np.minimum(np.minimum(tri[:, 0], tri[:, 1]), tri[:, 2]) - tol  # (F, 3)
    hi = np.maximum(np.maximum(tri[:, 0], tri[:, 1]), tri[:, 2]) + tol
    best = None
    for axis in range(3):
        order = np.argsort(lo[:, axis], kind="stable")
        # Sorted position p overlaps positions p+1 .. end[p]-1 on this axis.
        end = np.maximum(np.searchsorted(lo[order, axis], hi[order, axis], side="right"), np.arange(1, len(order) + 1))
        if best is None or end.sum() < best[2].sum():
            best = (axis, order, end)
    axis, order, end = best
    first, second = _pairs_within_groups(end)
    i, j = order[first], order[second]  # face indices
    keep = np.ones(len(i), dtype=bool)
    for other in {0, 1, 2} - {axis}:
        lo_k, hi_k = lo[:, other], hi[:, other]
        keep &= (lo_k[j] <= hi_k[i]) & (lo_k[i] <= hi_k[j])
    i, j = i[keep], j[keep]
    if not adjacent:
        fi, fj = faces[i], faces[j]
        shared = np.zeros(len(i), dtype=bool)
        for a in range(3):
            for b in range(3):
                shared |= fi[:, a] == fj[:, b]
        i, j = i[~shared], j[~shared]
    return np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1)


def _unit(x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """x / |x| along the last axis and a mask of |x| > eps (zero vectors stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    ok = norm > eps
    return np.where(ok, x / np.where(ok, norm, 1.0), 0.0), ok[..., 0]


def _separated(p: np.ndarray, q: np.ndarray, axes: np.ndarray, valid: np.ndarray, tol: float) -> np.ndarray:
    """Any valid axis on which the projections overlap by <= tol. p, q (K, 3, 3); axes (K, A, 3)."""
    pp = np.einsum("kad,kvd->kav", axes, p)  # (K, A, 3) projections, mm
    qq = np.einsum("kad,kvd->kav", axes, q)
    gap = np.maximum(pp.min(-1) - qq.max(-1), qq.min(-1) - pp.max(-1))  # > -tol: touching or apart
    return np.any(valid & (gap >= -tol), axis=1)


def triangles_intersect(t1: np.ndarray, t2: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """Whether the relative interiors of triangle pairs cross by more than tol.

    t1, t2 : (K, 3, 3) corners (mm). Returns bool (K,).
    """
    t1, t2 = np.asarray(t1, dtype=np.float64), np.asarray(t2, dtype=np.float64)
    k = len(t1)
    scale = max(float(np.abs(t1).max(initial=0.0)), float(np.abs(t2).max(initial=0.0)), 1e-300)
    eps_len, eps_area = 1e-12 * scale, 1e-24 * scale * scale
    e1 = np.roll(t1, -1, axis=1) - t1  # (K, 3, 3) edge vectors
    e2 = np.roll(t2, -1, axis=1) - t2
    n1, ok1 = _unit(np.cross(e1[:, 0], -e1[:, 2]), eps_area)  # (K, 3) unit normals
    n2, ok2 = _unit(np.cross(e2[:, 0], -e2[:, 2]), eps_area)
    # Signed distances of each triangle's corners to the other's plane, (K, 3) mm.
    d2 = np.einsum("kd,kvd->kv", n1, t2 - t1[:, :1])
    d1 = np.einsum("kd,kvd->kv", n2, t1 - t2[:, :1])
    flat2 = ok1 & (np.abs(d2) <= tol).all(1)
    flat1 = ok2 & (np.abs(d1) <= tol).all(1)
    coplanar = flat1 | flat2
    apart = (ok1 & ((d2.max(1) <= tol) | (d2.min(1) >= -tol))) | (ok2 & ((d1.max(1) <= tol) | (d1.min(1) >= -tol)))
    hit = np.zeros(k, dtype=bool)
    # Non-coplanar pairs straddling both planes: the 9 edge-edge axes decide.
    idx = np.flatnonzero(~coplanar & ~apart & (ok1 | ok2))
    if len(idx):
        axes, valid = _unit(np.cross(e1[idx][:, :, None], e2[idx][:, None, :]).reshape(-1, 9, 3), eps_area)
        hit[idx] = ~_separated(t1[idx], t2[idx], axes, valid, tol)
    # Coplanar pairs: in-plane normals of the 6 edges (2D SAT).
    idx = np.flatnonzero(coplanar)
    if len(idx):
        n = np.where(ok1[idx, None], n1[idx], n2[idx])[:, None]  # (K', 1, 3)
        edges = np.concatenate([e1[idx], e2[idx]], axis=1)  # (K', 6, 3)
        axes, valid = _unit(np.cross(n, edges), eps_len)
        hit[idx] = ~_separated(t1[idx], t2[idx], axes, valid, tol)
    return hit


def self_intersections(vertices, faces, tol: float | None = None, adjacent: bool = False) -> np.ndarray:
    """Pairs of triangles of one mesh that cross each other.

    vertices : (V, 3) mm (numpy or torch); faces : (F, 3) int.
    tol      : mm; overlaps up to tol count as touching. Default 1e-9 x the box diagonal.
    adjacent : also test pairs sharing a vertex index (skipped by default). Neighbours always touch
               at their shared corner or edge, which does not count; this finds local folds (a fan
               of triangles crossing itself, two faces folded flat onto each other).
    Returns (K, 2) int64 face-index pairs, i < j, sorted.
    """
    v, f = _as_numpy(vertices, faces)
    if len(f) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    tol = _default_tol(v) if tol is None else float(tol)
    tri = v[f]  # (F, 3, 3) mm
    pairs = candidate_pairs(tri, f, tol, adjacent)
    if len(pairs) == 0:
        return pairs
    hit = triangles_intersect(tri[pairs[:, 0]], tri[pairs[:, 1]], tol)
    out = pairs[hit]
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def is_self_intersecting(vertices, faces, tol: float | None = None, adjacent: bool = False) -> bool:
    """True if any two triangles of the mesh cross (see `self_intersections`)."""
    return len(self_intersections(vertices, faces, tol, adjacent)) > 0
