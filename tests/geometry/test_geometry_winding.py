"""Winding numbers and the inside test against analytic solids and a direct reference formula."""

from __future__ import annotations

import math

import manifold3d
import numpy as np
import pytest
import torch
import trimesh
from hv_geometry import as_torch

from handviewer.geometry import inside_mesh, winding_numbers


def reference_winding(points, vertices, faces):
    """Textbook Van Oosterom-Strackee sum in float64, (P, 3) x (V, 3) -> (P,)."""
    p, v = points.double(), vertices.double()
    a, b, c = (v[faces[:, k]][None] - p[:, None] for k in range(3))  # (P, F, 3)
    la, lb, lc = a.norm(dim=-1), b.norm(dim=-1), c.norm(dim=-1)
    det = (a * torch.linalg.cross(b, c)).sum(-1)
    den = la * lb * lc + (a * b).sum(-1) * lc + (b * c).sum(-1) * la + (c * a).sum(-1) * lb
    return torch.atan2(det, den).sum(-1) / (2 * math.pi)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sphere_inside_matches_analytic(sphere, dtype):
    v, f = as_torch(sphere, dtype)
    v = v + torch.tensor([300.0, -200.0, 700.0], dtype=dtype)  # far from the origin, like a camera frame
    p = (torch.rand(2000, 3, dtype=dtype) - 0.5) * 60.0
    r = p.norm(dim=-1)
    p = p[(r - 20.0).abs() > 0.5] + torch.tensor([300.0, -200.0, 700.0], dtype=dtype)  # off the shell
    w = winding_numbers(p, v, f)
    assert w.dtype == dtype and w.shape == (len(p),)
    expected = (p - torch.tensor([300.0, -200.0, 700.0], dtype=dtype)).norm(dim=-1) < 20.0
    assert torch.equal(inside_mesh(p, v, f), expected)
    assert torch.allclose(w, expected.to(dtype), atol=1e-3)


def test_matches_reference_formula(box):
    v, f = as_torch(box)
    p = (torch.rand(500, 3, dtype=torch.float64) - 0.5) * 40.0
    assert torch.allclose(winding_numbers(p, v, f), reference_winding(p, v, f), atol=1e-12)


def test_octant_triangle_subtends_one_eighth():
    v = torch.eye(3, dtype=torch.float64)  # seen from the origin: 4 pi / 8 sr
    f = torch.tensor([[0, 1, 2]])
    w = winding_numbers(torch.zeros(1, 3, dtype=torch.float64), v, f)
    assert w.item() == pytest.approx(1 / 8, abs=1e-12)
    w_flipped = winding_numbers(torch.zeros(1, 3, dtype=torch.float64), v, f.flip(1))
    assert w_flipped.item() == pytest.approx(-1 / 8, abs=1e-12)


def test_box_inverted_and_overlapping(box):
    v, f = as_torch(box)
    p = torch.tensor([[0.0, 0.0, 0.0], [14.0, 9.0, 4.0], [16.0, 0.0, 0.0], [0.0, 0.0, 5.5]], dtype=torch.float64)
    assert torch.allclose(winding_numbers(p, v, f), torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64))
    assert torch.allclose(winding_numbers(p, v, f.flip(1)), torch.tensor([-1.0, -1.0, 0.0, 0.0], dtype=torch.float64))
    # Two boxes concatenated, one shifted by 10 mm in x: the overlap has winding number 2.
    v2 = torch.cat([v, v + torch.tensor([10.0, 0.0, 0.0], dtype=torch.float64)])
    f2 = torch.cat([f, f + len(v)])
    w = winding_numbers(torch.tensor([[0.0, 0, 0], [20.0, 0, 0], [-14.0, 0, 0]], dtype=torch.float64), v2, f2)
    assert torch.allclose(w, torch.tensor([2.0, 1.0, 1.0], dtype=torch.float64))


def test_torus_genus_one():
    torus = trimesh.creation.torus(major_radius=30.0, minor_radius=10.0, major_sections=64, minor_sections=32)
    v, f = as_torch(torus, torch.float32)
    p = (torch.rand(3000, 3) - 0.5) * torch.tensor([90.0, 90.0, 30.0])
    tube = ((p[:, :2].norm(dim=-1) - 30.0) ** 2 + p[:, 2] ** 2).sqrt()
    keep = (tube - 10.0).abs() > 0.3  # off the faceted surface
    assert torch.equal(inside_mesh(p[keep], v, f), tube[keep] < 10.0)


def test_batched_shared_points_and_chunks(sphere):
    v, f = as_torch(sphere, torch.float32)
    shifts = torch.tensor([[0.0, 0, 0], [15.0, 0, 0], [0.0, 0, -30.0]])
    vb = v[None] + shifts[:, None]  # (3, V, 3)
    p = (torch.rand(700, 3) - 0.5) * 80.0  # shared by all three
    w = winding_numbers(p, vb, f)
    assert w.shape == (3, 700)
    for k in range(3):
        assert torch.allclose(w[k], winding_numbers(p, vb[k], f), atol=1e-5)
    assert torch.allclose(w, winding_numbers(p, vb, f, chunk=30_000), atol=1e-5)  # small chunks
    pb = p[None].expand(3, -1, -1)
    inside = inside_mesh(pb, vb, f)
    assert torch.equal(inside, inside_mesh(pb, vb, f, cull=False))
    assert torch.equal(inside, w > 0.5)


def test_missing_hand_and_empty_inputs(sphere):
    v, f = as_torch(sphere, torch.float32)
    vb = torch.stack([v, torch.full_like(v, float("nan"))])
    p = torch.zeros(2, 5, 3)
    assert torch.equal(inside_mesh(p, vb, f), torch.tensor([[True] * 5, [False] * 5]))
    assert inside_mesh(torch.zeros(2, 0, 3), vb, f).shape == (2, 0)
    assert torch.equal(inside_mesh(torch.full((1, 3), 100.0), v, f), torch.tensor([False]))


def test_matches_manifold_ray_parity():
    """A non-convex solid (union of three spheres by manifold3d) vs ray-crossing parity by manifold3d."""
    spheres = [manifold3d.Manifold.sphere(12.0, 24).translate(t) for t in ([0, 0, 0], [16, 0, 0], [8, 14, 6])]
    solid = manifold3d.Manifold.batch_boolean(spheres, manifold3d.OpType.Add)
    mesh = solid.to_mesh()
    v = torch.tensor(np.asarray(mesh.vert_properties)[:, :3], dtype=torch.float64)
    f = torch.tensor(np.asarray(mesh.tri_verts).astype(np.int64))
    rng = np.random.default_rng(1)
    p = rng.uniform(-15, 30, size=(300, 3))
    direction = np.array([0.4395064455, 0.617598629942, 0.652231566745]) * 1000.0
    parity = np.array([len(solid.ray_cast(q, q + direction)) % 2 == 1 for q in p])
    ours = inside_mesh(torch.tensor(p), v, f).numpy()
    winding = winding_numbers(torch.tensor(p), v, f).numpy()
    ambiguous = np.abs(winding - 0.5) < 0.45  # points essentially on the surface
    assert ambiguous.sum() <= 1 and 30 < ours.sum() < 270
    assert np.array_equal(ours[~ambiguous], parity[~ambiguous])


def test_float32_resolves_points_a_micrometre_from_the_surface(sphere):
    """Face centres pushed 1 um in/out along the normal, 800 mm from the origin, in float32."""
    offset = torch.tensor([300.0, -200.0, 700.0], dtype=torch.float64)
    v, f = as_torch(sphere)
    v = v + offset
    tri = v[f]
    centre = tri.mean(dim=1)
    normal = torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal = normal / normal.norm(dim=-1, keepdim=True)
    points = torch.cat([centre - 1e-3 * normal, centre + 1e-3 * normal]).float()
    expected = torch.arange(len(points)) < len(centre)
    assert torch.equal(inside_mesh(points, v.float(), f), expected)


def test_one_mesh_many_point_sets(box):
    v, f = as_torch(box, torch.float32)
    p = (torch.rand(4, 100, 3) - 0.5) * 40.0  # (B, P, 3) against one (V, 3) mesh
    w = winding_numbers(p, v, f)
    assert w.shape == (4, 100)
    for k in range(4):
        assert torch.allclose(w[k], winding_numbers(p[k], v, f), atol=1e-6)
    half = torch.tensor([15.0, 10.0, 5.0])
    assert torch.equal(inside_mesh(p, v, f), (p.abs() < half).all(dim=-1))
