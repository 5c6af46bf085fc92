"""Frame pipeline figures (issue: frame pipeline).

    python benchmarks/bench_pipeline.py [--clip assets/sample] [--steps 60] [--safe]

1. Evaluation on data with ground truth: a clip folder with `ground_truth.npz` (default: the bundled
   sample, a held-out synthetic sequence whose 3D predictions carry estimator-like errors that make
   the hands intersect, plus noisy 2D keypoints) goes through `handviewer process` (IK of the
   predictions, refinement); before/after: share of intersecting frames, ground-truth intersection
   volume, AVE-P/MAX-P, MPJPE against ground truth, and the share of intersecting frames resolved.
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


def evaluate(folder: Path, settings: RefineSettings) -> None:
    """Run `process` on a clip folder with `ground_truth.npz` (e.g. assets/sample: estimator-like
    corrupted 3D predictions + noisy 2D keypoints) and compare before/after with the ground truth."""
    import csv
    import tempfile

    from handviewer.process import process_video

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        summary = drain(process_video(folder / "video.mp4", Path(tmp), settings=settings))
        seconds = time.perf_counter() - t
        hands = np.load(Path(tmp) / "hands.npz")
        rows = {tag: list(csv.DictReader(open(Path(tmp) / f"metrics_{tag}.csv"))) for tag in ("before", "after")}
    gt = np.load(folder / "ground_truth.npz")["joints"]
    err = {"before": np.linalg.norm(hands["joints_before"] - gt, axis=-1).mean((1, 2)),
           "after": np.linalg.norm(hands["joints"] - gt, axis=-1).mean((1, 2))}
    col = lambda tag, k: np.array([float(r[k]) for r in rows[tag]])  # noqa: E731
    inter_b, inter_a = col("before", "intersection_volume_cm3") > 0, col("after", "intersection_volume_cm3") > 0
    print(f"[ground truth] {folder}: {summary['frames']} frames, {seconds:.0f} s with metrics")
    for tag in ("before", "after"):
        print(f"  {tag:6s}: intersecting frames {np.mean(col(tag, 'intersection_volume_cm3') > 0):6.1%}, mean volume "
              f"{col(tag, 'intersection_volume_cm3').mean():5.2f} cm^3, AVE-P {col(tag, 'ave_p_mm').mean():5.2f} mm, "
              f"MAX-P {col(tag, 'max_p_mm').mean():5.2f} mm, MPJPE {err[tag].mean():6.2f} mm, reprojection "
              f"{np.nanmean(col(tag, 'reprojection_px')):5.1f} px")
    resolved = (inter_b & ~inter_a).sum() / max(inter_b.sum(), 1)
    print(f"  resolved {resolved:.1%} of {inter_b.sum()} intersecting frames; frames whose MPJPE got worse by > 0.5 mm: "
          f"{(err['after'] > err['before'] + 0.5).sum()}")


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
    parser.add_argument("--clip", type=Path, default=Path(__file__).resolve().parents[1] / "assets" / "sample")
    parser.add_argument("--steps", type=int, default=RefineSettings.steps)
    parser.add_argument("--weight", type=float, default=RefineSettings.weight)
    parser.add_argument("--safe", action="store_true")
    parser.add_argument("--skip-eval", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    pipe = Pipeline()
    settings = RefineSettings(steps=args.steps, weight=args.weight, safe_mode=args.safe)
    if not args.skip_eval:
        evaluate(args.clip, settings)
    speed(pipe, settings)


if __name__ == "__main__":
    main()
