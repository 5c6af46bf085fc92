"""The intersection loss (paper Eq. 1), batched over hand pairs and differentiable in both hands.

    L = sum_i O(X_L,i ; X_R)^2 + alpha * sum_i O(flip(X_R,i) ; flip(X_L))^2

O is the right-hand occupancy network; a left hand is a mirrored right hand (flip: x -> -x), so
the same network gives the left hand's occupancy. alpha = 1 tests both hands ("both"), alpha = 0
only the left hand's points inside the right hand ("single").
"""

from __future__ import annotations

import torch

from handviewer.device_constants import flip_x
from handviewer.intersect.points import hand_points

KERNELS = ("squared", "truncated")
# Flesh reaches about this far beyond the joints (finger pads, palm): the bounding-box test pads by it.
FLESH_MARGIN_MM = 25.0


def boxes_overlap(joints_a: torch.Tensor, joints_b: torch.Tensor, margin: float = FLESH_MARGIN_MM) -> torch.Tensor:
    """(N,) bool: whether the joint boxes of two hands, each padded by `margin` mm, overlap."""
    lo_a, hi_a = joints_a.amin(1) - margin, joints_a.amax(1) + margin
    lo_b, hi_b = joints_b.amin(1) - margin, joints_b.amax(1) + margin
    return ((lo_a <= hi_b) & (lo_b <= hi_a)).all(-1)


def intersection_loss(
    net,
    joints_right: torch.Tensor,
    joints_left: torch.Tensor,
    point_set: str = "dense",
    both: bool = True,
    kernel: str = "squared",
    bbox_filter: bool = True,
    vertices_right: torch.Tensor | None = None,
    vertices_left: torch.Tensor | None = None,
    logit_bias: float = 0.0,
    near_only: bool = True,
    frames: torch.Tensor | None = None,
    features: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N,) loss per hand pair; joints (N, 21, 3) mm in one camera frame (left hands as they are seen).

    point_set: "sparse" | "dense" | "mesh" (the mesh variant needs the plain-mesh vertices of both hands).
    kernel: "squared" (p^2) or "truncated" (p^2 only where p > 0.5).
    bbox_filter: pairs whose padded boxes do not overlap get 0 without running the network.
    logit_bias: > 0 inflates both hands' occupancy (a margin, so refinement ends with a gap).
    near_only: run the decoder only on points within reach of the other hand's bones (the others
        have p < 0.001); on interacting pairs that is a fraction of the points. False: every point.
    frames: (N,) bool, evaluate only these pairs (the others get 0 without the network).
    features: (N, 2, F) each pair's `hand_features` when already known (None: encoded here).
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    n = joints_right.shape[0]
    loss = joints_right.new_zeros(n)
    active = boxes_overlap(joints_right, joints_left) if bbox_filter else torch.ones(n, dtype=torch.bool, device=joints_right.device)
    if frames is not None:
        active = active & frames
    if not bool(active.any()):
        return loss + 0.0 * (joints_right.sum() + joints_left.sum())  # keep the graph connected
    idx = torch.nonzero(active)[:, 0]
    jr, jl = joints_right[idx], joints_left[idx]
    vr = vertices_right[idx] if vertices_right is not None else None
    vl = vertices_left[idx] if vertices_left is not None else None
    extra = {"logit_bias": logit_bias, "near_only": near_only}
    left_points = hand_points(point_set, jl, vl)
    if not both:  # left points inside the right hand
        if features is not None:
            extra["feature"] = features[idx, 0]
        total = _kernel(net.probability(left_points, jr, **extra), kernel).sum(-1)
    else:
        # Left points inside the right hand, and right points inside the left hand as the mirrored
        # right hand: one network call on a doubled batch (half the small ops of two calls).
        flip = flip_x(jr)
        points = torch.cat([left_points, hand_points(point_set, jr, vr) * flip])
        if features is not None:
            extra["feature"] = torch.cat([features[idx, 0], features[idx, 1]])
        p = _kernel(net.probability(points, torch.cat([jr, jl * flip]), **extra), kernel).sum(-1)
        total = p[: len(idx)] + p[len(idx):]
    return loss.index_put((idx,), total)


def hand_features(net, joints_right: torch.Tensor, joints_left: torch.Tensor) -> torch.Tensor:
    """(N, 2, F) the occupancy network's encodings of both hands of N pairs (joints (N, 21, 3) mm, camera
    frame): the right hand's, then the mirrored left hand's; `intersection_loss(features=...)`."""
    return torch.stack([net.hand_feature(joints_right), net.hand_feature(joints_left * flip_x(joints_left))], 1)


def _kernel(p: torch.Tensor, kernel: str) -> torch.Tensor:
    sq = p * p
    return sq if kernel == "squared" else torch.where(p > 0.5, sq, torch.zeros_like(sq))
