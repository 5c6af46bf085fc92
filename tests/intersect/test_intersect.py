import numpy as np
import pytest
import torch

from handviewer.device_constants import flip_x
from handviewer.hand import HandModel
from handviewer.hand.skeleton import mirror_x
from handviewer.intersect import (
    boxes_overlap,
    count_intersections,
    hand_points,
    intersection_loss,
    occupancy_count,
    penetration_depths,
)


class BallOccupancy:
    """A stand-in occupancy with the network's interface: a 20 mm ball around each hand's middle MCP.
    Exact and smooth, so the loss's plumbing (point sets, flipping, filtering, gradients) is tested
    without a trained network."""

    calls = 0

    def probability(self, points, joints, chunk=None, logit_bias=0.0, near_only=False):
        BallOccupancy.calls += 1
        d = (points - joints[:, 9:10]).norm(dim=-1)
        return torch.sigmoid((20.0 - d) / 2.0 + logit_bias)

    def probability_left(self, points, joints, chunk=None, logit_bias=0.0, near_only=False):
        flip = flip_x(points)
        return self.probability(points * flip, joints * flip, chunk, logit_bias, near_only)


def two_hands(offset_mm: float, axis: int = 0):
    model = HandModel(dtype=torch.float64)
    params = model.random_params(1, seed=3, rotate=False)
    right = model.joints(params)
    shift = torch.zeros(3, dtype=torch.float64)
    shift[axis] = offset_mm
    return right, torch.as_tensor(mirror_x(right.numpy())) + shift


def test_point_sets_have_the_papers_sizes():
    model = HandModel()
    params = model.random_params(2, seed=1)
    joints, verts = model.forward(params)
    assert hand_points("sparse", joints).shape == (2, 21, 3)
    assert hand_points("dense", joints).shape == (2, 121, 3)
    assert hand_points("mesh", joints, verts).shape == (2, model.num_vertices, 3)
    with pytest.raises(ValueError):
        hand_points("mesh", joints)


@pytest.mark.parametrize("point_set", ["sparse", "dense"])
@pytest.mark.parametrize("both", [False, True])
def test_gradient_descent_moves_intersecting_hands_apart(point_set, both):
    right0, left0 = two_hands(10.0, axis=2)  # mirrored copies 10 mm apart in depth: deeply intersecting
    shift_r = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    shift_l = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([shift_r, shift_l], lr=20.0)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = intersection_loss(BallOccupancy(), right0 + shift_r, left0 + shift_l, point_set=point_set, both=both).sum()
        first = loss.item() if first is None else first
        loss.backward()
        opt.step()
    assert first > 0.5 and loss.item() < 0.1 * first
    gap0 = (left0[0, 9] - right0[0, 9]).norm()
    gap = ((left0[0, 9] + shift_l) - (right0[0, 9] + shift_r)).norm()
    assert gap > gap0 + 5.0
    if not both:  # alpha = 0: only the left hand's points are tested, yet both hands receive gradients
        assert shift_r.detach().norm() > 0


def test_separated_hands_give_zero_loss_and_skip_the_network():
    right, left = two_hands(400.0)
    BallOccupancy.calls = 0
    loss = intersection_loss(BallOccupancy(), right, left)
    assert loss.item() == 0.0 and BallOccupancy.calls == 0
    unfiltered = intersection_loss(BallOccupancy(), right, left, bbox_filter=False)
    assert BallOccupancy.calls >= 1 and unfiltered.item() < 1e-6
    assert not boxes_overlap(right, left).item()


def test_truncated_kernel_ignores_low_probabilities():
    right, left = two_hands(30.0)
    sq = intersection_loss(BallOccupancy(), right, left, kernel="squared")
    tr = intersection_loss(BallOccupancy(), right, left, kernel="truncated")
    assert 0 <= tr.item() < sq.item()
    with pytest.raises(ValueError):
        intersection_loss(BallOccupancy(), right, left, kernel="cubic")


def test_ground_truth_count_and_penetration_on_overlapping_hands():
    model = HandModel("plain", dtype=torch.float64)
    params = model.random_params(1, seed=5, rotate=False)
    verts = model.vertices(params)[0].numpy()
    shifted = verts + np.array([0.0, 0.0, 8.0])  # the same hand 8 mm deeper: a large overlap
    count, volume, points = count_intersections(verts, model.faces, shifted, model.faces)
    assert count > 1000 and volume > 20 and points.shape == (count, 3)
    ave, mx = penetration_depths(verts, model.faces, shifted, model.faces)
    assert 0 < ave <= mx and mx > 4
    apart = verts + np.array([300.0, 0.0, 0.0])
    assert count_intersections(verts, model.faces, apart, model.faces)[0] == 0
    assert penetration_depths(verts, model.faces, apart, model.faces) == (0.0, 0.0)


def test_occupancy_count_counts_points_inside_the_other_hand():
    right, left = two_hands(0.0)
    near = occupancy_count(BallOccupancy(), right, left, right, left)
    far = occupancy_count(BallOccupancy(), right, left + 300.0, right, left + 300.0)
    assert near.item() >= 2 and far.item() == 0
