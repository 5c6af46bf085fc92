"""The per-subject hand shape: estimated from a video's frames, held fixed by IK."""

import numpy as np
import pytest
import torch
import trimesh

from handviewer.hand import HandModel, fit_ik, forward_kinematics
from handviewer.hand.subject import (
    MIN_FRAMES, SHAPE_ANGLES, HandShape, SubjectShape, estimate_shape, metacarpal_angle, shape_from_fits,
)
from handviewer.synth.subject import constant_shape_video, noisy_joints


@pytest.fixture(scope="module")
def video():
    """60 frames of one hand with a constant shape: true joints and noisy, partly missing ones."""
    params, truth = constant_shape_video(60, seed=4)
    joints = forward_kinematics(params).joints.numpy()
    return params, truth, joints, noisy_joints(joints, noise_mm=2.0, missing=0.1, seed=4)


def test_the_estimate_recovers_a_constant_shape_better_than_per_frame_fits(video):
    _, truth, _, noisy = video
    shape = estimate_shape(noisy)
    assert shape is not None and shape.frames >= MIN_FRAMES
    per_frame, _ = fit_ik(noisy[:32])
    bones_per_frame = np.abs(per_frame.bones.numpy() - truth.bones).mean()
    # The palm layout as the joints determine it: the angle between the index and middle metacarpals.
    palm_per_frame = np.abs(metacarpal_angle(per_frame.angles[:, list(SHAPE_ANGLES)].numpy()) - metacarpal_angle(truth.palm)).mean()
    bones_held = np.abs(shape.bones - truth.bones).mean()
    palm_held = abs(metacarpal_angle(shape.palm) - metacarpal_angle(truth.palm))
    assert bones_held < 1.0 and bones_held < 0.4 * bones_per_frame, (bones_held, bones_per_frame)
    assert palm_held < np.deg2rad(1.0) and palm_held < 0.5 * palm_per_frame, (palm_held, palm_per_frame)


def test_holding_the_shape_lowers_the_error_to_the_truth_and_stops_the_jitter(video):
    _, truth, joints, noisy = video
    shape = estimate_shape(noisy)
    free, _ = fit_ik(noisy[:32])
    held, _ = fit_ik(noisy[:32], shape=shape)
    error = lambda p: np.nanmean(np.linalg.norm(forward_kinematics(p).joints.numpy() - joints[:32], axis=-1))  # noqa: E731
    assert error(held) < error(free) - 0.3, (error(held), error(free))
    assert free.bones.std(0).mean() > 1.0 and float(held.bones.std(0).max()) == 0.0


@pytest.mark.parametrize("n", [5, 40])  # Levenberg-Marquardt, and Adam (over ik.LM_MAX_BATCH hands)
def test_fit_ik_keeps_a_held_shape_exactly_and_fits_reachable_targets(video, n):
    params, truth, joints, _ = video
    fitted, residual = fit_ik(joints[:n], shape=truth)
    assert np.array_equal(fitted.bones.numpy(), np.broadcast_to(truth.bones.astype(np.float32), (n, 20)))
    palm = fitted.angles[:, list(SHAPE_ANGLES)].numpy()
    assert np.array_equal(palm, np.broadcast_to(truth.palm.astype(np.float32), (n, 4)))
    assert float(residual.mean()) < (0.1 if n <= 32 else 0.5)
    # the same through the separate arguments
    again, _ = fit_ik(joints[:n], bones=truth.bones, palm=truth.palm)
    assert torch.equal(again.bones, fitted.bones) and torch.equal(again.angles[:, 2:6], fitted.angles[:, 2:6])


def test_analytic_ik_with_the_subjects_palm_is_exact_where_the_mean_palm_is_not(video):
    _, truth, joints, _ = video
    _, free = fit_ik(joints[:8], iterations=0)
    _, held = fit_ik(joints[:8], shape=truth, iterations=0)
    assert float(held.mean()) < 0.1 < float(free.mean())


def test_bad_shapes_are_refused():
    joints = forward_kinematics(HandModel().random_params(2, seed=0)).joints
    bones = np.full(20, 30.0)
    with pytest.raises(ValueError, match="within the joint limits"):
        fit_ik(joints, bones=bones, palm=np.array([0.0, 1.0, 0.0, 0.0]))  # 57 degrees: no palm does that
    with pytest.raises(ValueError, match="palm must have shape"):
        fit_ik(joints, palm=np.zeros(3))
    with pytest.raises(ValueError, match="either shape or"):
        fit_ik(joints, bones=bones, shape=HandShape(bones, np.zeros(4)))
    with pytest.raises(ValueError):
        HandShape(np.full(20, np.nan), np.zeros(4))


def test_too_few_frames_give_no_shape_and_json_round_trips(video):
    _, truth, _, noisy = video
    assert estimate_shape(noisy[:MIN_FRAMES - 1]) is None
    assert shape_from_fits(np.full((3, 20), 30.0), np.zeros((3, 36))) is None
    pair = SubjectShape(truth, None, "predictions")
    back = SubjectShape.from_json(pair.to_json())
    assert back.left is None and back.source == "predictions"
    assert np.allclose(back.right.bones, truth.bones, atol=1e-4) and np.allclose(back.right.palm, truth.palm, atol=1e-6)
    assert SubjectShape.from_json(None) is None
    with pytest.raises(ValueError):
        SubjectShape.from_json({"right": {"bones_mm": [1.0]}})


def test_meshes_of_held_shape_fits_stay_watertight(video):
    _, truth, _, noisy = video
    fitted, _ = fit_ik(noisy[:20], shape=estimate_shape(noisy))
    model = HandModel("plain")
    verts = model.vertices(fitted).double().numpy()
    for v in verts:
        mesh = trimesh.Trimesh(v, model.faces, process=False)
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 100e3
