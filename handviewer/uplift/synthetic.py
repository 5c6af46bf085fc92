"""Random two-hand training samples for the uplift model, made on the fly by the hand model.

A pool of pairs (`make_pool`): a right hand and a left hand (a mirrored right hand), placed close
together as interacting hands are (the left palm 20-90 mm from the right palm, resampled when their
flesh would overlap by a capsule test). Each training step views pairs from the pool (`view`): a
random rotation, 350-750 mm in front of a random pinhole camera, 2D keypoints by projection with
Gaussian pixel noise, random confidences and randomly dropped joints (NaN), and joints hidden behind
flesh (`occluded_joints`) made uncertain or dropped, as a 2D detector reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from handviewer.device_constants import flip_x
from handviewer.hand import HandModel
from handviewer.hand.skeleton import BONES
from handviewer.intersect.points import hand_points
from handviewer.occupancy.canonical import MEAN_PALM_LENGTH
from handviewer.occupancy.features import NOMINAL_RADII

_RADII_MM = torch.as_tensor(NOMINAL_RADII * MEAN_PALM_LENGTH, dtype=torch.float32)


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
    angles (M, 2, 36) rad and bones (M, 2, 20) mm of each hand (left as a mirrored right hand)."""

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
            jl0 = model.joints(left)
            jl0 = jl0 * flip_x(jl0)
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


# Both hands' bones as (40, 2) indices into the pair's 42 joints (right 0-20, left 21-41), their
# flesh radii (40,) mm, and which bones each joint belongs to (42, 40) (a joint is not hidden by them).
_PAIR_BONES = torch.cat([torch.as_tensor(BONES), torch.as_tensor(BONES) + 21])
_PAIR_RADII = torch.cat([_RADII_MM, _RADII_MM])
_INCIDENT = (torch.arange(42)[:, None, None] == _PAIR_BONES[None]).any(-1)


def occluded_joints(joints: torch.Tensor, K: torch.Tensor, tolerance_mm: float = 25.0) -> torch.Tensor:
    """(N, 2, 21) bool: joints the camera cannot see, hidden behind either hand's flesh.

    joints (N, 2, 21, 3) mm camera frame, K (N, 3, 3). Flesh is approximated by each bone's capsule
    (its nominal radius): a joint is hidden when its projection falls inside a capsule's projection
    and that capsule's near surface lies more than `tolerance_mm` in front of it: an approximation of
    the sample's rendering-based visibility (`synth.raster.joint_visibility`; joints sit 7-21 mm under
    the skin, hence the tolerance), with which it agrees on 95.6 % of the sample's joints."""
    n = len(joints)
    flat = joints.reshape(n, 42, 3)
    f, c = K[:, 0, 0][:, None, None], K[:, :2, 2][:, None]  # (N, 1, 1), (N, 1, 2)
    uv = flat[..., :2] / flat[..., 2:3] * f + c  # (N, 42, 2) px
    a, b = _PAIR_BONES[:, 0], _PAIR_BONES[:, 1]
    pa, pb, za, zb = uv[:, a], uv[:, b], flat[:, a, 2], flat[:, b, 2]  # (N, 40, 2), (N, 40)
    ab = pb - pa
    rel = uv[:, :, None] - pa[:, None]  # (N, 42, 40, 2)
    t = ((rel * ab[:, None]).sum(-1) / ab.square().sum(-1)[:, None].clamp_min(1e-9)).clamp(0, 1)
    dist = (rel - t[..., None] * ab[:, None]).norm(dim=-1)  # 2D distance to the bone, px
    depth = za[:, None] + t * (zb - za)[:, None]  # the bone's axis depth there, mm
    radius_px = _PAIR_RADII.to(joints) * f / depth.clamp_min(1.0)
    hidden = (dist < radius_px) & (flat[..., 2:3] - (depth - _PAIR_RADII.to(joints)) > tolerance_mm) & ~_INCIDENT
    return hidden.any(-1).reshape(n, 2, 21)


def view(pool: PairPool, index: torch.Tensor, generator: torch.Generator, noise_px: float = 3.0, drop: float = 0.1,
         uncertain: float = 0.06, occluded_drop: float = 0.8, occlusion: bool = True):
    """A camera view of the pairs `index`: (keypoints (N, 2, 21, 3) px + confidence, K (N, 3, 3),
    joints (N, 2, 21, 3) mm camera frame). Each pair is turned at random (hands seen from any side),
    put 350-750 mm away, projected, and given pixel noise (up to `noise_px`), confidences U(0.6, 1)
    and dropped joints (up to a share `drop`). As 2D detectors do, joints hidden behind flesh
    (`occluded_joints`; a share of them drawn per view from U(0, 1)) and a share `uncertain` of the
    others get confidence U(0.2, 0.5) and 5 px noise, and hidden ones are dropped with a probability
    drawn per view from U(0, occluded_drop). occlusion=False: none of that (with noise_px = drop = 0,
    every joint exactly projected)."""
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
    hidden = occluded_joints(joints, K) if occlusion else torch.zeros(n, 2, 21, dtype=torch.bool)
    uncertain = uncertain if occlusion else 0.0
    # Detectors differ: some (OpenPose) lower the confidence of hidden joints, others (MediaPipe, or
    # ground truth projected) report every joint alike; so how often a hidden joint is marked
    # uncertain is drawn per view from U(0, 1).
    hidden_unsure = hidden & (torch.rand(n, 2, 21, generator=generator) < torch.rand(n, 1, 1, generator=generator))
    unsure = hidden_unsure | (torch.rand(n, 2, 21, generator=generator) < uncertain)
    sigma = torch.where(unsure, 5.0, noise_px * torch.rand(n, 1, 1, generator=generator))
    uv = uv + sigma[..., None] * torch.randn(uv.shape, generator=generator)
    conf = torch.where(unsure, 0.2 + 0.3 * torch.rand(n, 2, 21, generator=generator),
                       0.6 + 0.4 * torch.rand(n, 2, 21, generator=generator))
    kp = torch.cat([uv, conf[..., None]], -1)
    dropped = torch.rand(n, 2, 21, generator=generator) < drop * torch.rand(n, 1, 1, generator=generator)
    dropped |= hidden & (torch.rand(n, 2, 21, generator=generator) < occluded_drop * torch.rand(n, 1, 1, generator=generator))
    kp[dropped] = float("nan")
    return kp, K, joints
