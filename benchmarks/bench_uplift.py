"""The paper's central experiment on held-out synthetic data: uplift fine-tuned with the intersection
loss against the same fine-tuning without it (same base weights, steps, seed and data).

    python benchmarks/bench_uplift.py WEIGHTS [WEIGHTS ...] [--pairs 500]

Prints, per weights file: MPJPE (root-relative per hand, and of the pair relative to the right
wrist, mm), share of predicted pairs that intersect (ground-truth count on the 125k grid), mean
intersection count and volume; then the change of each figure against the first file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.progress import drain  # noqa: E402
from handviewer.uplift.evaluate import evaluate  # noqa: E402
from handviewer.uplift.train import load_weights  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", type=Path, nargs="+")
    parser.add_argument("--pairs", type=int, default=500)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = []
    for path in args.weights:
        net = load_weights(path)
        r = drain(evaluate(net, args.pairs))
        w = net.meta.get("train_config", {}).get("intersection_weight")
        rows.append(r)
        print(f"{path} (intersection weight {w}): MPJPE root-relative {r['mpjpe_root_relative_mm']:.2f} mm, pair "
              f"{r['mpjpe_pair_mm']:.2f} mm; intersecting {r['intersecting_share']:.1%}, mean count "
              f"{r['mean_intersection_count']:.0f}, mean volume {r['mean_intersection_volume_cm3']:.2f} cm^3")
    base = rows[0]
    for path, r in zip(args.weights[1:], rows[1:]):
        rel = lambda k: (r[k] - base[k]) / base[k] * 100 if base[k] else float("nan")  # noqa: E731
        print(f"{path} vs {args.weights[0]}: intersecting pairs {rel('intersecting_share'):+.0f} %, intersection count "
              f"{rel('mean_intersection_count'):+.0f} %, volume {rel('mean_intersection_volume_cm3'):+.0f} %, "
              f"MPJPE {rel('mpjpe_root_relative_mm'):+.1f} % (root-relative), {rel('mpjpe_pair_mm'):+.1f} % (pair)")


if __name__ == "__main__":
    main()
