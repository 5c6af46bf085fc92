"""Self-intersections against hand-made cases, manifold3d volumes and an independent O(F^2) test."""

from __future__ import annotations

import time

import manifold3d
import numpy as np
import pytest
import trimesh

from handviewer.geometry import is_self_intersecting, self_intersections, triangles_intersect


def brute_force_pairs(vertices: np.ndarray, faces: np.ndarray) -> set:
    """All non-adjacent pairs where an edge of one triangle pierces the other's interior.

    Independent of the SAT implementation (Moller-Trumbore segment tests); exact for triangles in
    general position (no coplanar or touching pairs).
    """
    i, j = np.triu_indices(len(faces), k=1)
    adjacent = (faces[i][:, :, None] == faces[j][:, None, :]).any(axis=(1, 2))
    i, j = i[~adjacent], j[~adjacent]
    tri = vertices[faces]

    def pierces(seg_tri, target):  # (K, 3, 3) each: does any edge of seg_tri cross target?
        hit = np.zeros(len(target), dtype=bool)
        e1, e2 = target[:, 1] - target[:, 0], target[:, 2] - target[:, 0]
        for k in range(3):
            start, d = seg_tri[:, k], seg_tri[:, (k + 1) % 3] - seg_tri[:, k]
            h = np.cross(d, e2)
            det = np.einsum("kd,kd->k", e1, h)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = start - target[:, 0]
                u = np.einsum("kd,kd->k", s, h) / det
                q = np.cross(s, e1)
                v = np.einsum("kd,kd->k", d, q) / det
                t = np.einsum("kd,kd->k", e2, q) / det
                hit |= (np.abs(det) > 1e-12) & (u > 0) & (v > 0) & (u + v < 1) & (t > 0) & (t < 1)
        return hit

    hit = pierces(tri[i], tri[j]) | pierces(tri[j], tri[i])
    return set(zip(i[hit].tolist(), j[hit].tolist()))


def squashed_torus(major_sections: int = 47, minor_sections: int = 23) -> trimesh.Trimesh:
    """A torus whose ring is squashed to 8.6 mm across, narrower than its 20 mm tube: it passes through itself.

    Odd section counts and 8.6 mm (not 10) keep it in general position: no crossing curve through
    vertices, no two sections in one plane (which would make touching, not crossing, pairs).
    """
    torus = trimesh.creation.torus(
        major_radius=30.0, minor_radius=10.0, major_sections=major_sections, minor_sections=minor_sections
    )
    v = np.asarray(torus.vertices).copy()
    phi = np.arctan2(v[:, 1], v[:, 0])
    ring = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], 1)
    v += ring * np.array([4.3, 30.0, 0.0]) - 30.0 * ring  # ring centre moves to the ellipse (5, 30)
    return trimesh.Trimesh(v, torus.faces, process=False)


def test_closed_surfaces_without_crossings(sphere):
    assert len(self_intersections(sphere.vertices, sphere.faces)) == 0
    torus = trimesh.creation.torus(major_radius=30.0, minor_radius=10.0)
    assert not is_self_intersecting(torus.vertices, torus.faces)
    box = trimesh.creation.box(extents=(30.0, 20.0, 10.0))
    assert not is_self_intersecting(box.vertices, box.faces)


def test_two_overlapping_spheres(sphere):
    other = sphere.copy()
    other.apply_translation([15.0, 0.0, 0.0])
    both = trimesh.util.concatenate([sphere, other])
    pairs = self_intersections(both.vertices, both.faces)
    n = len(sphere.faces)
    assert len(pairs) > 20
    assert np.all(pairs[:, 0] < n) and np.all(pairs[:, 1] >= n)  # each pair: one face of each sphere
    assert np.all(pairs[:, 0] < pairs[:, 1])
    # The crossing faces lie near the intersection circle: x = 7.5, radius sqrt(20^2 - 7.5^2).
    centres = both.triangles_center[pairs.ravel()]
    assert np.abs(centres[:, 0] - 7.5).max() < 3.0


@pytest.mark.parametrize("offset", [5.0, 20.0, 30.0, 39.0, 41.0, 55.0])
def test_agrees_with_manifold_union_volume(offset):
    """Two spheres intersect iff manifold3d's union volume is below the sum of their volumes."""
    a = manifold3d.Manifold.sphere(10.0, 32)
    b = a.translate([offset, 0.0, 0.0])
    overlap = a.volume() + b.volume() - (a + b).volume()
    meshes = [m.to_mesh() for m in (a, b)]
    verts = [np.asarray(m.vert_properties)[:, :3].astype(np.float64) for m in meshes]
    faces = [np.asarray(m.tri_verts).astype(np.int64) for m in meshes]
    v = np.concatenate(verts)
    f = np.concatenate([faces[0], faces[1] + len(verts[0])])
    assert is_self_intersecting(v, f) == (overlap > 1e-6)


def test_squashed_torus_folds_through_itself():
    torus = squashed_torus()
    pairs = self_intersections(torus.vertices, torus.faces)
    assert len(pairs) > 20
    # Crossings happen where the two sides of the ring meet, around x = 0.
    assert np.abs(torus.triangles_center[pairs.ravel()][:, 0]).max() < 12.0


def test_triangle_pairs_touching_vs_crossing():
    t1 = np.array([[0.0, 0, 0], [10, 0, 0], [0, 10, 0]])
    cases = {
        "crossing": (np.array([[2.0, 2, -3], [2, 2, 3], [5, 5, 3]]), True),
        "touching along an edge": (np.array([[0.0, 0, 0], [10, 0, 0], [0, 0, 10]]), False),
        "vertex on the face": (np.array([[2.0, 2, 0], [2, 2, 5], [5, 5, 5]]), False),
        "edge lying in the face": (np.array([[1.0, 1, 0], [4, 4, 0], [2, 2, 6]]), False),
        "apart": (np.array([[20.0, 0, 0], [30, 0, 0], [20, 10, 1]]), False),
        "coplanar overlapping": (np.array([[2.0, 2, 0], [12, 2, 0], [2, 12, 0]]), True),
        "coplanar sharing an edge": (np.array([[10.0, 0, 0], [0, 10, 0], [10, 10, 0]]), False),
        "coplanar apart": (np.array([[11.0, 0, 0], [21, 0, 0], [11, 10, 0]]), False),
        "nearly coplanar crossing": (np.array([[2.0, 2, -1e-3], [12, 2, 1e-3], [2, 12, 1e-3]]), True),
        "degenerate segment crossing": (np.array([[2.0, 2, -3], [2, 2, 3], [2, 2, 3]]), True),
    }
    t2 = np.stack([c[0] for c in cases.values()])
    got = triangles_intersect(np.repeat(t1[None], len(cases), 0), t2, tol=1e-9)
    assert dict(zip(cases, got.tolist())) == {name: expected for name, (_, expected) in cases.items()}
    # As a mesh: the crossing pair is found unless the triangles share a vertex index.
    v = np.concatenate([t1, cases["crossing"][0]])
    assert self_intersections(v, np.array([[0, 1, 2], [3, 4, 5]])).tolist() == [[0, 1]]
    assert len(self_intersections(v, np.array([[0, 1, 2], [3, 4, 0]]))) == 0


def test_matches_brute_force_on_triangle_soups():
    rng = np.random.default_rng(5)
    for _ in range(5):
        centres = rng.uniform(0, 40, size=(80, 1, 3))
        v = (centres + rng.normal(scale=6.0, size=(80, 3, 3))).reshape(-1, 3)
        f = np.arange(240).reshape(80, 3)
        ours = set(map(tuple, self_intersections(v, f).tolist()))
        assert ours == brute_force_pairs(v, f)
        assert len(ours) > 10


def test_matches_brute_force_on_small_meshes():
    small = trimesh.creation.icosphere(subdivisions=1, radius=10.0)
    shifted = small.copy()
    shifted.apply_translation([8.0, 1.0, 2.0])
    both = trimesh.util.concatenate([small, shifted])
    ours = set(map(tuple, self_intersections(both.vertices, both.faces).tolist()))
    assert ours == brute_force_pairs(np.asarray(both.vertices), np.asarray(both.faces)) and len(ours) > 5
    torus = squashed_torus(15, 7)
    v, f = np.asarray(torus.vertices), np.asarray(torus.faces)
    ours = set(map(tuple, self_intersections(v, f).tolist()))
    assert ours == brute_force_pairs(v, f) and len(ours) > 5


def test_fast_on_a_1400_face_mesh():
    mesh = trimesh.creation.capsule(height=150.0, radius=10.0, count=[36, 20])  # 1440 faces, long thin faces
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(7):
        warped = v + 3.0 * np.sin(v[:, [1, 2, 0]] / 15.0 + rng.uniform(0, 6, 3))
        start = time.perf_counter()
        self_intersections(warped, f)
        times.append(time.perf_counter() - start)
    assert len(f) == 1440 and np.median(times) < 0.05


def test_adjacent_pairs_only_when_asked(sphere, box):
    v = np.array([[0.0, 0, 0], [10, 0, 0], [0, 10, 0], [6, 2, 5], [2, 6, -5], [3, 3, 0], [3, -3, 0]])
    fan_fold = np.array([[0, 1, 2], [0, 3, 4]])  # share vertex 0 and cross through each other
    flat_fold = np.array([[0, 1, 2], [1, 0, 5]])  # share an edge, folded flat onto each other
    flat_open = np.array([[0, 1, 2], [1, 0, 6]])  # share an edge, side by side in one plane
    for faces, folded in ((fan_fold, True), (flat_fold, True), (flat_open, False)):
        assert len(self_intersections(v, faces)) == 0
        assert is_self_intersecting(v, faces, adjacent=True) == folded
    # Neighbours on closed surfaces touch at shared corners/edges only (also coplanar ones on a box).
    for mesh in (sphere, box, trimesh.creation.torus(major_radius=30.0, minor_radius=10.0)):
        assert not is_self_intersecting(mesh.vertices, mesh.faces, adjacent=True)


def test_missing_hand_has_no_pairs(sphere):
    v = np.full((len(sphere.vertices), 3), np.nan)
    assert self_intersections(v, sphere.faces).shape == (0, 2)
