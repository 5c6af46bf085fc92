"""Estimator-like errors: distributions as documented, seeded, and they make hands intersect."""

from __future__ import annotations

import numpy as np
import pytest

from handviewer.synth.corrupt import CorruptionSettings, corrupt_sequence, noisy_keypoints
from handviewer.synth.scenes import ACCEPT_MAX_CM3, intersection_volumes, random_sequence

EXACT = CorruptionSettings(key_every=0)  # a fresh error every frame, no jitter: ranges are exact


def test_corruption_is_seeded(sequence):
    a, b, c = corrupt_sequence(sequence, seed=3), corrupt_sequence(sequence, seed=3), corrupt_sequence(sequence, seed=4)
    np.testing.assert_array_equal(a.joints, b.joints)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert not np.allclose(a.joints, c.joints)


def test_error_distributions(sequence):
    out = corrupt_sequence(sequence, seed=0, settings=EXACT)
    assert out.joints.shape == out.keypoints.shape == (40, 2, 21, 3)
    assert ((out.rotation_error_deg >= 5 - 1e-3) & (out.rotation_error_deg <= 15 + 1e-3)).all()
    assert ((np.abs(out.left_offset_mm[:, 2]) >= 10) & (np.abs(out.left_offset_mm[:, 2]) <= 30)).all()
    # The right wrist keeps its place (rotation about the wrist); bones are exact.
    np.testing.assert_allclose(out.joints[:, 0, 0], sequence.joints[:, 0, 0], atol=1e-3)
    np.testing.assert_allclose(out.joints[:, 1, 0] - sequence.joints[:, 1, 0], out.left_offset_mm, atol=1e-3)
    bone = lambda j: np.linalg.norm(j[..., 5, :] - j[..., 0, :], axis=-1)  # noqa: E731
    np.testing.assert_allclose(bone(out.joints), bone(sequence.joints), atol=1e-3)
    smooth = corrupt_sequence(sequence, seed=0)
    assert smooth.rotation_error_deg.min() > 2.0 and smooth.rotation_error_deg.max() < 18.0
    mpjpe = np.linalg.norm(smooth.joints - sequence.joints, axis=-1).mean()
    assert 8.0 < mpjpe < 45.0


def test_keypoints_noise_confidence_and_drops(sequence):
    joints = np.repeat(sequence.joints, 5, axis=0)  # 200 frames: stable statistics
    visible = np.ones(joints.shape[:3], bool)
    visible[:, 1, 10:] = False
    kp = noisy_keypoints(joints, sequence.camera, seed=1, visible=visible)
    from handviewer.io import project

    err = np.linalg.norm(kp[..., :2] - project(joints, sequence.camera), axis=-1)
    conf = kp[..., 2]
    seen, hidden = visible, ~visible
    assert np.nanmin(conf) >= 0 and np.nanmax(conf) <= 1
    assert 1.0 < np.nanmedian(err[seen]) < 2.5
    assert 0.85 <= np.nanmedian(conf[seen]) <= 0.97
    dropped_seen, dropped_hidden = np.isnan(conf[seen]).mean(), np.isnan(conf[hidden]).mean()
    assert 0.005 < dropped_seen < 0.05
    assert 0.4 < dropped_hidden < 0.6
    assert np.nanmax(conf[hidden]) <= 0.5
    assert np.isnan(kp).any(axis=-1).sum() == np.isnan(kp).all(axis=-1).sum()  # all three channels NaN


def _penetrating_vertices(params_right, params_left) -> np.ndarray:
    """(T,) plain-mesh vertices of either hand inside the other: a fast stand-in for the volume."""
    import torch

    from handviewer.geometry import inside_mesh
    from handviewer.hand import HandModel
    from handviewer.synth.scenes import hand_vertices

    model = HandModel("plain")
    v = torch.as_tensor(hand_vertices(model, params_right, params_left))  # (T, 2, V, 3) mm
    left_in_right = inside_mesh(v[:, 1], v[:, 0], torch.as_tensor(model.faces)).sum(-1)
    right_in_left = inside_mesh(v[:, 0], v[:, 1], torch.as_tensor(model.faces_left)).sum(-1)
    return (left_in_right + right_in_left).numpy()


def test_corrupted_frames_intersect_more_often():
    seq = random_sequence(30, seed=4, kind="steeple")
    bad = corrupt_sequence(seq, seed=4)
    gt = _penetrating_vertices(seq.params_right, seq.params_left)
    pred = _penetrating_vertices(bad.params_right, bad.params_left)
    assert (gt == 0).all()
    assert (pred > 0).mean() > 0.3
    volume = intersection_volumes(bad.params_right, bad.params_left, frames=[int(np.argmax(pred))])
    assert np.nanmax(volume) > ACCEPT_MAX_CM3  # the stand-in agrees with the ground-truth count


def test_settings_are_frozen():
    with pytest.raises(Exception):
        EXACT.key_every = 3  # type: ignore[misc]
