"""Exact intersection metrics of a hand pair against the grid methods they replace (issue: "Speed:
exact metrics in milliseconds").

    python benchmarks/bench_exact_metrics.py [--pairs 30] [--seed 0] [--repeat 3] [--threads 2]

Pairs: `random_scenes(pairs, seed, verify=False)` (hands placed just clear of each other), the left
hand then pushed towards the right one along the scene's approach direction by its gap plus
0-15 mm, so that every pair intersects. One process, the same pairs for every method. Prints, per
pair (mean over pairs of the best of --repeat calls; wall time and CPU time of the process):
- count: `count_intersections` (exact volume + grid points inside the exact body) against
  `count_intersections_grid` (the old 50^3 winding-number grid), and the ratio;
- depths: `penetration_depths` alone (it builds the body itself), after the count (the pipeline's
  order: the body is reused), against `penetration_depths_dense` (the old signed distances);
- count + depths together (what `Pipeline.metrics` pays per frame);
- peers that are installed: manifold3d used plainly (meshes built from scratch, boolean, volume);
  open3d and libigl when importable (not dependencies; skipped otherwise);
- agreement: equal counts, |grid volume - exact volume|, equal depths;
- the new path with torch.set_num_threads(1) and (2).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

import handviewer.intersect.metrics as M  # noqa: E402
from handviewer.synth.scenes import _model, hand_vertices, random_scenes  # noqa: E402


def intersecting_pairs(n: int, seed: int):
    """(n, 2, V, 3) float64 mm plain-mesh vertices (right, mirrored left), faces, faces_left."""
    scenes = random_scenes(n, seed=seed, verify=False)
    model = _model("plain")
    verts = hand_vertices(model, scenes.params_right, scenes.params_left)
    push = scenes.gap_mm + np.random.default_rng(seed).uniform(0.0, 15.0, n)  # (n,) mm
    verts[:, 1] -= (push[:, None] * scenes.approach)[:, None]  # approach: right -> left
    return verts, np.asarray(model.faces), np.asarray(model.faces_left)


def per_pair(fn, n: int, repeat: int, fresh: bool = True) -> tuple[float, float]:
    """(wall ms, CPU ms) per pair: mean over pairs of the best of `repeat` calls of fn(i)."""
    walls, cpus = [], []
    for i in range(n):
        bw = bc = float("inf")
        for _ in range(repeat):
            if fresh:
                M._last = None  # no reuse of the previous call's body
            w, c = time.perf_counter(), time.process_time()
            fn(i)
            bw, bc = min(bw, time.perf_counter() - w), min(bc, time.process_time() - c)
        walls.append(bw)
        cpus.append(bc)
    return 1000 * float(np.mean(walls)), 1000 * float(np.mean(cpus))


def show(name: str, t: tuple[float, float], ref: tuple[float, float] | None = None) -> None:
    ratio = f"   {ref[0] / t[0]:6.1f}x faster (wall)" if ref else ""
    print(f"  {name:44s} {t[0]:8.2f} ms wall {t[1]:8.2f} ms CPU{ratio}")


def peers(V, fr, fl, n, repeat) -> None:
    import manifold3d

    def plain(i):
        a = manifold3d.Manifold(manifold3d.Mesh64(np.ascontiguousarray(V[i, 0]), fr.astype(np.uint64)))
        b = manifold3d.Manifold(manifold3d.Mesh64(np.ascontiguousarray(V[i, 1]), fl.astype(np.uint64)))
        return (a ^ b).volume()

    show("peer: manifold3d plain (build, ^, volume)", per_pair(plain, n, repeat))
    try:
        import open3d as o3d
    except ImportError:
        print("  peer: open3d not installed (skipped)")
    else:
        def occupancy(i):
            scene = o3d.t.geometry.RaycastingScene()
            scene.add_triangles(V[i, 0].astype(np.float32), fr.astype(np.uint32))
            lo, hi = np.minimum(V[i, 0].min(0), V[i, 1].min(0)), np.maximum(V[i, 0].max(0), V[i, 1].max(0))
            g = M.pair_grid(torch.as_tensor(lo[None]), torch.as_tensor(hi[None]), 50)[0].numpy().astype(np.float32)
            return scene.compute_occupancy(o3d.core.Tensor(g))
        show("peer: open3d compute_occupancy (one hand)", per_pair(occupancy, n, repeat))
    try:
        import igl  # noqa: F401
    except ImportError:
        print("  peer: libigl not installed (skipped)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the old methods")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    V, fr, fl = intersecting_pairs(args.pairs, args.seed)
    n, rep = args.pairs, args.repeat
    args_of = lambda i: (V[i, 0], fr, V[i, 1], fl)  # noqa: E731
    M.count_intersections(*args_of(0))  # first call: manifold3d templates of both face arrays
    new = [M.count_intersections(*args_of(i)) for i in range(n)]
    old = [M.count_intersections_grid(*args_of(i)) for i in range(n)]
    pen_new = np.array([M.penetration_depths(*args_of(i)) for i in range(n)])
    pen_old = np.array([M.penetration_depths_dense(*args_of(i)) for i in range(n)])
    vol_new, vol_old = np.array([x[1] for x in new]), np.array([x[1] for x in old])
    print(f"{n} pairs (seed {args.seed}): {int(np.sum(vol_new > 0))} intersecting, exact volume "
          f"{vol_new.min():.4f}-{vol_new.max():.2f} cm^3 (median {np.median(vol_new):.3f})")
    big = vol_new > 0.5
    rel = np.median(np.abs(vol_old[big] - vol_new[big]) / vol_new[big]) if big.any() else float("nan")
    print(f"agreement: count equal on {sum(a[0] == b[0] for a, b in zip(new, old))}/{n} pairs; "
          f"|grid volume - exact| mean {np.abs(vol_old - vol_new).mean():.3f} cm^3, median relative "
          f"{rel:.1%} above 0.5 cm^3; depths max |diff| {np.abs(pen_new - pen_old).max():.2e} mm")

    print(f"per pair (best of {rep}), torch {torch.get_num_threads()} threads:")
    t_old = per_pair(lambda i: M.count_intersections_grid(*args_of(i)), n, rep)
    t_new = per_pair(lambda i: M.count_intersections(*args_of(i)), n, rep)
    show("old count_intersections_grid (50^3 winding)", t_old)
    show("new count_intersections (exact volume)", t_new, t_old)
    p_old = per_pair(lambda i: M.penetration_depths_dense(*args_of(i)), n, rep)
    p_new = per_pair(lambda i: M.penetration_depths(*args_of(i)), n, rep)
    show("old penetration_depths_dense", p_old)
    show("new penetration_depths (alone)", p_new, p_old)

    def after_count(i):  # the body is built by the count (untimed), reused by the depths
        M._last = None
        M.count_intersections(*args_of(i))
        w, c = time.perf_counter(), time.process_time()
        M.penetration_depths(*args_of(i))
        return time.perf_counter() - w, time.process_time() - c
    cached = np.array([[after_count(i) for _ in range(rep)] for i in range(n)]).min(1).mean(0) * 1000
    show("new penetration_depths after the count", tuple(cached), p_old)
    both_old = (t_old[0] + p_old[0], t_old[1] + p_old[1])
    both = per_pair(lambda i: (M.count_intersections(*args_of(i)), M.penetration_depths(*args_of(i))), n, rep)
    show("old count + depths (sum)", both_old)
    show("new count + depths (one body)", both, both_old)
    peers(V, fr, fl, n, rep)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        t = per_pair(lambda i: (M.count_intersections(*args_of(i)), M.penetration_depths(*args_of(i))), n, rep)
        show(f"new count + depths, torch {threads} thread(s)", t)


if __name__ == "__main__":
    main()
