"""The occupancy network O(x, F(X_R)) -> p: is point x inside the right hand with joints X_R?

Encoder: PointNet with residual blocks over the 21 joints (each with a learned joint embedding),
max-pooled into one feature vector per hand. Decoder: residual blocks with conditional batch
normalisation (as in the paper and Occupancy Networks): the hand feature predicts the scale and
shift of each normalisation. The decoder's input is the query point with its offsets to the 20
bones (`features.bone_features`), all in the hand's canonical frame (`canonical`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from handviewer.device_constants import flip_x
from handviewer.occupancy.canonical import MEAN_PALM_LENGTH, to_canonical
from handviewer.occupancy.features import NUM_POINT_FEATURES, bone_features, nearest_bone_distance

# No point of a hand lies farther than this from its nearest bone (mm, for the mean palm length;
# it scales with the hand): measured 39.4 mm for the plain-mesh vertices of 500 random hands, and no
# point with p > 0.001 beyond 35 mm. `probability(..., near_only=True)` answers 0 beyond it
# without running the decoder, which is where most of the loss's points lie.
REACH_MM = 45.0


@dataclass(frozen=True)
class OccupancyConfig:
    hidden: int = 64  # decoder width
    blocks: int = 3  # decoder residual blocks
    feature: int = 128  # hand feature size
    encoder_hidden: int = 128
    encoder_blocks: int = 3

    def to_dict(self) -> dict:
        return asdict(self)


class ResnetBlockFC(nn.Module):
    def __init__(self, size_in: int, size_out: int) -> None:
        super().__init__()
        self.fc_0 = nn.Linear(size_in, size_out)
        self.fc_1 = nn.Linear(size_out, size_out)
        nn.init.zeros_(self.fc_1.weight)
        self.shortcut = nn.Linear(size_in, size_out, bias=False) if size_in != size_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.fc_1(torch.relu(self.fc_0(torch.relu(x))))


class JointEncoder(nn.Module):
    """PointNet with residual blocks over the 21 canonical joints -> (N, feature)."""

    def __init__(self, cfg: OccupancyConfig) -> None:
        super().__init__()
        h = cfg.encoder_hidden
        self.joint_embedding = nn.Parameter(torch.randn(21, h) * 0.1)
        self.fc_pos = nn.Linear(3, h)
        self.blocks = nn.ModuleList([ResnetBlockFC(h if i == 0 else 2 * h, h) for i in range(cfg.encoder_blocks)])
        self.fc_c = nn.Linear(h, cfg.feature)

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        x = self.fc_pos(joints) + self.joint_embedding  # (N, 21, h)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.blocks) - 1:  # pool and concatenate, as in Occupancy Networks' ResnetPointnet
                pooled = x.max(dim=1, keepdim=True).values.expand_as(x)
                x = torch.cat([x, pooled], dim=-1)
        return self.fc_c(torch.relu(x.max(dim=1).values))


class CBatchNorm(nn.Module):
    """Batch normalisation whose scale and shift are predicted from the hand feature."""

    def __init__(self, feature: int, size: int) -> None:
        super().__init__()
        self.gamma = nn.Linear(feature, size)
        self.beta = nn.Linear(feature, size)
        self.bn = nn.BatchNorm1d(size, affine=False)
        nn.init.zeros_(self.gamma.weight)
        nn.init.ones_(self.gamma.bias)
        nn.init.zeros_(self.beta.weight)
        nn.init.zeros_(self.beta.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor, hand: torch.Tensor | None = None) -> torch.Tensor:
        """x (N, P, size) points of N hands, c (N, feature) -> (N, P, size); with `hand` (M,), x is
        (M, size): M points, each of hand[m]. Training: statistics over all points of the batch."""
        scale, shift = self.gamma(c), self.beta(c)  # (N, size)
        if self.bn.training:
            x = self.bn(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        else:
            # The running statistics fold into each hand's scale and shift: one pass over the points
            # instead of three (normalise, scale, shift), forward and backward.
            inv_std = torch.rsqrt(self.bn.running_var + self.bn.eps)
            shift = shift - scale * (self.bn.running_mean * inv_std)
            scale = scale * inv_std
        if hand is None:
            return torch.addcmul(shift[:, None], x, scale[:, None])
        # index_select, not scale[hand]: its backward is an index_add, 10x faster than indexing's.
        return torch.addcmul(shift.index_select(0, hand), x, scale.index_select(0, hand))


class CResnetBlock(nn.Module):
    def __init__(self, feature: int, size: int) -> None:
        super().__init__()
        self.bn_0, self.bn_1 = CBatchNorm(feature, size), CBatchNorm(feature, size)
        self.fc_0, self.fc_1 = nn.Linear(size, size), nn.Linear(size, size)
        nn.init.zeros_(self.fc_1.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor, hand: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fc_0(torch.relu(self.bn_0(x, c, hand)))
        return x + self.fc_1(torch.relu(self.bn_1(h, c, hand)))


class OccupancyNetwork(nn.Module):
    """Occupancy of right hands. Left hands: mirror points and joints along x (`probability_left`)."""

    def __init__(self, cfg: OccupancyConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or OccupancyConfig()
        self.encoder = JointEncoder(self.cfg)
        self.fc_p = nn.Linear(NUM_POINT_FEATURES, self.cfg.hidden)
        self.blocks = nn.ModuleList([CResnetBlock(self.cfg.feature, self.cfg.hidden) for _ in range(self.cfg.blocks)])
        self.bn_out = CBatchNorm(self.cfg.feature, self.cfg.hidden)
        self.fc_out = nn.Linear(self.cfg.hidden, 1)

    def encode(self, joints: torch.Tensor) -> torch.Tensor:
        """joints (N, 21, 3) canonical -> (N, feature)."""
        return self.encoder(joints)

    def decode(self, points: torch.Tensor, joints: torch.Tensor, feature: torch.Tensor,
               hand: torch.Tensor | None = None) -> torch.Tensor:
        """points (N, P, 3), joints (N, 21, 3), features (N, F), canonical -> logits (N, P).
        With `hand` (M,): points (M, 3), point m of hand[m] -> logits (M,)."""
        x = self.fc_p(bone_features(points, joints, hand))
        for block in self.blocks:
            x = block(x, feature, hand)
        return self.fc_out(torch.relu(self.bn_out(x, feature, hand)))[..., 0]

    def forward(self, points: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
        """points (N, P, 3) mm, joints (N, 21, 3) mm of right hands, any frame -> occupancy logits (N, P)."""
        p, j = to_canonical(points, joints)
        return self.decode(p, j, self.encode(j))

    def hand_feature(self, joints: torch.Tensor) -> torch.Tensor:
        """joints (N, 21, 3) mm of right hands, any frame -> (N, feature): the encoding `probability`
        conditions on. It sees the canonical joints only, so a hand moved rigidly keeps it (up to float
        rounding)."""
        return self.encode(to_canonical(joints, joints)[1])

    def probability(self, points: torch.Tensor, joints: torch.Tensor, chunk: int = 65536, logit_bias: float = 0.0,
                    near_only: bool = False, feature: torch.Tensor | None = None) -> torch.Tensor:
        """(N, P) in [0, 1]: probability that each point is inside the right hand with these joints.

        Evaluated in chunks of points so that dense grids fit in memory; differentiable.
        logit_bias > 0 inflates the hand slightly (a safety margin for refinement).
        near_only: points farther than REACH_MM from every bone get exactly 0 (and no gradient)
        without running the decoder; the others get the same value as without it (in eval mode; in
        training mode the batch-norm statistics would cover the near points only).
        feature: (N, feature) the hands' `hand_feature`s when already known (a line search over
        placements tests many placements of the same hands); None: encoded here.
        """
        p, j = to_canonical(points, joints)
        feature = self.encode(j) if feature is None else feature
        if near_only:
            return self._probability_near(p, j, feature, logit_bias)
        if p.shape[1] <= chunk:
            return torch.sigmoid(self.decode(p, j, feature) + logit_bias)
        return torch.cat([torch.sigmoid(self.decode(p[:, s : s + chunk], j, feature) + logit_bias)
                          for s in range(0, p.shape[1], chunk)], 1)

    def _probability_near(self, p: torch.Tensor, j: torch.Tensor, feature: torch.Tensor, logit_bias: float) -> torch.Tensor:
        """Canonical points (N, P, 3), joints (N, 21, 3), features (N, F) -> (N, P), decoding only near points.

        The near points of all hands go through the decoder as one flat list, each with its hand's
        index: hands differ a lot in how many points are near (on the sample, a mean of 92 and a
        maximum of 298 of 344), so a padded (N, max, 3) block would decode 3x too many points.
        """
        with torch.no_grad():
            near = nearest_bone_distance(p, j) < REACH_MM / MEAN_PALM_LENGTH  # (N, P)
        n, count = p.shape[:2]
        flat = torch.nonzero(near.reshape(-1))[:, 0]  # point index over all hands, sorted by hand
        if flat.numel() == 0:
            return p.new_zeros(n, count) + 0.0 * p.sum()  # keep the graph connected
        hand = flat // count
        logits = self.decode(p.reshape(-1, 3).index_select(0, flat), j, feature, hand)
        prob = torch.sigmoid(logits + logit_bias)
        return p.new_zeros(n * count).index_copy(0, flat, prob).reshape(n, count)

    def probability_left(self, points: torch.Tensor, joints: torch.Tensor, chunk: int = 65536, logit_bias: float = 0.0,
                         near_only: bool = False) -> torch.Tensor:
        """Occupancy of left hands (joints in the camera frame): the mirrored right-hand network."""
        flip = flip_x(points)
        return self.probability(points * flip, joints * flip, chunk, logit_bias, near_only)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
