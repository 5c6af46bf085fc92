"""Closest points and distances against analytic boxes/spheres and trimesh's brute-force search."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from hv_geometry import as_torch, box_sdf

from handviewer.geometry import (
    closest_point_on_mesh,
    closest_point_on_triangle,
    signed_distance,
    unsigned_distance,
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_box_signed_distance_is_analytic(box, dtype):
    v, f = as_torch(box, dtype)
    p = (torch.rand(3000, 3, dtype=torch.float64) - 0.5) * torch.tensor([50.0, 40.0, 30.0], dtype=torch.float64)
    expected = box_sdf(p.numpy(), np.array([15.0, 10.0, 5.0]))
    sd = signed_distance(p.to(dtype), v, f)
    assert sd.dtype == dtype
    tol = 1e-10 if dtype == torch.float64 else 2e-5
    assert np.abs(sd.double().numpy() - expected).max() < tol


def test_matches_trimesh_closest_point(sphere):
    shifted = sphere.copy()
    shifted.apply_translation([100.0, 50.0, 400.0])
    v, f = as_torch(shifted)
    p = torch.rand(400, 3, dtype=torch.float64) * 80.0 - 40.0 + torch.tensor([100.0, 50.0, 400.0], dtype=torch.float64)
    ref_point, ref_dist, _ = trimesh.proximity.closest_point_naive(shifted, p.numpy())
    closest, dist, face = closest_point_on_mesh(p, v, f)
    assert np.abs(dist.numpy() - ref_dist).max() < 1e-9
    assert np.abs(closest.numpy() - ref_point).max() < 1e-6  # ties between faces share the point
    # float32: distances within a few micrometres of the float64 answer.
    _, dist32, _ = closest_point_on_mesh(p.float(), v.float(), f)
    assert np.abs(dist32.double().numpy() - ref_dist).max() < 5e-4
    # The chosen face really holds the closest point: its distance to that face equals the distance.
    tri = v[f[face]]
    on_face = closest_point_on_triangle(p, tri[:, 0], tri[:, 1], tri[:, 2])
    assert torch.allclose((on_face - p).norm(dim=-1), dist)


def test_sphere_distance_close_to_analytic(sphere):
    v, f = as_torch(sphere, torch.float32)
    p = (torch.rand(2, 500, 3) - 0.5) * 100.0  # a batch of 2 (same mesh)
    vb = v[None].expand(2, -1, -1)
    sd = signed_distance(p, vb, f)
    assert sd.shape == (2, 500)
    analytic = p.norm(dim=-1) - 20.0
    # The polyhedron lies between radii ~19.9 and 20 mm.
    assert (sd - analytic).abs().max() < 0.12
    assert torch.equal(sd < 0, analytic < 0) or ((sd < 0) != (analytic < 0)).sum() <= 2


def test_closest_point_on_triangle_regions_and_degenerate():
    gen = torch.Generator().manual_seed(3)
    tri = torch.randn(200, 3, 3, generator=gen, dtype=torch.float64) * 5.0
    tri[:20, 2] = tri[:20, 0] + 0.3 * (tri[:20, 1] - tri[:20, 0])  # collinear (zero area)
    tri[20:30, 1] = tri[20:30, 0]  # two coincident corners
    tri[30:35, 1:] = tri[30:35, :1]  # a single point
    p = torch.randn(200, 3, generator=gen, dtype=torch.float64) * 8.0
    closest = closest_point_on_triangle(p, tri[:, 0], tri[:, 1], tri[:, 2])
    assert torch.isfinite(closest).all()
    # Brute force: dense barycentric samples (incl. edges and corners) of each triangle.
    n = 120
    i, j = torch.meshgrid(torch.arange(n + 1), torch.arange(n + 1), indexing="ij")
    keep = i + j <= n
    bary = torch.stack([i[keep], j[keep]], -1).double() / n  # (S, 2)
    samples = tri[:, :1] + bary[None, :, :1] * (tri[:, 1:2] - tri[:, :1]) + bary[None, :, 1:] * (tri[:, 2:] - tri[:, :1])
    brute = (samples - p[:, None]).norm(dim=-1).min(dim=1).values
    ours = (closest - p).norm(dim=-1)
    assert (ours <= brute + 1e-9).all()
    assert (brute - ours).max() < 0.25  # sampling resolution
    # The closest point lies in the triangle's plane/segment: it is at most as far as every corner.
    assert (ours[:, None] <= (tri - p[:, None]).norm(dim=-1) + 1e-9).all()


def test_gradients_flow_to_points_and_vertices(box):
    v, f = as_torch(box)
    v = v.clone().requires_grad_(True)
    p = torch.tensor([[20.0, 0.0, 0.0], [0.0, 0.0, 3.0], [18.0, 14.0, 0.0]], dtype=torch.float64, requires_grad=True)
    d = unsigned_distance(p, v, f)
    d.sum().backward()
    assert torch.allclose(d.detach(), torch.tensor([5.0, 2.0, 5.0], dtype=torch.float64))
    assert torch.allclose(p.grad[0], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    assert torch.allclose(p.grad[1], torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64))  # inside: away from the top
    assert torch.allclose(p.grad[2], torch.tensor([0.6, 0.8, 0.0], dtype=torch.float64))
    assert torch.isfinite(v.grad).all() and v.grad.abs().sum() > 0
    # Penetration depth of points inside: positive, equal to the distance to the nearest face.
    sd = signed_distance(torch.tensor([[0.0, 0.0, 3.0], [14.0, 0.0, 0.0]], dtype=torch.float64), v.detach(), f)
    assert torch.allclose((-sd).clamp(min=0), torch.tensor([2.0, 1.0], dtype=torch.float64))


def test_chunks_and_unbatched_shapes(sphere):
    v, f = as_torch(sphere, torch.float32)
    p = (torch.rand(300, 3, generator=torch.Generator().manual_seed(0)) - 0.5) * 60.0
    c1, d1, f1 = closest_point_on_mesh(p, v, f)
    c2, d2, f2 = closest_point_on_mesh(p, v, f, chunk=5000)
    assert c1.shape == (300, 3) and d1.shape == (300,) and f1.shape == (300,)
    assert torch.allclose(d1, d2)
    # A point equidistant from two faces may get either one's closest point: each must be at the
    # reported distance (an unseeded draw once met such a tie).
    for c, d in ((c1, d1), (c2, d2)):
        assert torch.allclose((c - p).norm(dim=-1), d, atol=1e-4)
    assert (torch.isclose(c1, c2, atol=1e-5).all(-1)).float().mean() > 0.95


def test_one_mesh_many_point_sets(box):
    v, f = as_torch(box)
    p = (torch.rand(3, 50, 3, dtype=torch.float64) - 0.5) * 40.0
    sd = signed_distance(p, v, f)
    assert sd.shape == (3, 50)
    expected = box_sdf(p.numpy(), np.array([15.0, 10.0, 5.0]))
    assert np.abs(sd.numpy() - expected).max() < 1e-10
