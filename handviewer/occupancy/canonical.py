"""The hand's own frame, in which the occupancy network sees joints and query points.

Built from three rigid palm joints (wrist, index MCP, middle MCP) like the hand model's frame, and
scaled by the palm length, so the network is invariant to where the hand is, how it is turned
and how big it is. Differentiable in the joints, so intersection gradients reach both hands.
"""

from __future__ import annotations

import torch

# Palm length (wrist to middle MCP) of the mean hand, mm: canonical coordinates are in these units.
MEAN_PALM_LENGTH = 84.5


def canonical_frame(joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """joints (N, 21, 3) mm -> origin (N, 3) mm, rotation (N, 3, 3) (columns: hand x, y, z), scale (N,).

    y points from the wrist to the middle MCP, x towards the index MCP within the palm plane,
    z = x cross y (palmar for a right hand). scale = palm length / MEAN_PALM_LENGTH.
    """
    origin = joints[:, 0]
    y = joints[:, 9] - origin
    length = y.norm(dim=-1).clamp_min(1e-6)
    y = y / length[:, None]
    x = joints[:, 5] - origin
    x = x - (x * y).sum(-1, keepdim=True) * y
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    z = torch.cross(x, y, dim=-1)
    return origin, torch.stack([x, y, z], dim=-1), length / MEAN_PALM_LENGTH


def to_canonical(points: torch.Tensor, joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """points (N, P, 3) mm and joints (N, 21, 3) mm -> both in canonical units (about 1 = 85 mm) of the hand frame."""
    origin, rot, scale = canonical_frame(joints)
    k = 1.0 / (scale * MEAN_PALM_LENGTH)
    to = lambda x: ((x - origin[:, None]) @ rot) * k[:, None, None]  # noqa: E731
    return to(points), to(joints)
