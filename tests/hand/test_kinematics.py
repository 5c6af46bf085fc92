import numpy as np
import pytest
import torch

from handviewer.hand import HandModel, HandParams, clamp_angles, forward_kinematics
from handviewer.hand import template as T
from handviewer.hand.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from handviewer.hand.skeleton import BONES


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fk_follows_bone_lengths_exactly(dtype):
    model = HandModel(dtype=dtype)
    params = model.random_params(200, seed=3)
    joints = model.joints(params)
    lengths = (joints[:, BONES[:, 1]] - joints[:, BONES[:, 0]]).norm(dim=-1)
    tol = 1e-3 if dtype == torch.float32 else 1e-9
    assert torch.allclose(lengths, params.bones, atol=tol)
    assert joints.dtype == dtype


def test_fk_places_the_wrist_and_rotates_rigidly():
    model = HandModel(dtype=torch.float64)
    params = model.random_params(10, seed=1, rotate=False)
    rest = model.joints(params)
    aa = torch.tensor([[0.3, -1.2, 0.5]], dtype=torch.float64).expand(10, 3)
    moved = HandParams(rot=aa.clone(), trans=torch.full((10, 3), 50.0, dtype=torch.float64), bones=params.bones, angles=params.angles)
    out = model.joints(moved)
    rot = axis_angle_to_matrix(aa[:1])[0]
    assert torch.allclose(out, rest @ rot.T + 50.0, atol=1e-9)


def test_default_hand_is_anatomical():
    joints = HandModel().joints(HandModel().default_params())[0]
    # Fingers point along +y (distal), the thumb is on the radial (+x) side, tips beyond the MCPs.
    assert joints[12, 1] > joints[9, 1] > 60
    assert joints[4, 0] > joints[8, 0] > joints[12, 0] > joints[16, 0] > joints[20, 0]
    # Middle finger length (MCP to tip) of an adult: 70-100 mm.
    assert 70 < (joints[12] - joints[9]).norm() < 100


def test_flexion_curls_fingers_towards_the_palm():
    model = HandModel()
    params = model.default_params()
    params.angles[0, T.ANGLE_NAMES.index("index_pip_flex")] = 1.2
    joints = model.joints(params)[0]
    assert joints[8, 2] > 10  # the index tip moved palmar (+z)


def test_gradients_reach_every_parameter():
    model = HandModel(dtype=torch.float64)
    params = model.random_params(4, seed=2).map(lambda t: t.clone().requires_grad_(True))
    joints, verts = model.forward(params)
    (joints.square().sum() + verts.square().sum()).backward()
    for name, value in params.tensors().items():
        assert value.grad is not None and torch.isfinite(value.grad).all(), name
        assert value.grad.abs().sum() > 0, name


def test_random_params_are_within_limits_and_seeded():
    a = HandModel().random_params(500, seed=7)
    b = HandModel().random_params(500, seed=7)
    assert torch.equal(a.angles, b.angles)
    assert torch.equal(clamp_angles(a.angles), a.angles)
    assert not torch.equal(a.angles, HandModel().random_params(500, seed=8).angles)


def test_axis_angle_round_trip_including_zero_and_pi():
    g = torch.Generator().manual_seed(0)
    aa = torch.randn(1000, 3, generator=g, dtype=torch.float64)
    aa = aa / aa.norm(dim=-1, keepdim=True) * torch.rand(1000, 1, generator=g, dtype=torch.float64) * 3.1
    aa[0] = 0.0
    back = matrix_to_axis_angle(axis_angle_to_matrix(aa))
    assert torch.allclose(axis_angle_to_matrix(back), axis_angle_to_matrix(aa), atol=1e-9)


def test_fk_runs_on_cuda_when_present():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = HandModel(device="cuda")
    params = model.random_params(8, seed=0)
    cpu = HandModel().joints(params.to("cpu"))
    assert torch.allclose(model.joints(params).cpu(), cpu, atol=1e-3)


def test_bad_parameter_shapes_are_refused():
    with pytest.raises(ValueError, match="angles"):
        HandParams(rot=torch.zeros(2, 3), trans=torch.zeros(2, 3), bones=torch.zeros(2, 20), angles=torch.zeros(2, 30))


def test_fk_matches_the_joint_by_joint_chain_of_its_definition():
    """FK builds all rotations in one batched call (for speed); it must still be the anatomical chain:
    palm bone = rest frame @ flex_abd, then per finger joint flex_abd (MCP / thumb CMC, MCP) or rot_x,
    the proximal phalanx turned about its own axis by the finger's twist."""
    from handviewer.hand.rotations import flex_abd, rot_x, rot_y

    p = HandModel(dtype=torch.float64).random_params(50, seed=5, ranges="anatomical")
    assert float(p.angles[:, T.TWIST_SLICE].abs().mean()) > 0.1  # the twists are exercised
    a, lengths = p.angles, p.bones.reshape(-1, 5, 4)
    rot0 = axis_angle_to_matrix(p.rot)
    rest = torch.as_tensor(T.PALM_REST_FRAMES)
    expected = [p.trans]
    for f in range(5):
        frame = rot0 @ rest[f] @ flex_abd(a[:, 2 * f], a[:, 2 * f + 1])
        if f == 0:
            local = [torch.as_tensor(T.THUMB_REST_OFFSET) @ flex_abd(a[:, 10], a[:, 11]), flex_abd(a[:, 12], a[:, 13]), rot_x(a[:, 14])]
        else:
            b = 15 + 4 * (f - 1)
            local = [flex_abd(a[:, b], a[:, b + 1] + float(T.FINGER_SPLAY[f - 1])), rot_x(a[:, b + 2]), rot_x(a[:, b + 3])]
        mcp = 1 if f == 0 else 0  # the thumb's chain starts at its CMC joint
        local[mcp] = local[mcp] @ rot_y(a[:, 31 + f])
        position = p.trans + frame[..., :, 1] * lengths[:, f, :1]
        expected.append(position)
        for k in range(3):
            frame = frame @ local[k]
            position = position + frame[..., :, 1] * lengths[:, f, k + 1 : k + 2]
            expected.append(position)
    assert torch.allclose(forward_kinematics(p).joints, torch.stack(expected, 1), atol=1e-9)


def test_twist_turns_the_hinge_plane_not_the_first_bone():
    """A finger's twist turns it about its first bone: that bone's end stays, the bent tip moves."""
    model = HandModel(dtype=torch.float64)
    p = model.default_params(1)
    p.angles[:, 15 + 2] = 1.2  # index PIP bent
    twisted = p.map(lambda t: t.clone())
    twisted.angles[:, 32] = 0.3  # index twist
    j0, j1 = model.joints(p)[0], model.joints(twisted)[0]
    assert torch.allclose(j0[:7], j1[:7], atol=1e-9)  # wrist, thumb, index MCP and PIP unchanged
    assert (j1[7:9] - j0[7:9]).norm(dim=-1).min() > 5.0  # DIP and tip swing sideways
    assert torch.allclose(j0[9:], j1[9:], atol=1e-9)  # other fingers unchanged
