"""Frame pipeline figures (issue: frame pipeline).

    python benchmarks/bench_pipeline.py [--frames 100] [--steps 30]

1. Evaluation on data with ground truth: held-out synthetic sequences of interacting hands
   (`handviewer.synth`), corrupted as real 3D estimators err (rotation and relative-depth errors that
   create intersections, 2D noise). The corrupted 3D joints go through IK and refinement (with the
   noisy 2D keypoints); before/after: share of intersecting frames, ground-truth intersection volume,
   AVE-P/MAX-P, MPJPE against ground truth, and the share of intersecting frames resolved.
2. Speed on CPU: per-frame latency of uplift + IK + refinement at batch 1, and whole-video
   throughput with batching (metrics excluded; they are reported separately).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.occupancy.data import drain  # noqa: E402
from handviewer.pipeline import Pipeline  # noqa: E402
from handviewer.pipeline_api import RefineSettings  # noqa: E402


def evaluate(pipe: Pipeline, frames: int, seed: int, settings: RefineSettings) -> dict:
    from handviewer.synth import corrupt, random_sequence

    seq = random_sequence(frames, seed=seed)
    bad = corrupt(seq, seed=seed + 1)
    K = np.broadcast_to(seq.camera.K, (frames, 3, 3)).astype(np.float32)
    init = pipe.initial_from_joints(bad.joints)
    refined = drain(pipe.refine(init, bad.keypoints, K, settings))
    out = {}
    for tag, pair in (("before", init.pair), ("after", refined)):
        vols, aves, maxs = [], [], []
        for i in range(frames):
            m, _, _ = pipe.metrics(pair, init.present, i, None, None, None)
            vols.append(m.intersection_volume_cm3)
            aves.append(m.ave_p_mm)
            maxs.append(m.max_p_mm)
        with torch.no_grad():
            joints = pair.joints().numpy()
        out[tag] = {"volume": np.array(vols), "ave_p": np.array(aves), "max_p": np.array(maxs),
                    "mpjpe": np.linalg.norm(joints - seq.joints, axis=-1).mean((1, 2))}
    return out


def report(out: dict) -> None:
    b, a = out["before"], out["after"]
    inter_b, inter_a = b["volume"] > 0, a["volume"] > 0
    resolved = (inter_b & ~inter_a).sum() / max(inter_b.sum(), 1)
    for tag, r in (("before", b), ("after", a)):
        print(f"  {tag:6s}: intersecting frames {np.mean(r['volume'] > 0):6.1%}, mean volume {r['volume'].mean():6.2f} cm^3, "
              f"AVE-P {r['ave_p'].mean():5.2f} mm, MAX-P {r['max_p'].mean():5.2f} mm, MPJPE {r['mpjpe'].mean():6.2f} mm")
    worse = (a["mpjpe"] > b["mpjpe"] + 0.5).mean()
    print(f"  resolved {resolved:.1%} of the {inter_b.sum()} intersecting frames; MPJPE {b['mpjpe'].mean():.2f} -> "
          f"{a['mpjpe'].mean():.2f} mm; frames whose MPJPE got worse by > 0.5 mm: {worse:.1%}")


def speed(pipe: Pipeline, settings: RefineSettings) -> None:
    from handviewer.uplift.synthetic import make_pool, view

    pool = make_pool(64, seed=99)
    kp, K, _ = view(pool, torch.arange(64), torch.Generator().manual_seed(0))
    kp, K = kp.numpy(), K.numpy()

    def run(idx):
        init = pipe.initial_from_keypoints(kp[idx], K[idx])
        drain(pipe.refine(init, kp[idx], K[idx], settings))

    run([0])  # warm-up
    t = time.perf_counter()
    for i in range(10):
        run([i])
    latency = (time.perf_counter() - t) / 10
    t = time.perf_counter()
    run(list(range(64)))
    throughput = 64 / (time.perf_counter() - t)
    print(f"[speed] uplift + refinement ({settings.steps} steps, {settings.point_set}-{'both' if settings.both_hands else 'single'}): "
          f"{latency * 1000:.0f} ms per frame at batch 1; {throughput:.1f} frames/s batched (64 frames)")
    t = time.perf_counter()
    init = pipe.initial_from_keypoints(kp[:8], K[:8])
    for i in range(8):
        pipe.metrics(init.pair, init.present, i, kp[i], K[i], None)
    print(f"[speed] per-frame metrics (ground-truth count, penetration, occupancy count): {(time.perf_counter() - t) / 8 * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--sequences", type=int, default=3)
    parser.add_argument("--steps", type=int, default=RefineSettings.steps)
    parser.add_argument("--weight", type=float, default=RefineSettings.weight)
    parser.add_argument("--safe", action="store_true")
    parser.add_argument("--skip-eval", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    pipe = Pipeline()
    settings = RefineSettings(steps=args.steps, weight=args.weight, safe_mode=args.safe)
    if not args.skip_eval:
        outs = [evaluate(pipe, args.frames, 1000 + s, settings) for s in range(args.sequences)]
        merged = {t: {k: np.concatenate([o[t][k] for o in outs]) for k in outs[0][t]} for t in ("before", "after")}
        print(f"[ground truth] {args.sequences} held-out sequences x {args.frames} frames, corrupted 3D + noisy 2D:")
        report(merged)
    speed(pipe, settings)


if __name__ == "__main__":
    main()
