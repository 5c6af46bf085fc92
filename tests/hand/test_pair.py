"""Both hands as one type: a rigid move of the posed hands equals posing the moved placement."""

import torch

from handviewer.hand.pair import PairParams, RigidPair
from handviewer.hand.params import random_params


def _pair(n: int, seed: int) -> PairParams:
    right, left = random_params(n, seed=seed), random_params(n, seed=seed + 1)
    right.trans = right.trans + torch.tensor([0.0, 0.0, 500.0])
    left.trans = left.trans + torch.tensor([60.0, 0.0, 520.0])
    return PairParams(right, left)


def test_a_rigid_move_of_the_posed_hands_lands_where_posing_the_new_placement_does():
    pair = _pair(4, seed=3)
    body = RigidPair.pose(pair, surface=True, inset_mm=1.5, face_centres=True)
    g = torch.Generator().manual_seed(0)
    frame = torch.tensor([0, 0, 2, 3, 1])  # a frame may be asked for more than once
    rot = body.rot[frame] + 0.3 * torch.randn(len(frame), 2, 3, generator=g)
    trans = body.trans[frame] + 20.0 * torch.randn(len(frame), 2, 3, generator=g)
    joints, points = body.at(frame, rot, trans)

    moved = PairParams(pair.right[frame], pair.left[frame]).detach()
    moved.right.rot, moved.left.rot = rot[:, 0], rot[:, 1]
    moved.right.trans, moved.left.trans = trans[:, 0], trans[:, 1]
    want_joints, want_points = moved.joints_and_vertices(inset_mm=1.5, face_centres=True)
    assert (joints - want_joints).abs().max() < 1e-3  # mm, a metre from the camera in float32
    assert (points - want_points).abs().max() < 1e-3
    # Unmoved, the posed hands come back as they were.
    same, _ = body.at(torch.arange(4), body.rot, body.trans)
    assert (same - body.joints).abs().max() < 1e-3


def test_the_gradient_of_a_rigid_move_is_that_of_posing():
    pair = _pair(2, seed=5)
    body = RigidPair.pose(pair, surface=False)
    assert body.points is None
    target = torch.randn(2, 2, 21, 3, generator=torch.Generator().manual_seed(1))

    rot, trans = body.rot.clone().requires_grad_(True), body.trans.clone().requires_grad_(True)
    joints, _ = body.at(torch.arange(2), rot, trans)
    rigid = torch.autograd.grad((joints * target).sum(), (rot, trans))

    posed = pair.detach()
    tensors = [posed.right.rot, posed.left.rot, posed.right.trans, posed.left.trans]
    for t in tensors:
        t.requires_grad_(True)
    full = torch.autograd.grad((posed.joints() * target).sum(), tensors)
    assert torch.allclose(rigid[0], torch.stack(full[:2], 1), rtol=1e-3, atol=1e-2)
    assert torch.allclose(rigid[1], torch.stack(full[2:], 1), rtol=1e-3, atol=1e-3)


def test_a_body_of_no_frames_moves_to_nothing():
    body = RigidPair.pose(_pair(2, seed=7), surface=True).rows(torch.zeros(0, dtype=torch.long))
    joints, points = body.at(torch.zeros(0, dtype=torch.long), body.rot, body.trans)
    assert joints.shape == (0, 2, 21, 3) and points.shape[0] == 0
