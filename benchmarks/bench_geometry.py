"""Geometry figures: inside-test speed vs trimesh / manifold3d, grids, distances, self-intersections.

    python benchmarks/bench_geometry.py [--points 8192] [--poses 300] [--threads 0]

Meshes: `handviewer.hand.HandModel` (plain and refined) when it is importable, otherwise synthetic
watertight hands built with manifold3d (palm + five capsules, 704 and 1580 faces).
Prints, in one process so the ratios compare like with like:
  - winding numbers / inside test: points per second on the plain and refined hand, at 1 thread
    and at torch's default thread count. Each figure is the best of 3 runs, by wall clock and by
    process CPU time ("per CPU-s": what a dedicated core would give; on a shared machine the
    wall clock of a multi-threaded run can be 10-50x worse when another process holds a core);
  - baselines on the same points: trimesh `mesh.contains` (needs rtree or embree; when neither is
    installed trimesh's own ray-triangle code is run with a numpy linear-scan stand-in for the
    r-tree, and that is said), and ray-crossing parity with manifold3d's BVH `ray_cast`
    (one Python call per point); agreement with ours and the speed ratio;
  - the 125,000-point pair grid: time to label it against both hands and the overlap volume;
Everything except the thread comparison runs at --threads (default 1).
  - signed distances of one hand's vertices to the other hand (penetration depth AVE-P / MAX-P);
  - self-intersection test time per mesh over random poses (median, 95th percentile, max).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.geometry import (  # noqa: E402
    inside_all,
    inside_mesh,
    pair_grid,
    self_intersections,
    signed_distance,
    winding_numbers,
)


DEFAULT_THREADS = torch.get_num_threads()


# ----------------------------------------------------------------------------------------- meshes
def synthetic_hand(segments: int) -> tuple[np.ndarray, np.ndarray]:
    """A watertight hand-like solid: ellipsoid palm and five capsule fingers, unioned by manifold3d."""
    import manifold3d as m3

    parts = [m3.Manifold.sphere(1.0, segments).scale([45.0, 12.0, 50.0])]
    bases = [(-38, 10, -60, 55, 10), (-20, 45, -10, 75, 9), (0, 50, 0, 82, 9), (18, 45, 8, 76, 8.5), (33, 35, 18, 60, 7.5)]
    for x, z, angle, length, radius in bases:
        a = np.deg2rad(angle)
        p0 = np.array([x, 0.0, z])
        p1 = p0 + length * np.array([np.sin(a), 0.0, np.cos(a)])
        ends = [m3.Manifold.sphere(radius, segments).translate(p0), m3.Manifold.sphere(0.85 * radius, segments).translate(p1)]
        parts.append(m3.Manifold.batch_hull(ends))
    mesh = m3.Manifold.batch_boolean(parts, m3.OpType.Add).to_mesh()
    return np.asarray(mesh.vert_properties)[:, :3].astype(np.float64), np.asarray(mesh.tri_verts).astype(np.int64)


def hand_meshes(poses: int) -> dict:
    """{'plain'|'refined': (vertices (N, V, 3) float32 torch, faces (F, 3) int64 torch, source)}."""
    out = {}
    try:
        from handviewer.hand import HandModel

        for detail in ("plain", "refined"):
            model = HandModel(detail)
            verts = model.vertices(model.random_params(poses, seed=11)).float()
            out[detail] = (verts, torch.as_tensor(model.faces).long(), "HandModel")
        return out
    except Exception as exc:  # the hand model is developed alongside; fall back to synthetic hands
        print(f"(HandModel unavailable: {exc!r}; using synthetic hands)")
    rng = np.random.default_rng(11)
    for detail, segments in (("plain", 10), ("refined", 18)):
        v, f = synthetic_hand(segments)
        # "Poses": smooth random warps of a few millimetres.
        warps = [v + 4.0 * np.sin(v[:, [1, 2, 0]] / 20.0 + rng.uniform(0, 6, 3)) for _ in range(poses)]
        out[detail] = (torch.tensor(np.stack(warps), dtype=torch.float32), torch.tensor(f), "synthetic")
    return out


# -------------------------------------------------------------------------------------- baselines
class _LinearScanTree:
    """Stand-in for the r-tree trimesh's ray tests expect: `.bounds` and `.intersection(box)`."""

    def __init__(self, triangles: np.ndarray) -> None:
        self.lo, self.hi = triangles.min(axis=1), triangles.max(axis=1)
        self.bounds = np.concatenate([self.lo.min(axis=0), self.hi.max(axis=0)])

    def intersection(self, box) -> np.ndarray:
        box = np.asarray(box)
        return np.flatnonzero(np.all((self.lo <= box[3:]) & (self.hi >= box[:3]), axis=1))


def trimesh_contains(vertices: np.ndarray, faces: np.ndarray):
    """(callable points -> bool, description) for trimesh's `contains`."""
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    try:
        import embreex  # noqa: F401

        return mesh.contains, "trimesh.contains (embree)"
    except ImportError:
        pass
    try:
        import rtree  # noqa: F401

        return mesh.contains, "trimesh.contains (rtree)"
    except ImportError:
        mesh._cache["triangles_tree"] = _LinearScanTree(mesh.triangles)
        return mesh.contains, "trimesh.contains (ray_triangle; rtree/embree missing: numpy linear-scan broad phase)"


def manifold_parity(vertices: np.ndarray, faces: np.ndarray):
    """(callable points -> bool, description): odd number of manifold3d ray_cast hits along a fixed ray."""
    import manifold3d as m3

    solid = m3.Manifold(m3.Mesh(vert_properties=vertices.astype(np.float32), tri_verts=faces.astype(np.uint32)))
    if solid.status() != m3.Error.NoError:
        return None, f"manifold3d rejected the mesh ({solid.status()})"
    reach = 4.0 * float(np.linalg.norm(np.ptp(vertices, axis=0)))
    direction = np.array([0.4395064455, 0.617598629942, 0.652231566745]) * reach

    def contains(points: np.ndarray) -> np.ndarray:
        return np.array([len(solid.ray_cast(p, p + direction)) % 2 == 1 for p in points])

    return contains, "manifold3d ray_cast parity (BVH, one Python call per point)"


# ---------------------------------------------------------------------------------------- figures
def timed(fn, repeat: int = 3) -> tuple[float, float]:
    """(best wall-clock seconds, best process CPU seconds) over `repeat` calls."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu


def with_threads(n: int, fn):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        return fn()
    finally:
        torch.set_num_threads(before)


def winding_report(name: str, verts: torch.Tensor, faces: torch.Tensor, n_points: int, n_base: int) -> None:
    v = verts[0]
    lo, hi = v.min(0).values, v.max(0).values
    pad = 0.05 * (hi - lo)
    gen = torch.Generator().manual_seed(0)
    pts = lo - pad + (hi - lo + 2 * pad) * torch.rand(n_points, 3, generator=gen)  # (P, 3) mm, in the padded box
    print(f"[winding/{name}] {len(faces)} faces, {n_points} points uniform in the hand's box (+5 % each side)")
    for threads in sorted({1, DEFAULT_THREADS}):
        (w_w, w_c), (i_w, i_c) = (
            with_threads(threads, lambda fn=fn: timed(lambda: fn(pts, v, faces))) for fn in (winding_numbers, inside_mesh)
        )
        if threads == 1:
            ours_cpu = w_c / n_points  # CPU seconds per point, 1 thread: the baselines' terms
        print(f"  ours, {threads} thread(s): winding_numbers {n_points / w_w:,.0f} points/s wall "
              f"({n_points / w_c:,.0f} per CPU-s); inside_mesh (box cull) {n_points / i_w:,.0f} points/s wall "
              f"({n_points / i_c:,.0f} per CPU-s)")
    ours = inside_mesh(pts, v, faces).numpy()
    winding = winding_numbers(pts.double(), v.double(), faces).numpy()
    print(f"  inside fraction {ours.mean():.1%}; winding numbers within 0.01 of 0 or 1: "
          f"{np.mean(np.minimum(np.abs(winding), np.abs(winding - 1)) < 0.01):.2%}")
    sub = pts[:n_base].double().numpy()
    vn, fn = v.double().numpy(), faces.numpy()
    for make in (trimesh_contains, manifold_parity):
        contains, label = make(vn, fn)
        if contains is None:
            print(f"  baseline {label}")
            continue
        contains(sub[:16])  # warm-up (builds caches)
        theirs = np.asarray(contains(sub))
        wall, cpu = timed(lambda: contains(sub), 2)
        agree = np.mean(theirs == ours[:n_base])
        print(f"  baseline {label}: {n_base / wall:,.0f} points/s wall ({n_base / cpu:,.0f} per CPU-s) on {n_base} points; "
              f"agreement with ours {agree:.2%}; ours (winding_numbers, 1 thread) is {cpu / n_base / ours_cpu:.1f}x "
              f"faster per CPU-s")


def grid_report(verts: torch.Tensor, faces: torch.Tensor) -> None:
    a = verts[0]
    b = verts[1] - verts[1].mean(0) + a.mean(0) + torch.tensor([25.0, 10.0, 0.0])  # overlapping pair
    points, cell = pair_grid(a, b, n=50)
    pair = torch.stack([a, b])
    wall, cpu = timed(lambda: inside_mesh(points, pair, faces), 2)
    inside = inside_mesh(points, pair, faces)
    both = (inside[0] & inside[1]).sum().item()
    wall_all, cpu_all = timed(lambda: inside_all(points, pair, faces), 2)
    assert torch.equal(inside_all(points, pair, faces), inside[0] & inside[1])
    print(f"[grid] 50^3 = {len(points):,} points over the union box, both hands of {len(faces)} faces "
          f"({torch.get_num_threads()} thread): inside_mesh on both {wall * 1e3:.0f} ms wall, {cpu * 1e3:.0f} ms CPU; "
          f"inside_all (common box, then hand B only where inside A) {wall_all * 1e3:.0f} ms wall, {cpu_all * 1e3:.0f} ms CPU; "
          f"{both} points in both = {both * cell.item() / 1000:.1f} cm^3 (cell {cell.item():.2f} mm^3)")


def distance_report(verts: torch.Tensor, faces: torch.Tensor) -> None:
    a = verts[0]
    b = verts[1] - verts[1].mean(0) + a.mean(0) + torch.tensor([25.0, 10.0, 0.0])
    wall, cpu = timed(lambda: signed_distance(b, a, faces))
    depth = (-signed_distance(b, a, faces)).clamp(min=0)
    inside = depth > 0
    print(f"[distance] signed distance of {len(b)} vertices to a {len(faces)}-face hand: {wall * 1e3:.1f} ms wall, "
          f"{cpu * 1e3:.1f} ms CPU; penetrating vertices {int(inside.sum())}, "
          f"AVE-P {depth[inside].mean().item() if inside.any() else 0.0:.2f} mm, MAX-P {depth.max().item():.2f} mm")


def self_intersection_report(name: str, verts: torch.Tensor, faces: torch.Tensor) -> None:
    f = faces.numpy()
    vs = verts.double().numpy()
    self_intersections(vs[0], f)  # warm-up
    times, cpus, hits = [], [], 0
    for v in vs:
        start, cpu = time.perf_counter(), time.process_time()
        hits += len(self_intersections(v, f)) > 0
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    ms, cpu_ms = np.array(times) * 1e3, np.array(cpus) * 1e3
    print(f"[self-intersection/{name}] {len(f)} faces, {len(vs)} poses: wall median {np.median(ms):.2f} ms, "
          f"p95 {np.percentile(ms, 95):.2f} ms, max {ms.max():.2f} ms per mesh (CPU median {np.median(cpu_ms):.2f} ms); "
          f"self-intersecting poses {hits / len(vs):.1%}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=8192, help="points for the winding-number timing")
    parser.add_argument("--baseline-points", type=int, default=2048, help="points given to the (slower) baselines")
    parser.add_argument("--poses", type=int, default=300, help="random poses for the self-intersection timing")
    parser.add_argument("--threads", type=int, default=1, help="torch threads outside the thread comparison")
    args = parser.parse_args(argv)
    print(machine())
    torch.set_num_threads(args.threads)
    meshes = hand_meshes(max(args.poses, 2))
    for name, (verts, faces, source) in meshes.items():
        print(f"mesh '{name}': {source}, {verts.shape[1]} vertices, {len(faces)} faces")
    for name, (verts, faces, _) in meshes.items():
        winding_report(name, verts, faces, args.points, min(args.baseline_points, args.points))
    verts, faces, _ = meshes["plain"]
    grid_report(verts, faces)
    verts, faces, _ = meshes["refined"]
    distance_report(verts, faces)
    for name, (verts, faces, _) in meshes.items():
        self_intersection_report(name, verts, faces)


if __name__ == "__main__":
    main()
