"""Random two-hand training samples for the uplift model, made on the fly by the hand model.

A pool of pairs (`make_pool`): a right hand and a left hand (a mirrored right hand), placed close
together as interacting hands are (the left palm 20-90 mm from the right palm, resampled when their
flesh would overlap by a capsule test). Each training step views pairs from the pool (`view`): a
random rotation, 350-750 mm in front of a random pinhole camera, 2D keypoints by projection with
Gaussian pixel noise, random confidences and randomly dropped joints (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from handviewer.hand import HandModel
from handviewer.hand.skeleton import BONES
from handviewer.intersect.points import hand_points
from handviewer.occupancy.features import _RADII

_FLIP = torch.tensor([-1.0, 1.0, 1.0])
_RADII_MM = torch.as_tensor(_RADII * 84.5, dtype=torch.float32)


def capsule_overlap(joints_a: torch.Tensor, joints_b: torch.Tensor) -> torch.Tensor:
    """(N,) mm: how deep the dense points of hand b reach into hand a's bone capsules (0 = apart)."""
    pts = hand_points("dense", joints_b)  # (N, 121, 3)
    owner = torch.cat([torch.arange(21) * 0, torch.repeat_interleave(torch.arange(20), 5)])
    owner_radius = torch.cat([torch.full((21,), 7.0), _RADII_MM[owner[21:]]]).to(pts)
    a, b = joints_a[:, BONES[:, 0]], joints_a[:, BONES[:, 1]]
    ab = b - a
    t = (((pts[:, :, None] - a[:, None]) * ab[:, None]).sum(-1) / ab.square().sum(-1)[:, None].clamp_min(1e-9)).clamp(0, 1)
    dist = (pts[:, :, None] - (a[:, None] + t[..., None] * ab[:, None])).norm(dim=-1)  # (N, 121, 20)
    depth = _RADII_MM.to(pts)[None, None] + owner_radius[None, :, None] - dist
    return depth.clamp_min(0).amax((1, 2))


@dataclass
class PairPool:
    """Two-hand configurations without a camera: joints (M, 2, 21, 3) mm, right wrist at the origin;
    angles (M, 2, 31) rad and bones (M, 2, 20) mm of each hand (left as a mirrored right hand)."""

    joints: torch.Tensor
    angles: torch.Tensor
    bones: torch.Tensor

    def __len__(self) -> int:
        return len(self.joints)


def make_pool(n: int, seed: int, steps: int = 16, chunk: int = 2048) -> PairPool:
    """n interacting pairs: random hands; the left palm starts 20 mm from the right palm in a random
    direction and slides outwards in 10 mm steps until the hands' capsules no longer overlap, so the
    hands end up close, often touching, rarely interpenetrating."""
    model = HandModel("plain")
    g = torch.Generator().manual_seed(seed)
    out_j, out_a, out_b = [], [], []
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        right = model.random_params(m, seed=seed * 7919 + 2 * start)
        left = model.random_params(m, seed=seed * 7919 + 2 * start + 1)
        with torch.no_grad():
            jr = model.joints(right)
            jl0 = model.joints(left) * _FLIP
            palm_r, palm_l0 = jr[:, [0, 5, 9, 13, 17]].mean(1), jl0[:, [0, 5, 9, 13, 17]].mean(1)
            d = torch.randn(m, 3, generator=g)
            d = d / d.norm(dim=-1, keepdim=True)
            distance = torch.full((m, 1), 20.0)
            todo = torch.ones(m, dtype=torch.bool)
            for _ in range(steps):
                idx = torch.nonzero(todo)[:, 0]
                if len(idx) == 0:
                    break
                cand = palm_r[idx] + d[idx] * distance[idx] - palm_l0[idx]
                jl = jl0[idx] + cand[:, None]
                clear = (capsule_overlap(jr[idx], jl) < 1.0) & (capsule_overlap(jl, jr[idx]) < 1.0)
                todo[idx[clear]] = False
                distance[idx[~clear]] += 10.0
            shift = palm_r + d * distance - palm_l0
        out_j.append(torch.stack([jr, jl0 + shift[:, None]], 1) - jr[:, None, :1])
        out_a.append(torch.stack([right.angles, left.angles], 1))
        out_b.append(torch.stack([right.bones, left.bones], 1))
    return PairPool(torch.cat(out_j), torch.cat(out_a), torch.cat(out_b))


def random_rotations(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3, 3) uniform random rotations."""
    q = torch.randn(n, 4, generator=generator)
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ], -1).reshape(n, 3, 3)


def view(pool: PairPool, index: torch.Tensor, generator: torch.Generator, noise_px: float = 3.0, drop: float = 0.1):
    """A camera view of the pairs `index`: (keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3),
    joints (N, 2, 21, 3) mm camera frame). Each pair is turned at random (hands seen from any side),
    put 350-750 mm away, projected, and given pixel noise, random confidences and dropped joints."""
    n = len(index)
    joints = pool.joints[index]
    centroid = joints.mean((1, 2), keepdim=True)
    rot = random_rotations(n, generator)
    joints = (joints - centroid) @ rot.transpose(1, 2)[:, None]
    depth = 350 + 400 * torch.rand(n, generator=generator)
    centre = torch.stack([60 * torch.randn(n, generator=generator), 60 * torch.randn(n, generator=generator), depth], -1)
    joints = joints + centre[:, None, None]
    f = 600 + 800 * torch.rand(n, generator=generator)
    K = torch.zeros(n, 3, 3)
    K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = f, f, 320.0, 240.0, 1.0
    uv = joints[..., :2] / joints[..., 2:3] * f[:, None, None, None] + torch.tensor([320.0, 240.0])
    uv = uv + noise_px * torch.rand(n, 1, 1, 1, generator=generator) * torch.randn(uv.shape, generator=generator)
    conf = 0.6 + 0.4 * torch.rand(n, 2, 21, 1, generator=generator)
    kp = torch.cat([uv, conf], -1)
    dropped = torch.rand(n, 2, 21, generator=generator) < drop * torch.rand(n, 1, 1, generator=generator)
    kp[dropped] = float("nan")
    return kp, K, joints
