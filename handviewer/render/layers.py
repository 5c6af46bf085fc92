"""pyvista datasets built from results: hand meshes, skeletons, weighted point clouds.

No Qt. Every builder returns a new `pyvista.PolyData` (or None when there is nothing
to show, e.g. a missing hand); `assign` copies one into a dataset that is already on
screen, so actors are created once and updated in place.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv

from handviewer.hand.skeleton import PARENTS

# Bones as (parent, child) joint pairs, wrist excluded as a child. (20, 2)
_BONES = np.array([(PARENTS[j], j) for j in range(1, len(PARENTS))], dtype=np.int64)


def hand_mesh(vertices: np.ndarray | None, faces: np.ndarray | None) -> pv.PolyData | None:
    """One hand's triangle mesh.

    vertices : (V, 3) mm, NaN for a missing hand.
    faces    : (F, 3) vertex indices.
    Returns None when the hand is missing or the estimate has no mesh.
    """
    if vertices is None or faces is None:
        return None
    vertices = np.asarray(vertices, dtype=np.float32)
    if vertices.size == 0 or not np.isfinite(vertices).all():
        return None
    faces = np.asarray(faces, dtype=np.int64)
    cells = np.hstack([np.full((len(faces), 1), 3, dtype=np.int64), faces]).ravel()
    return pv.PolyData(vertices, faces=cells)


def skeleton(joints: np.ndarray) -> pv.PolyData | None:
    """One hand's skeleton: a vertex per finite joint and a line per bone with two finite ends.

    joints : (21, 3) mm; NaN for missing joints. Missing joints keep their slot (placed at the
    mean of the finite joints so bounds stay finite) but no cell refers to them.
    Returns None when no joint is finite.
    """
    joints = np.asarray(joints, dtype=np.float32)
    finite = np.isfinite(joints).all(axis=-1)
    if not finite.any():
        return None
    points = np.where(finite[:, None], joints, joints[finite].mean(axis=0))
    bones = _BONES[finite[_BONES].all(axis=1)]
    lines = np.hstack([np.full((len(bones), 1), 2, dtype=np.int64), bones]).ravel()
    idx = np.flatnonzero(finite)
    verts = np.stack([np.ones_like(idx), idx], axis=1).ravel()
    return pv.PolyData(points, lines=lines, verts=verts)


def weighted_points(
    points: np.ndarray | None, probs: np.ndarray | None, size_mm: tuple[float, float]
) -> pv.PolyData | None:
    """Point cloud with `prob` (in [0, 1]) and `size` (splat radius in mm) point arrays.

    points : (P, 3) mm;  probs : (P,) or None (taken as 1).
    size_mm: radius at probability 0 and at probability 1 (linear in between).
    Returns None when there is no finite point.
    """
    if points is None:
        return None
    points = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    probs = np.ones(len(points), np.float32) if probs is None else np.asarray(probs, np.float32).ravel()
    keep = np.isfinite(points).all(axis=1) & np.isfinite(probs)
    if not keep.any():
        return None
    points, probs = points[keep], np.clip(probs[keep], 0.0, 1.0)
    poly = pv.PolyData(points)  # one vertex cell per point
    poly.point_data["prob"] = probs
    poly.point_data["size"] = (size_mm[0] + (size_mm[1] - size_mm[0]) * probs).astype(np.float32)
    return poly


def assign(target: pv.PolyData, source: pv.PolyData) -> bool:
    """Make `target` (already shown) equal to `source`, in place.

    When the topology is unchanged (same points count and cells) only the points and
    point arrays are replaced (``target.points = ...``); otherwise the whole dataset is
    copied into `target`. Returns True when only the points/arrays changed.
    """
    if _same_topology(target, source):
        target.points = source.points
        for name in source.point_data.keys():
            target.point_data[name] = source.point_data[name]
        return True
    target.copy_from(source, deep=False)
    return False


def _same_topology(a: pv.PolyData, b: pv.PolyData) -> bool:
    if a.n_points != b.n_points or a.n_cells != b.n_cells:
        return False
    for attr in ("faces", "lines", "verts"):
        x, y = getattr(a, attr), getattr(b, attr)
        if x.shape != y.shape or not np.array_equal(x, y):
            return False
    return set(a.point_data.keys()) == set(b.point_data.keys())
