"""The paper's central experiment on held-out synthetic data: uplift fine-tuned with the intersection
loss against the same fine-tuning without it (same base weights, steps, seed and data).

    python benchmarks/bench_uplift.py WEIGHTS [WEIGHTS ...] [--pairs 500]

Prints, per weights file: MPJPE (root-relative per hand, and of the pair relative to the right
wrist, mm), share of predicted pairs that intersect (ground-truth count on the 125k grid), mean
intersection count and volume; then the change of each figure against the first file.
Then, per weights file, the uplift from 2D keypoints alone on data it was not trained on: the
bundled sample clip (rendered stacked hands; keypoints with rendering-based occlusion) and the
InterHand2.6M frames in ../shared/data (real captures; keypoints = ground truth projected): per-hand
root-relative MPJPE, the error of the left wrist relative to the right one, and of its depth.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.progress import drain  # noqa: E402
from handviewer.uplift.evaluate import evaluate  # noqa: E402
from handviewer.uplift.train import load_weights  # noqa: E402


def keypoints_only(net, name: str, keypoints: np.ndarray, K: np.ndarray, truth: np.ndarray) -> str:
    """One line: the uplift of frames with both hands visible against their 3D truth (N, 2, 21, 3) mm."""
    from handviewer.uplift.inputs import visibility
    from handviewer.uplift.predict import predict

    kp = torch.as_tensor(np.array(keypoints, np.float32))  # a copy: the loaders' arrays are read-only
    Kt = torch.as_tensor(np.broadcast_to(np.asarray(K, np.float32), (len(kp), 3, 3)).copy())
    with torch.no_grad():
        joints = predict(net, kp, Kt).joints.numpy()
    both = visibility(kp)[1].all(-1).numpy() & np.isfinite(truth).all((1, 2, 3))
    j, g = joints[both], truth[both]
    per_hand = np.linalg.norm((j - j[:, :, :1]) - (g - g[:, :, :1]), axis=-1).mean((0, 2))
    offset = (j[:, 1, 0] - j[:, 0, 0]) - (g[:, 1, 0] - g[:, 0, 0])
    return (f"  {name} ({both.sum()} frames): root-relative MPJPE right {per_hand[0]:.1f} / left {per_hand[1]:.1f} mm; "
            f"left wrist relative to the right: error {np.linalg.norm(offset, axis=-1).mean():.1f} mm, depth "
            f"{np.abs(offset[:, 2]).mean():.1f} mm (mean signed {offset[:, 2].mean():+.1f})")


def real_and_sample_lines(net, pairs: int = 300) -> list[str]:
    from handviewer.io import load_interhand, load_own
    from handviewer.uplift.synthetic import make_pool, view

    root = Path(__file__).resolve().parents[1]
    pool = make_pool(pairs, 424_242)  # the held-out pool of `evaluate`
    lines = []
    for name, options in (("held-out views, detector-like", {}),
                          ("held-out views, every joint exact", dict(noise_px=0.0, drop=0.0, occlusion=False))):
        kp, K, joints = view(pool, torch.arange(pairs), torch.Generator().manual_seed(424_242), **options)
        lines.append(keypoints_only(net, name, kp.numpy(), K.numpy(), joints.numpy()))
    sample = root / "assets" / "sample"
    if (sample / "ground_truth.npz").exists():
        gt = np.load(sample / "ground_truth.npz")
        lines.append(keypoints_only(net, "sample clip", load_own(sample / "keypoints.json").keypoints.xyc, gt["camera_K"], gt["joints"]))
    folder = root.parent / "shared" / "data" / "interhand26m_mmpose_samples"
    files = [folder / f"test_interhand2.6m_{k}.json" for k in ("data", "camera", "joint_3d")]
    if all(f.exists() for f in files):
        s = load_interhand(*files)
        K = np.stack([np.asarray(c.K, np.float32) for c in s.cameras])
        lines.append(keypoints_only(net, "InterHand2.6M", s.keypoints.xyc, K, s.joints.joints))
    return lines


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
    print("from 2D keypoints alone, on data the uplift was not trained on:")
    for path in args.weights:
        print(f"{path}:")
        for line in real_and_sample_lines(load_weights(path), args.pairs):
            print(line)


if __name__ == "__main__":
    main()
