"""Volumes, the closed-manifold check and sample grids, against trimesh and analytic values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import trimesh
from hv_geometry import as_torch

from handviewer.geometry import (
    bounding_box,
    check_closed_manifold,
    grid_points,
    inside_all,
    inside_mesh,
    mesh_volume,
    pair_grid,
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_volume_matches_trimesh(sphere, box, dtype):
    torus = trimesh.creation.torus(major_radius=30.0, minor_radius=10.0)
    for mesh in (sphere, box, torus):
        v, f = as_torch(mesh, dtype)
        far = v + torch.tensor([150.0, -80.0, 600.0], dtype=dtype)  # camera-frame placement
        assert mesh_volume(far, f).item() == pytest.approx(mesh.volume, rel=1e-5 if dtype == torch.float32 else 1e-12)
        assert mesh_volume(v, f.flip(1)).item() == pytest.approx(-mesh.volume, rel=1e-5)
    assert mesh_volume(*as_torch(box, dtype)).item() == pytest.approx(30.0 * 20.0 * 10.0, rel=1e-6)


def test_volume_batched_and_differentiable(sphere):
    v, f = as_torch(sphere)
    scales = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    vb = (v[None] * scales[:, None, None]).requires_grad_(True)  # (3, V, 3)
    vol = mesh_volume(vb, f)
    assert vol.shape == (3,)
    assert torch.allclose(vol, sphere.volume * scales**3)
    vol.sum().backward()
    # d(volume)/d(vertex) points outward; summed over vertices it is zero (translation invariance).
    g = vb.grad[0]
    assert (torch.einsum("vd,vd->v", g, v) > 0).all()
    assert g.sum(0).abs().max() < 1e-9
    # Total: sum_v v . dV/dv = 3 V (volume is homogeneous of degree 3).
    assert torch.einsum("vd,vd->", g, v).item() == pytest.approx(3 * sphere.volume, rel=1e-9)


def test_closed_manifold_check_matches_trimesh(sphere):
    faces = np.asarray(sphere.faces)
    good = check_closed_manifold(faces)
    assert good["is_closed_manifold"] and good["is_watertight"] and good["is_winding_consistent"]
    assert good["boundary_edges"] == good["inconsistent_edges"] == good["nonmanifold_edges"] == 0
    assert good["euler_characteristic"] == 2 and good["n_edges"] == 3 * len(faces) // 2
    assert check_closed_manifold(torch.tensor(faces)) == good

    holed = faces[1:]
    flipped = faces.copy()
    flipped[0] = flipped[0, ::-1]
    doubled = np.concatenate([faces, faces[:1, ::-1]])  # a face glued back to back: 3 edges used 3 times
    cases = {"holed": holed, "flipped": flipped, "doubled": doubled}
    for name, f in cases.items():
        report = check_closed_manifold(f)
        mesh = trimesh.Trimesh(sphere.vertices, f, process=False)
        assert report["is_watertight"] == mesh.is_watertight, name
        assert report["is_winding_consistent"] == mesh.is_winding_consistent, name
        assert not report["is_closed_manifold"], name
    assert check_closed_manifold(holed)["boundary_edges"] == 3
    assert check_closed_manifold(flipped)["inconsistent_edges"] == 3
    assert check_closed_manifold(doubled)["nonmanifold_edges"] == 3
    torus = trimesh.creation.torus(major_radius=30.0, minor_radius=10.0)
    assert check_closed_manifold(torus.faces)["euler_characteristic"] == 0


def test_grid_points_are_cell_centres():
    lo, hi = torch.tensor([0.0, 0.0, 0.0]), torch.tensor([4.0, 2.0, 1.0])
    g = grid_points(lo, hi, n=2)
    assert g.shape == (8, 3) and g.dtype == torch.float32
    expected = torch.tensor([[x, y, z] for x in (1.0, 3.0) for y in (0.5, 1.5) for z in (0.25, 0.75)])
    assert torch.equal(g, expected)  # x slowest, z fastest
    g64 = grid_points(lo.tolist(), hi.tolist(), n=5, dtype=torch.float64)
    assert g64.dtype == torch.float64 and g64.shape == (125, 3)
    batched = grid_points(torch.stack([lo, lo + 1]), torch.stack([hi, hi + 1]), n=3)
    assert batched.shape == (2, 27, 3) and torch.allclose(batched[1], batched[0] + 1)


def test_bounding_box_and_pair_grid(sphere):
    v, f = as_torch(sphere, torch.float32)
    lo, hi = bounding_box(v, pad=1.0)
    assert torch.allclose(lo, torch.tensor(sphere.bounds[0] - 1.0, dtype=torch.float32))
    assert torch.allclose(hi, torch.tensor(sphere.bounds[1] + 1.0, dtype=torch.float32))
    other = v + torch.tensor([30.0, 0.0, 0.0])
    points, cell = pair_grid(v, other, n=50)
    assert points.shape == (125_000, 3)
    size = np.ptp(sphere.vertices, axis=0) + np.array([30.0, 0.0, 0.0])  # union box
    assert cell.item() == pytest.approx(np.prod(size / 50), rel=1e-5)
    corner = torch.tensor(sphere.bounds[0] + size / 100, dtype=torch.float32)  # first cell centre
    assert torch.allclose(points.amin(0), corner, atol=1e-4)
    # Batched pairs: (B, V, 3) each.
    pts, cells = pair_grid(torch.stack([v, v]), torch.stack([other, v]), n=10)
    assert pts.shape == (2, 1000, 3) and cells.shape == (2,)


def test_grid_count_times_cell_volume_is_volume():
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=20.0)  # 320 faces
    v, f = as_torch(sphere, torch.float32)
    other = v + torch.tensor([30.0, 0.0, 0.0])
    points, cell = pair_grid(v, other, n=40, pad=2.0)
    inside = inside_mesh(points, torch.stack([v, other]), f)  # (2, 64000)
    for k in range(2):
        assert inside[k].sum().item() * cell.item() == pytest.approx(sphere.volume, rel=0.02)
    # The lens where they overlap (analytic for true spheres; the polyhedra are ~1% smaller).
    r, d = 20.0, 30.0
    lens = math.pi * (4 * r + d) * (2 * r - d) ** 2 / 12
    assert (inside[0] & inside[1]).sum().item() * cell.item() == pytest.approx(lens, rel=0.12)
    assert torch.equal(inside_all(points, torch.stack([v, other]), f), inside[0] & inside[1])
    far = v + torch.tensor([100.0, 0.0, 0.0])  # disjoint boxes: nothing is tested
    assert not inside_all(points, torch.stack([v, far]), f).any()
