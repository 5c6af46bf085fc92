"""Numpy helpers of the synthetic data: rotations, smooth keyframe interpolation, contact along a line.

All float64; points in mm; rotations as (..., 3, 3) matrices or (..., 3) axis * angle (rad).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from handviewer.hand.skeleton import MIRROR_X

MIRROR = np.diag(MIRROR_X)
"""(3, 3) `skeleton.MIRROR_X` as a matrix, to mirror rotations (M R M) as well as points."""


def rotvec_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) axis * angle rad -> (..., 3, 3)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    return Rotation.from_rotvec(rotvec.reshape(-1, 3)).as_matrix().reshape(rotvec.shape[:-1] + (3, 3))


def matrix_to_rotvec(matrix: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) axis * angle rad, angle in [0, pi]."""
    matrix = np.asarray(matrix, dtype=np.float64)
    return Rotation.from_matrix(matrix.reshape(-1, 3, 3)).as_rotvec().reshape(matrix.shape[:-2] + (3,))


def axis_rotation(axis: str, degrees: float) -> np.ndarray:
    """(3, 3) rotation by `degrees` about the x, y or z axis (right hand rule)."""
    return Rotation.from_euler(axis, degrees, degrees=True).as_matrix()


def random_rotation(rng: np.random.Generator, max_degrees: float) -> np.ndarray:
    """(3, 3) rotation about a uniformly random axis by an angle uniform in [0, max_degrees]."""
    axis = rng.standard_normal(3)
    axis /= np.linalg.norm(axis)
    return rotvec_to_matrix(axis * np.deg2rad(rng.uniform(0.0, max_degrees)))


def ease(u: np.ndarray) -> np.ndarray:
    """Smoothstep 3u^2 - 2u^3 on [0, 1]: zero velocity at both ends, so keyframed motion is C1."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def key_times(frames: int, every: int) -> np.ndarray:
    """(K,) keyframe times 0, every, 2 every, ... covering frames - 1 (K >= 2)."""
    count = max(2, int(np.ceil((frames - 1) / max(every, 1))) + 1)
    return np.linspace(0.0, max(frames - 1, 1), count)


def _segments(times: np.ndarray, frames: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(frames, dtype=np.float64)
    seg = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    u = ease((t - times[seg]) / (times[seg + 1] - times[seg]))
    return seg, u


def interpolate(times: np.ndarray, values: np.ndarray, frames: int) -> np.ndarray:
    """Eased linear interpolation of keyframe values (K, ...) at frames 0 .. frames-1 -> (frames, ...)."""
    seg, u = _segments(times, frames)
    u = u.reshape((-1,) + (1,) * (values.ndim - 1))
    return (1.0 - u) * values[seg] + u * values[seg + 1]


def interpolate_rotations(times: np.ndarray, matrices: np.ndarray, frames: int) -> np.ndarray:
    """Eased slerp between keyframe rotations (K, 3, 3) -> (frames, 3, 3)."""
    seg, u = _segments(times, frames)
    slerp = Slerp(np.arange(len(times), dtype=np.float64), Rotation.from_matrix(matrices))
    return slerp(np.clip(seg + u, 0.0, len(times) - 1.0)).as_matrix()


def smooth_upper_envelope(values: np.ndarray, half_window: int = 5, sigma: float = 3.0) -> np.ndarray:
    """(T,) a smooth curve >= values: running maximum over +-half_window, Gaussian-smoothed, then
    max'ed with the input again (the last step only touches isolated spikes wider than the window)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return values.copy()
    padded = np.pad(values, half_window, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_window + 1)
    running = windows.max(axis=1)
    radius = int(np.ceil(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    smooth = np.convolve(np.pad(running, radius, mode="edge"), kernel, mode="valid")
    return np.maximum(smooth, values)


def _plane_basis(direction: np.ndarray) -> np.ndarray:
    """(3, 3) rows a, b, d: an orthonormal basis whose last row is the unit `direction`."""
    d = direction / np.linalg.norm(direction)
    helper = np.eye(3)[np.argmin(np.abs(d))]
    a = np.cross(d, helper)
    a /= np.linalg.norm(a)
    return np.stack([a, np.cross(d, a), d])


def _cell_pairs(points: np.ndarray, tris: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (point, triangle) index pairs whose 2D grid cells meet: points (N, 2), tris (F, 3, 2)."""
    lo = np.floor(tris.min(axis=1) / cell).astype(np.int64)  # (F, 2)
    span = np.floor(tris.max(axis=1) / cell).astype(np.int64) - lo + 1
    counts = span[:, 0] * span[:, 1]
    tri = np.repeat(np.arange(len(tris)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cx, cy = lo[tri, 0] + within % span[tri, 0], lo[tri, 1] + within // span[tri, 0]
    base = lo.min(axis=0)
    width = int(max(cx.max(), 0) - base[0] + 2)
    keys = (cy - base[1]) * width + (cx - base[0])
    order = np.argsort(keys, kind="stable")
    keys, tri = keys[order], tri[order]
    pc = np.floor(points / cell).astype(np.int64) - base
    inside = (pc[:, 0] >= 0) & (pc[:, 0] < width - 1) & (pc[:, 1] >= 0)
    pkeys = np.where(inside, pc[:, 1] * width + pc[:, 0], -1)
    first, last = np.searchsorted(keys, pkeys, "left"), np.searchsorted(keys, pkeys, "right")
    n = np.where(inside, last - first, 0)
    point = np.repeat(np.arange(len(points)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return point, tri[np.repeat(first, n) + offset]


def ray_hits(origins: np.ndarray, direction: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Distance along `direction` from each origin to the first triangle hit (either side of it).

    origins (N, 3) mm; direction (3,) unit; tris (F, 3, 3) mm. Returns (N,) mm, inf where no hit.
    All rays share the direction, so the test runs in the plane across it: a 2D point-in-triangle
    test and the triangle's depth along the ray at that point, for the (origin, triangle) pairs
    that share a cell of a 2D grid (cells about one edge long).
    """
    basis = _plane_basis(np.asarray(direction, dtype=np.float64))
    o = origins @ basis.T  # (N, 3): plane coordinates a, b and depth along the ray
    tr = tris @ basis.T  # (F, 3, 3)
    out = np.full(len(origins), np.inf)
    if not len(origins) or not len(tris):
        return out
    edge = np.linalg.norm(tr[:, 1, :2] - tr[:, 0, :2], axis=1)
    cell = max(float(np.median(edge)), 1e-3 + float(np.ptp(tr[..., :2])) / 512)
    point, face = _cell_pairs(o[:, :2], tr[..., :2], cell)
    if not len(point):
        return out
    t3 = tr[face]  # (P, 3, 3)
    p0 = t3[:, 0, :2]
    e1, e2 = t3[:, 1, :2] - p0, t3[:, 2, :2] - p0
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    ok = np.abs(det) > 1e-9
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    x, y = o[point, 0] - p0[:, 0], o[point, 1] - p0[:, 1]
    u = (x * e2[:, 1] - y * e2[:, 0]) * inv
    v = (y * e1[:, 0] - x * e1[:, 1]) * inv
    t = t3[:, 0, 2] + u * (t3[:, 1, 2] - t3[:, 0, 2]) + v * (t3[:, 2, 2] - t3[:, 0, 2]) - o[point, 2]
    hit = ok & (u >= 0.0) & (v >= 0.0) & (u + v <= 1.0) & (t > 0.0)
    np.minimum.at(out, point[hit], t[hit])
    return out


def surface_samples(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V + 2F, 3) mm: the vertices, the face centroids and one edge midpoint per face."""
    tri = verts[faces]
    return np.concatenate([verts, tri.mean(axis=1), 0.5 * (tri[:, 0] + tri[:, 1])])


def contact_distance(moving: tuple[np.ndarray, np.ndarray], fixed: tuple[np.ndarray, np.ndarray],
                     direction: np.ndarray) -> float:
    """How far the mesh `moving` can translate along `direction` before it touches `fixed`.

    moving, fixed : (vertices (V, 3) mm, faces (F, 3)), disjoint at the start.
    direction     : (3,) unit. Returns mm (inf when the moving mesh passes without touching).
    Exact for vertex-face contacts of the sampled surface points (vertices, centroids, edge
    midpoints); edge-edge contacts between samples may be missed by a fraction of a millimetre.
    """
    mv, mf = moving
    fv, ff = fixed
    t_forward = ray_hits(surface_samples(mv, mf), direction, fv[ff])
    t_back = ray_hits(surface_samples(fv, ff), -np.asarray(direction), mv[mf])
    return float(min(t_forward.min(), t_back.min()))
