"""Exact intersections (manifold3d), grid points inside by column rays, pruned exact distances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh
from hv_geometry import as_torch, box_sdf

from handviewer.geometry import (
    ManifoldError,
    grid_inside,
    grid_points,
    inside_mesh,
    intersect_meshes,
    mesh_volume,
    point_mesh_distance,
    unsigned_distance,
)
from handviewer.geometry.boolean import _build, to_manifold
from handviewer.hand import HandModel


def _lens_volume(r: float, d: float) -> float:
    """Volume of the intersection of two balls of radius r whose centres are d apart."""
    return math.pi * (4 * r + d) * (2 * r - d) ** 2 / 12.0


def test_two_boxes_give_the_exact_overlap():
    a = trimesh.creation.box(extents=(30.0, 20.0, 10.0))  # [-15, 15] x [-10, 10] x [-5, 5]
    b = a.copy()
    b.apply_translation((10.0, 5.0, 2.0))
    body = intersect_meshes(a.vertices, a.faces, b.vertices, b.faces)
    assert body.volume_mm3 == pytest.approx(20.0 * 15.0 * 8.0, rel=1e-12)
    assert body.vertices.min(0) == pytest.approx([-5.0, -5.0, -3.0])
    assert body.vertices.max(0) == pytest.approx([15.0, 10.0, 5.0])
    assert float(mesh_volume(torch.as_tensor(body.vertices), torch.as_tensor(body.faces))) == pytest.approx(2400.0)


@pytest.mark.parametrize("d", [5.0, 20.0, 35.0])
def test_two_spheres_give_the_lens_volume(d):
    a = trimesh.creation.icosphere(subdivisions=5, radius=20.0)
    b = a.copy()
    b.apply_translation((d, 0.0, 0.0))
    body = intersect_meshes(a.vertices, a.faces, b.vertices, b.faces)
    # Each polyhedron contains the ball of its inradius and lies within the ball of radius 20.
    inradius = float(np.abs(np.einsum("ij,ij->i", a.face_normals, a.triangles[:, 0])).min())
    assert 19.9 < inradius < 20.0
    assert _lens_volume(inradius, d) < body.volume_mm3 < _lens_volume(20.0, d)


def test_separated_or_touching_meshes_give_an_empty_body():
    a = trimesh.creation.box(extents=(10.0, 10.0, 10.0))
    for shift in (30.0, 10.0):  # apart; sharing a face
        b = a.copy()
        b.apply_translation((shift, 0.0, 0.0))
        body = intersect_meshes(a.vertices, a.faces, b.vertices, b.faces)
        assert body.is_empty and body.volume_mm3 == 0.0 and body.vertices.shape == (0, 3)


def test_open_or_nonfinite_meshes_are_rejected():
    a = trimesh.creation.box(extents=(10.0, 10.0, 10.0))
    with pytest.raises(ManifoldError):
        intersect_meshes(a.vertices, a.faces[:-1], a.vertices, a.faces)
    bad = np.array(a.vertices)
    bad[0] = np.nan
    with pytest.raises(ManifoldError):
        to_manifold(bad, a.faces)


def test_inside_out_meshes_are_turned_right_way_out():
    a = trimesh.creation.box(extents=(10.0, 10.0, 10.0))
    assert to_manifold(a.vertices, a.faces[:, ::-1]).volume() == pytest.approx(1000.0)


def test_hand_templates_move_to_any_pose():
    """Hands after the first are the template moved (warp_batch): same volume as built afresh."""
    model = HandModel("plain", dtype=torch.float64)
    verts = model.vertices(model.random_params(4, seed=2)).numpy()
    for v, faces in ((verts[0], model.faces), (verts[1], model.faces), (verts[2] * [-1.0, 1.0, 1.0], model.faces_left)):
        fresh = _build(v, np.asarray(faces)).volume()
        assert to_manifold(v, faces).volume() == pytest.approx(fresh, rel=1e-12)
        assert fresh == pytest.approx(float(mesh_volume(torch.as_tensor(v), torch.as_tensor(np.asarray(faces)))), rel=1e-9)
        assert fresh > 0


def test_grid_inside_matches_winding_numbers_on_a_hand():
    model = HandModel("plain", dtype=torch.float64)
    v = model.vertices(model.random_params(1, seed=4))[0]
    lo, hi = v.min(0).values - 2.0, v.max(0).values + 3.0
    grid = grid_points(lo, hi, 40)
    want = inside_mesh(grid, v, torch.as_tensor(model.faces)).numpy()
    points, index = grid_inside(v.numpy(), model.faces, lo.numpy(), hi.numpy(), 40)
    got = np.zeros(len(grid), bool)
    got[index] = True
    assert want.sum() > 1000 and np.array_equal(got, want)
    assert np.allclose(points, grid.numpy()[index])


def test_grid_inside_counts_points_on_faces_and_edges_once():
    """Cell centres exactly on the faces, edges and corners of a box: each column's entry and exit
    are counted once (a half-open rule), so 4 of the 5 layers per axis are inside."""
    box = trimesh.creation.box(extents=(4.0, 4.0, 4.0))  # [-2, 2]^3; centres at -2, -1, 0, 1, 2
    points, _ = grid_inside(box.vertices, box.faces, np.full(3, -2.5), np.full(3, 2.5), 5)
    assert len(points) == 64
    points, _ = grid_inside(box.vertices, box.faces, np.full(3, -3.0), np.full(3, 3.0), 6)
    assert len(points) == 64 and np.abs(points).max() == 1.5
    points, _ = grid_inside(box.vertices, box.faces, np.full(3, 10.0), np.full(3, 20.0), 6)
    assert points.shape == (0, 3)


def test_point_mesh_distance_is_exact():
    box = trimesh.creation.box(extents=(30.0, 20.0, 10.0))
    rng = np.random.default_rng(0)
    p = rng.uniform(-25.0, 25.0, size=(200, 3))
    d = point_mesh_distance(p, box.vertices, box.faces)
    assert np.allclose(d, np.abs(box_sdf(p, np.array([15.0, 10.0, 5.0]))), atol=1e-9)
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=20.0)
    q = rng.normal(size=(100, 3)) * 15.0
    v, f = as_torch(sphere)
    assert np.allclose(point_mesh_distance(q, sphere.vertices, sphere.faces),
                       unsigned_distance(torch.as_tensor(q), v, f).numpy(), atol=1e-9)
    assert point_mesh_distance(np.zeros((0, 3)), sphere.vertices, sphere.faces).shape == (0,)
