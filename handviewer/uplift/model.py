"""The uplift MLP: 2D keypoints of both hands -> pose and shape parameters of both hands (paper §III).

Three heads on a shared residual MLP: joint angles (squashed into the joint limits), bone lengths
(as ratios to the mean), and the offset of the left wrist from the right wrist (in units of the
right palm length, camera axes). Global rotation comes with the angles' head as a 6D rotation.
The left hand is predicted by the same weights from the mirrored input, as a right hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from handviewer.hand import template as T
from handviewer.hand.params import HandParams
from handviewer.hand.rotations import matrix_to_axis_angle
from handviewer.uplift.inputs import network_input

INPUT_SIZE = 2 * 21 * 3


@dataclass(frozen=True)
class UpliftConfig:
    hidden: int = 512
    blocks: int = 3

    def to_dict(self) -> dict:
        return asdict(self)


class _Block(nn.Module):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(size), nn.Linear(size, size), nn.GELU(), nn.Linear(size, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


def rotation_6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt (Zhou et al.); columns are the frame's x, y, z."""
    a, b = d6[..., :3], d6[..., 3:]
    x = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    b = b - (x * b).sum(-1, keepdim=True) * x
    y = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return torch.stack([x, y, torch.cross(x, y, dim=-1)], dim=-1)


class UpliftNet(nn.Module):
    def __init__(self, cfg: UpliftConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or UpliftConfig()
        h = self.cfg.hidden
        self.stem = nn.Linear(INPUT_SIZE, h)
        self.blocks = nn.Sequential(*[_Block(h) for _ in range(self.cfg.blocks)])
        self.norm = nn.LayerNorm(h)
        self.head_pose = nn.Linear(h, 6 + T.NUM_NETWORK_ANGLES)  # rotation (6D) + angles (no twists)
        self.head_bones = nn.Linear(h, 20)
        self.head_offset = nn.Linear(h, 3)
        typical = T.TYPICAL_LIMITS[: T.NUM_NETWORK_ANGLES]
        lo, hi = torch.as_tensor(typical[:, 0]), torch.as_tensor(typical[:, 1])
        self.register_buffer("angle_lo", lo.float(), persistent=False)
        self.register_buffer("angle_hi", hi.float(), persistent=False)
        self.register_buffer("mean_bones", torch.as_tensor(T.MEAN_BONE_LENGTHS).float(), persistent=False)

    def _pass(self, x: torch.Tensor) -> tuple[HandParams, torch.Tensor]:
        f = self.norm(self.blocks(self.stem(x)))
        pose = self.head_pose(f)
        rot = matrix_to_axis_angle(rotation_6d_to_matrix(pose[:, :6] + _IDENTITY_6D.to(pose)))
        angles = self.angle_lo + (self.angle_hi - self.angle_lo) * torch.sigmoid(pose[:, 6:])
        angles = F.pad(angles, (0, T.NUM_ANGLES - T.NUM_NETWORK_ANGLES))  # twists 0, as in its training hands
        bones = self.mean_bones * torch.exp(0.3 * torch.tanh(self.head_bones(f)))
        params = HandParams(rot=rot, trans=torch.zeros_like(rot), bones=bones, angles=angles)
        return params, self.head_offset(f)

    def forward(self, keypoints: torch.Tensor, K: torch.Tensor) -> tuple[HandParams, HandParams, torch.Tensor]:
        """keypoints (N, 2, 21, 3) px + confidence (NaN = missing), K (N, 3, 3) ->
        (right params, left params as a mirrored right hand, both with the wrist at the origin;
        left-wrist offset from the right wrist (N, 3) in right-palm lengths, camera axes)."""
        x_right, x_left = network_input(keypoints, K)
        right, offset = self._pass(x_right)
        left, _ = self._pass(x_left)
        return right, left, offset

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


_IDENTITY_6D = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
