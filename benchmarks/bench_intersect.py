"""Occupancy and intersection figures (issue: occupancy network, loss and metrics).

    python benchmarks/bench_intersect.py [--pairs 1000] [--baseline-pairs 20]

Random interacting pairs: two-hand configurations from the uplift pool (hands just clear of each
other) with the left hand pushed 0-40 mm towards the right one, so that about half intersect. Prints: time per pair of the ground-
truth count (125k grid) against trimesh's `contains` on the same grid (ratio, same process);
correlation between occupancy-based and ground-truth counts; intersection-loss throughput (pairs/s)
for the six variants with and without the bounding-box filter (batch 256, forward + backward);
the occupancy network's size and the time to evaluate a 125k-point density grid.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, machine  # noqa: E402

from handviewer.device_constants import flip_x  # noqa: E402
from handviewer.geometry import pair_grid  # noqa: E402
from handviewer.hand import HandModel, fit_ik  # noqa: E402
from handviewer.hand.skeleton import MIRROR_X  # noqa: E402
from handviewer.intersect import count_intersections, intersection_loss, occupancy_count  # noqa: E402
from handviewer.occupancy import load_default  # noqa: E402
from handviewer.uplift.synthetic import make_pool  # noqa: E402


def make_pairs(n: int, seed: int):
    """Plain-mesh vertices (n, 2, V, 3) and joints (n, 2, 21, 3) of pushed-together pairs."""
    pool = make_pool(n, seed)
    g = torch.Generator().manual_seed(seed)
    j = pool.joints.clone()
    pr, pl = j[:, 0, [0, 5, 9, 13, 17]].mean(1), j[:, 1, [0, 5, 9, 13, 17]].mean(1)
    d = (pr - pl) / (pr - pl).norm(dim=-1, keepdim=True)
    j[:, 1] += (d * 40.0 * torch.rand(n, 1, generator=g))[:, None]  # 0-40 mm deeper than just clear
    model = HandModel("plain")
    right, _ = fit_ik(j[:, 0])
    left, _ = fit_ik(j[:, 1] * flip_x(j))
    with torch.no_grad():
        vr = model.vertices(right).double().numpy()
        vl = model.vertices(left).double().numpy() * MIRROR_X
        jr = model.joints(right)
        jl = model.joints(left) * flip_x(jr)
    return model, vr, vl, jr, jl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--baseline-pairs", type=int, default=20)
    parser.add_argument("--throughput-only", action="store_true", help="only the loss throughput and density grid")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    net = load_default()
    print(f"occupancy network: {net.num_parameters():,} parameters (paper: about 7 M)")

    model, vr, vl, jr, jl = make_pairs(args.pairs, seed=2024)
    if not args.throughput_only:
        ground_truth(args, net, model, vr, vl, jr, jl)
    throughput(args, net, vr, vl, jr, jl)


def ground_truth(args, net, model, vr, vl, jr, jl) -> None:
    counts, t0 = [], time.perf_counter()
    for i in range(args.pairs):
        counts.append(count_intersections(vr[i], model.faces, vl[i], model.faces_left)[0])
    ours = (time.perf_counter() - t0) / args.pairs
    counts = np.array(counts)
    print(f"[ground truth] {args.pairs} pairs, {np.mean(counts > 0):.0%} intersecting; count time {ours * 1000:.0f} ms/pair")

    import trimesh

    t0 = time.perf_counter()
    agree = 0
    for i in range(args.baseline_pairs):
        grid, _ = pair_grid(torch.as_tensor(vr[i]), torch.as_tensor(vl[i]), 50)
        g = grid.numpy()
        a = trimesh.Trimesh(vr[i], model.faces, process=False).contains(g)
        b = trimesh.Trimesh(vl[i], model.faces_left, process=False).contains(g)
        agree += int((a & b).sum() == counts[i])
    base = (time.perf_counter() - t0) / args.baseline_pairs
    print(f"[ground truth] trimesh contains on the same 125k grid: {base * 1000:.0f} ms/pair; ours is {base / ours:.1f}x faster; "
          f"same count on {agree}/{args.baseline_pairs} pairs")

    with torch.no_grad():
        occ_mesh = occupancy_count(net, jr, jl, torch.as_tensor(vr, dtype=torch.float32), torch.as_tensor(vl, dtype=torch.float32)).numpy()
    r = np.corrcoef(occ_mesh, counts)[0, 1]
    rho = np.corrcoef(np.argsort(np.argsort(occ_mesh)), np.argsort(np.argsort(counts)))[0, 1]
    both = ((occ_mesh > 0) == (counts > 0)).mean()
    print(f"[occupancy count] vertices of one hand with p > 0.5 in the other: Pearson r = {r:.3f}, Spearman = {rho:.3f} "
          f"with the ground-truth count; intersecting/not agrees on {both:.1%} of pairs")


def throughput(args, net, vr, vl, jr, jl) -> None:
    batch = 256
    idx = torch.arange(batch) % args.pairs
    jrb, jlb = jr[idx].clone(), jl[idx].clone()
    vrb = torch.as_tensor(vr[idx], dtype=torch.float32)
    vlb = torch.as_tensor(vl[idx], dtype=torch.float32)
    print(f"[loss throughput] batch {batch} pairs, forward + backward, pairs/s: with / without bounding-box filter, "
          f"and without the near-point culling (every point through the decoder, the baseline):")
    for point_set in ("sparse", "dense", "mesh"):
        for both in (False, True):
            rates = []
            for bbox, near in ((True, True), (False, True), (True, False)):
                def step():
                    a, b = jrb.clone().requires_grad_(True), jlb.clone().requires_grad_(True)
                    loss = intersection_loss(net, a, b, point_set=point_set, both=both, bbox_filter=bbox,
                                             vertices_right=vrb, vertices_left=vlb, near_only=near)
                    loss.sum().backward()
                rates.append(batch / best_of(step, 2))
            name = f"{point_set}-{'both' if both else 'single'}"
            print(f"  {name:13s} {rates[0]:8.0f} / {rates[1]:8.0f}   all points {rates[2]:8.0f}: culling {rates[0] / rates[2]:.1f}x")
    grid = torch.randn(1, 125_000, 3) * 40 + jr[:1].mean(1, keepdim=True)
    with torch.no_grad():
        t = best_of(lambda: net.probability(grid, jr[:1]), 2)
    print(f"[density grid] 125,000 points: {t:.2f} s")


if __name__ == "__main__":
    main()
