"""Helpers of the pipeline tests (a unique module name: every test folder has its own conftest)."""

import torch


def intersecting_pairs(n: int, seed: int, depth_mm: float = 12.0):
    """n pairs from the uplift pool, the left hand pushed `depth_mm` into the right hand: joints
    (n, 2, 21, 3) mm at 500 mm from the camera, plus the un-pushed ground truth."""
    from handviewer.uplift.synthetic import make_pool

    pool = make_pool(n, seed)
    truth = pool.joints + torch.tensor([0.0, 0.0, 500.0])
    pr = truth[:, 0, [0, 5, 9, 13, 17]].mean(1)
    pl = truth[:, 1, [0, 5, 9, 13, 17]].mean(1)
    towards = (pr - pl) / (pr - pl).norm(dim=-1, keepdim=True)
    gap = (pr - pl).norm(dim=-1, keepdim=True)
    pushed = truth.clone()
    # Move the left hand towards the right until the palms are `depth_mm` closer than touching (about 60 mm).
    pushed[:, 1] += (towards * (gap - 60.0 + depth_mm).clamp_min(0.0))[:, None]
    return pushed.numpy(), truth.numpy()
