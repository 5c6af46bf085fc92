"""Exact intersection metrics (manifold3d body) against the grid / dense methods they replace."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import handviewer.intersect.metrics as M
from handviewer.geometry import ManifoldError
from handviewer.synth.scenes import _model, hand_vertices, random_scenes


@pytest.fixture(scope="module")
def pairs():
    """Eight random scenes with the left hand pushed 0-12 mm past contact: (8, 2, V, 3) mm."""
    scenes = random_scenes(8, seed=21, verify=False)
    model = _model("plain")
    verts = hand_vertices(model, scenes.params_right, scenes.params_left)
    push = scenes.gap_mm + np.linspace(0.5, 12.0, 8)
    verts[:, 1] -= (push[:, None] * scenes.approach)[:, None]
    return verts, np.asarray(model.faces), np.asarray(model.faces_left)


@pytest.fixture(autouse=True)
def _one_thread_fresh_cache():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    M._last = None
    yield
    torch.set_num_threads(threads)


def test_agrees_with_the_grid_method_within_its_grid_error(pairs):
    verts, fr, fl = pairs
    volumes, counts = [], []
    for v in verts:
        count, volume, points = M.count_intersections(v[0], fr, v[1], fl)
        g_count, g_volume, g_points = M.count_intersections_grid(v[0], fr, v[1], fl)
        assert isinstance(count, int) and isinstance(volume, float)
        assert points.dtype == np.float32 and points.shape == (count, 3)
        # Same grid, same points: the exact body contains exactly the grid points inside both hands.
        assert count == g_count
        assert np.allclose(np.sort(points, axis=0), np.sort(g_points, axis=0), atol=1e-3)
        # The grid volume is count x cell volume: off by about the cells the surface cuts.
        assert volume > 0 and abs(volume - g_volume) <= 0.3 + 0.1 * volume
        volumes.append(volume)
        counts.append(count)
    assert np.corrcoef(volumes, counts)[0, 1] > 0.95


def test_depths_equal_the_dense_signed_distances(pairs):
    verts, fr, fl = pairs
    found = 0
    for v in verts:
        ave, mx = M.penetration_depths(v[0], fr, v[1], fl)
        ref = M.penetration_depths_dense(v[0], fr, v[1], fl)
        assert (ave, mx) == pytest.approx(ref, abs=1e-9)
        found += mx > 0
    assert found >= 4


def test_count_then_depths_build_the_body_once(pairs, monkeypatch):
    verts, fr, fl = pairs
    calls = []
    real = M.intersect_meshes
    monkeypatch.setattr(M, "intersect_meshes", lambda *a: calls.append(1) or real(*a))
    v = verts[-1]
    M.count_intersections(v[0], fr, v[1], fl)
    M.penetration_depths(v[0], fr, v[1], fl)
    assert len(calls) == 1
    M.penetration_depths(v[0] + 1.0, fr, v[1], fl)  # another pair: a new body
    assert len(calls) == 2


def test_separated_hands_give_zero(pairs):
    verts, fr, fl = pairs
    v = verts[0]
    for left in (v[1] + [400.0, 0.0, 0.0], v[1] + [0.0, 0.0, 250.0]):
        count, volume, points = M.count_intersections(v[0], fr, left, fl)
        assert (count, volume, points.shape, points.dtype) == (0, 0.0, (0, 3), np.float32)
        assert M.penetration_depths(v[0], fr, left, fl) == (0.0, 0.0)
    nan = np.full_like(v[1], np.nan)  # a missing hand contains nothing
    assert M.count_intersections(v[0], fr, nan, fl)[:2] == (0, 0.0)


def test_left_hand_winding_is_handled(pairs):
    """The mirrored left hand needs faces_left; given the right hand's faces (inside out) the body
    is still the one the surface bounds."""
    verts, fr, fl = pairs
    v = verts[-1]
    right = M.count_intersections(v[0], fr, v[1], fl)
    M._last = None
    wrong = M.count_intersections(v[0], fr, v[1], fr)
    assert right[1] > 0.5 and wrong[:2] == (right[0], pytest.approx(right[1], rel=1e-9))


def test_torch_inputs_and_falls_back_when_manifold3d_refuses(pairs, monkeypatch, caplog):
    verts, fr, fl = pairs
    v = verts[-1]
    exact = M.count_intersections(torch.as_tensor(v[0]), torch.as_tensor(fr), torch.as_tensor(v[1]), torch.as_tensor(fl))
    assert exact[0] > 0

    def refuse(*_a):
        raise ManifoldError("NotManifold")

    monkeypatch.setattr(M, "intersect_meshes", refuse)
    M._last = None
    count, volume, points = M.count_intersections(v[0], fr, v[1], fl)
    assert (count, volume) == M.count_intersections_grid(v[0], fr, v[1], fl)[:2] and count == exact[0]
    assert M.penetration_depths(v[0], fr, v[1], fl) == M.penetration_depths_dense(v[0], fr, v[1], fl)
    assert "grid estimate" in caplog.text


def test_open_mesh_falls_back_to_the_grid(pairs):
    verts, fr, fl = pairs
    v = verts[-1]
    open_faces = fr[:-1]  # a hole: not a closed manifold
    count, volume, _ = M.count_intersections(v[0], open_faces, v[1], fl)
    assert (count, volume) == M.count_intersections_grid(v[0], open_faces, v[1], fl)[:2]
