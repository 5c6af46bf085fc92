"""Scenes and sequences: ground truth consistent, reproducible, close, non-intersecting, smooth."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from handviewer.hand import HandModel
from handviewer.hand.skeleton import mirror_x
from handviewer.io import project
from handviewer.synth import _geometry as G
from handviewer.synth.scenes import (
    ACCEPT_MAX_CM3,
    MAX_DEPTH_MM,
    SCENE_KINDS,
    TwoHandSequence,
    intersection_volumes,
    random_scenes,
    random_sequence,
)


def _min_gap(verts: np.ndarray) -> float:
    """Smallest vertex-to-vertex distance between the two hands (2, V, 3) mm."""
    d = np.linalg.norm(verts[0][:, None] - verts[1][None], axis=-1)
    return float(d.min())


def test_ray_hits_match_brute_force():
    rng = np.random.default_rng(0)
    tris = rng.uniform(-50, 50, size=(60, 3, 3))
    origins = rng.uniform(-70, 70, size=(300, 3))
    d = rng.standard_normal(3)
    d /= np.linalg.norm(d)
    got = G.ray_hits(origins, d, tris)
    want = np.full(len(origins), np.inf)
    for i, o in enumerate(origins):
        for a, b, c in tris:
            m = np.stack([b - a, c - a, -d], axis=1)
            if abs(np.linalg.det(m)) < 1e-12:
                continue
            u, v, t = np.linalg.solve(m, o - a)
            if u >= 0 and v >= 0 and u + v <= 1 and t > 0:
                want[i] = min(want[i], t)
    assert np.isfinite(want).sum() > 20
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_contact_distance_of_two_boxes():
    a = trimesh.creation.box((20, 20, 20))
    b = trimesh.creation.box((20, 20, 20))
    moving = (np.asarray(b.vertices) + [5.0, 3.0, 50.0], np.asarray(b.faces))
    fixed = (np.asarray(a.vertices), np.asarray(a.faces))
    assert G.contact_distance(moving, fixed, np.array([0.0, 0.0, -1.0])) == pytest.approx(30.0)
    assert G.contact_distance(moving, fixed, np.array([0.0, 0.0, 1.0])) == np.inf


def test_smooth_upper_envelope_is_above_and_smooth():
    values = np.zeros(50)
    values[20] = 10.0
    env = G.smooth_upper_envelope(values)
    assert (env >= values).all()
    assert np.abs(np.diff(env)).max() < 3.0


def test_scenes_are_consistent_close_and_in_view(scenes):
    assert isinstance(scenes, TwoHandSequence)
    assert len(scenes) == 4 and scenes.joints.shape == (4, 2, 21, 3) and scenes.attempts >= 4
    assert set(scenes.kinds) <= set(SCENE_KINDS)
    model = HandModel("plain")
    np.testing.assert_allclose(scenes.joints[:, 0], model.joints(scenes.params_right).numpy(), atol=1e-4)
    np.testing.assert_allclose(scenes.joints[:, 1], mirror_x(model.joints(scenes.params_left).numpy()), atol=1e-4)
    depth = scenes.joints[..., 2].reshape(4, -1).mean(axis=1)
    assert ((depth > 380) & (depth < MAX_DEPTH_MM)).all()
    uv = project(scenes.joints, scenes.camera)
    assert ((uv >= 0) & (uv <= [scenes.camera.width - 1, scenes.camera.height - 1])).all()
    verts = scenes.vertices("plain")
    for t in range(len(scenes)):
        assert 0.5 < _min_gap(verts[t]) < 40.0  # close, not apart
    assert ((scenes.gap_mm >= 1.5) & (scenes.gap_mm <= 15.0)).all()


def test_scenes_pass_the_acceptance_rule(scenes):
    assert (scenes.intersection_cm3 <= ACCEPT_MAX_CM3).all()


def test_scenes_are_reproducible():
    a = random_scenes(2, seed=11, verify=False)
    b = random_scenes(2, seed=11, verify=False)
    c = random_scenes(2, seed=12, verify=False)
    np.testing.assert_array_equal(a.joints, b.joints)
    assert a.kinds == b.kinds
    assert not np.allclose(a.joints, c.joints)
    assert np.isnan(a.intersection_cm3).all()


def test_sequence_is_smooth_and_reproducible(sequence):
    assert sequence.joints.shape == (40, 2, 21, 3) and sequence.fps == 30.0
    assert len(set(sequence.kinds)) == 1
    speed = np.linalg.norm(np.diff(sequence.joints, axis=0), axis=-1)  # (39, 2, 21) mm / frame
    assert speed.max() < 12.0  # < 360 mm/s at 30 fps; typically 3-6 mm / frame
    accel = np.linalg.norm(np.diff(sequence.joints, 2, axis=0), axis=-1)
    assert accel.max() < 4.0
    again = random_sequence(40, seed=1)
    np.testing.assert_array_equal(sequence.joints, again.joints)
    for name in ("rot", "trans", "bones", "angles"):
        assert np.array_equal(getattr(sequence.params_left, name).numpy(), getattr(again.params_left, name).numpy())


def test_sequence_frames_do_not_intersect(sequence):
    volumes = intersection_volumes(sequence.params_right, sequence.params_left, frames=[0, 19, 39])
    assert (volumes[[0, 19, 39]] <= ACCEPT_MAX_CM3).all()
    verts = sequence.vertices("plain")
    assert max(_min_gap(v) for v in verts) < 40.0


def test_unknown_kind_raises():
    with pytest.raises(ValueError, match="unknown scene kind"):
        random_sequence(5, seed=0, kind="hug")
