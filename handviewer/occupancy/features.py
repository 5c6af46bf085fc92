"""Geometric features of a query point relative to the skeleton it is conditioned on."""

from __future__ import annotations

import numpy as np
import torch

from handviewer.hand import template as T
from handviewer.device_constants import on_device
from handviewer.hand.skeleton import BONES
from handviewer.occupancy.canonical import MEAN_PALM_LENGTH

# Per bone: offset (3), distance (1), distance / nominal radius (1), position along it (1); plus the
# point (3) and the smallest radius-normalised distance (1).
NUM_POINT_FEATURES = 4 + 6 * len(BONES)


def _nominal_radii() -> np.ndarray:
    """(20,) nominal flesh radius of each bone in canonical units (palm length = 1)."""
    radii = np.empty(20)
    for finger in range(5):
        radii[4 * finger] = 14.0  # wrist to knuckle: half the palm's thickness and then some
        radii[4 * finger + 1 : 4 * finger + 4] = T.FINGER_RADII[finger].mean(axis=1)
    return radii / MEAN_PALM_LENGTH


NOMINAL_RADII = _nominal_radii()  # (20,) canonical units; x MEAN_PALM_LENGTH for mm


def _to_bones(points: torch.Tensor, joints: torch.Tensor, hand: torch.Tensor | None = None
              ) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """The offset from the nearest point of each bone segment to each point, as its x, y and z
    components, each (N, P, 20), and that nearest point's position t (N, P, 20) in [0, 1] along the
    bone. With `hand` (M,): points (M, 3), point m of hand[m] -> (M, 20) each.

    Component by component: torch reduces a trailing axis of 3 slowly, and these are the largest
    tensors of the occupancy loss (every tested point times 20 bones)."""
    ends = on_device("bones", lambda: BONES, joints.device)  # (20, 2) joint indices
    start = joints[:, ends[:, 0]]  # (N, 20, 3)
    axis = joints[:, ends[:, 1]] - start  # (N, 20, 3)
    inv_len2 = 1.0 / (axis * axis).sum(-1).clamp_min(1e-9)  # (N, 20)
    start, axis = start.transpose(1, 2), axis.transpose(1, 2)  # (N, 3, 20)
    if hand is None:
        start, axis, inv_len2, points = start[:, None], axis[:, None], inv_len2[:, None], points[:, :, :, None]
    else:
        pick = lambda a: a.index_select(0, hand)  # noqa: E731 (backward 10x faster than a[hand]'s)
        start, axis, inv_len2, points = pick(start), pick(axis), pick(inv_len2), points[:, :, None]
    # points (..., 3, 1) against start and axis (..., 3, 20): one (..., 20) tensor per coordinate.
    rel = [points[..., k, :] - start[..., k, :] for k in range(3)]
    along = rel[0] * axis[..., 0, :] + rel[1] * axis[..., 1, :] + rel[2] * axis[..., 2, :]
    t = (along * inv_len2).clamp(0.0, 1.0)
    return tuple(rel[k] - t * axis[..., k, :] for k in range(3)), t


def nearest_bone_distance(points: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
    """points (N, P, 3), joints (N, 21, 3), same units -> (N, P) distance to the nearest bone segment."""
    (x, y, z), _ = _to_bones(points, joints)
    return (x * x + y * y + z * z).amin(-1).sqrt()  # the root of the minimum: one sqrt per point


def bone_features(points: torch.Tensor, joints: torch.Tensor, hand: torch.Tensor | None = None) -> torch.Tensor:
    """points (N, P, 3), joints (N, 21, 3), both canonical -> (N, P, 124); with `hand` (M,): points
    (M, 3), point m of hand[m] -> (M, 124).

    For each of the 20 bones: the vector from the nearest point of the bone segment to the query
    point (3), its length (1), that length over the bone's nominal flesh radius (1), and the position
    t in [0, 1] of that nearest point along the bone (1); and the smallest normalised distance. A hand's flesh is a thin envelope around its bones, so with these occupancy is close to
    "distance to some bone below that bone's radius", which a small network learns in a few
    thousand steps; they are differentiable in both the points and the joints.
    """
    (x, y, z), t = _to_bones(points, joints, hand)
    dist = torch.sqrt(x * x + y * y + z * z + 1e-12)  # (N, P, 20)
    ratio = dist / on_device("nominal_radii", lambda: NOMINAL_RADII, points.device, points.dtype)
    offset = torch.stack([x, y, z], -1).flatten(-2)  # (N, P, 60): bone by bone, x y z as trained
    return torch.cat([points, offset, dist, ratio, t, ratio.min(-1, keepdim=True).values], dim=-1)
