"""Held-out evaluation of uplift weights: pose error and ground-truth intersections of predicted pairs."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import torch

from handviewer.device_constants import flip_x
from handviewer.hand import HandModel
from handviewer.hand.params import HandParams
from handviewer.intersect import count_intersections
from handviewer.uplift.predict import relative_joints
from handviewer.uplift.synthetic import make_pool, view

@torch.no_grad()
def evaluate(net, pairs: int = 500, seed: int = 424_242) -> Generator[tuple[float, str], None, dict]:
    """MPJPE (mm; each hand root-relative, and both hands relative to the right wrist) and the share
    of predicted pairs whose plain meshes intersect (ground-truth count on the 125k grid), on `pairs`
    views of a held-out pool (seed unlike the training seeds)."""
    pool = make_pool(pairs, seed)
    kp, K, joints = view(pool, torch.arange(pairs), torch.Generator().manual_seed(seed))
    right, left, offset = net(kp, K)
    rel = relative_joints(right, left, offset)
    gt = joints - joints[:, :1, :1]
    per_hand = ((rel - rel[:, :, :1]) - (gt - gt[:, :, :1])).norm(dim=-1).mean((1, 2))
    pair_err = (rel - gt).norm(dim=-1).mean((1, 2))
    model = HandModel("plain")
    zero = lambda p: HandParams(rot=p.rot, trans=torch.zeros_like(p.trans), bones=p.bones, angles=p.angles)  # noqa: E731
    vr = model.vertices(zero(right)).double().numpy()
    vl = model.vertices(zero(left))
    vl = (vl * flip_x(vl) + rel[:, 1, :1]).double().numpy()
    counts, volumes = [], []
    for i in range(pairs):
        c, v, _ = count_intersections(vr[i], model.faces, vl[i], model.faces_left)
        counts.append(c)
        volumes.append(v)
        if (i + 1) % 50 == 0:
            yield (i + 1) / pairs, f"{i + 1}/{pairs} pairs"
    counts, volumes = np.array(counts), np.array(volumes)
    return {
        "pairs": pairs,
        "mpjpe_root_relative_mm": float(per_hand.mean()),
        "mpjpe_pair_mm": float(pair_err.mean()),
        "intersecting_share": float((counts > 0).mean()),
        "mean_intersection_count": float(counts.mean()),
        "mean_intersection_volume_cm3": float(volumes.mean()),
    }
