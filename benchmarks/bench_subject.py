"""A per-subject hand shape held over a video (issue 17): figures for benchmarks/README.md.

    OMP_NUM_THREADS=1 python benchmarks/bench_subject.py [--videos 5] [--frames 100]

Prints:
(a) synthetic videos of one hand with a constant shape (`synth.subject.constant_shape_video`), its
    joints with 2 mm Gaussian noise per axis and 10 % of the joints missing: bone-length jitter over
    the video, bone and palm error to the truth, MPJPE to the true joints and the residual to the
    noisy targets, for per-frame fits, the held estimate (`hand.subject.estimate_shape`) and the
    held true shape; and how the estimate's error falls with the number of frames it is taken from.
(b) the real InterHand2.6M hands of ../shared/data: the IK residual with each hand's own shape held
    (taken from its frame: no two frames of the sample share a subject), with the other hand's
    (the same person's, mirrored), with the mean hand's and with another subject's; and each real
    hand as a "video" of 30 noisy copies (2 mm, 10 % missing): per-frame vs held, error to the
    clean real joints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

from handviewer.hand import fit_ik, forward_kinematics  # noqa: E402
from handviewer.hand import template as T  # noqa: E402
from handviewer.hand.subject import (  # noqa: E402
    SHAPE_ANGLES, HandShape, estimate_shape, metacarpal_angle, shape_from_fits,
)
from handviewer.synth.subject import constant_shape_video, noisy_joints  # noqa: E402

NOISE_MM, MISSING = 2.0, 0.1


def _fit_all(joints: np.ndarray, shape: HandShape | None = None):
    """fit_ik in batches of 32 (Levenberg-Marquardt, as the pipeline's batches use)."""
    from handviewer.hand.params import HandParams

    parts = [fit_ik(joints[k:k + 32], shape=shape) for k in range(0, len(joints), 32)]
    return HandParams.cat([p for p, _ in parts]), np.concatenate([r.numpy() for _, r in parts])


def _palm_error(palm: np.ndarray, truth: np.ndarray) -> float:
    """Mean error (deg) of the index-middle metacarpal angle of palm layouts (N, 4) rad against the truth's."""
    return float(np.rad2deg(np.abs(metacarpal_angle(palm) - metacarpal_angle(truth))).mean())


def synthetic_report(videos: int, frames: int) -> None:
    rows = {"per frame": [], "held (estimated)": [], "held (true shape)": []}
    for seed in range(videos):
        params, truth = constant_shape_video(frames, seed=seed)
        clean = forward_kinematics(params).joints.numpy()
        noisy = noisy_joints(clean, NOISE_MM, MISSING, seed=seed)
        for name, shape in (("per frame", None), ("held (estimated)", estimate_shape(noisy)), ("held (true shape)", truth)):
            fitted, residual = _fit_all(noisy, shape)
            bones, angles = fitted.bones.numpy(), fitted.angles.numpy()
            rows[name].append((bones.std(0).mean(), np.abs(bones - truth.bones).mean(),
                               _palm_error(angles[:, list(SHAPE_ANGLES)], truth.palm),
                               np.linalg.norm(forward_kinematics(fitted).joints.numpy() - clean, axis=-1).mean(),
                               np.nanmean(residual)))
    print(f"[subject synthetic] {videos} videos x {frames} frames, noise {NOISE_MM} mm per axis, "
          f"{MISSING:.0%} of joints missing (means over videos)")
    print("  fit               | bone std over video | bone error | palm error* | MPJPE to truth | residual to targets")
    for name, values in rows.items():
        jitter, bone, palm, mpjpe, res = np.mean(values, 0)
        print(f"  {name:17s} | {jitter:8.2f} mm         | {bone:6.2f} mm  | {palm:5.2f} deg   | {mpjpe:7.2f} mm     | "
              f"{res:6.2f} mm")
    print("  * error of the angle between the index and middle metacarpals (`subject.metacarpal_angle`), the part "
          "of the palm layout the joints determine")
    # How many frames the estimate needs: the median of the first n usable frames' fits.
    counts = (1, 2, 4, 8, 16, 32, 64)
    errors = {n: [] for n in counts}
    for seed in range(videos):
        params, truth = constant_shape_video(max(frames, 100), seed=seed)
        noisy = noisy_joints(forward_kinematics(params).joints.numpy(), NOISE_MM, MISSING, seed=seed)
        fitted, _ = _fit_all(noisy[:max(counts)])
        bones, angles = fitted.bones.numpy(), fitted.angles.numpy()
        for n in counts:
            shape = shape_from_fits(bones[:n], angles[:n]) if n >= 8 else HandShape(
                np.median(bones[:n], 0), np.median(angles[:n][:, list(SHAPE_ANGLES)], 0), n)
            errors[n].append((np.abs(shape.bones - truth.bones).mean(), _palm_error(shape.palm[None], truth.palm)))
    line = ", ".join(f"{n}: {np.mean(errors[n], 0)[0]:.2f} mm / {np.mean(errors[n], 0)[1]:.2f} deg" for n in counts)
    print(f"  estimate's error by frames used (bones / palm): {line}")


def real_report() -> None:
    from handviewer.hand.skeleton import mirror_x
    from handviewer.io import load_interhand

    folder = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "interhand26m_mmpose_samples"
    if not (folder / "test_interhand2.6m_data.json").exists():
        print(f"[subject real] skipped: no InterHand2.6M files in {folder}")
        return
    samples = load_interhand(*[folder / f"test_interhand2.6m_{k}.json" for k in ("data", "camera", "joint_3d")])
    j = samples.joints.joints
    hands, owner = [], []  # right-hand-frame joints (21, 3) and (frame, side)
    for t in range(len(j)):
        for h in range(2):
            if np.isfinite(j[t, h]).all():
                hands.append(j[t, h] if h == 0 else mirror_x(j[t, h]))
                owner.append((t, h))
    hands = np.stack(hands).astype(np.float32)
    names = [f"{Path(samples.file_names[t]).stem} {'right' if h == 0 else 'left'}" for t, h in owner]
    free, res_free = fit_ik(hands)
    own = [HandShape(free.bones[k].double().numpy(), free.angles[k, list(SHAPE_ANGLES)].double().numpy(), 1)
           for k in range(len(hands))]
    held = np.array([float(fit_ik(hands[[k]], shape=own[k])[1].mean()) for k in range(len(hands))])
    print(f"[subject real] {len(hands)} InterHand2.6M hands ({', '.join(names)}); 4 subjects, one frame each: "
          "no other frame of the same subject to take a shape from")
    print(f"  per-frame fit: mean {float(res_free.mean()):.3f} mm; the hand's own shape held (from its frame): "
          f"mean {held.mean():.3f} mm, max per hand {held.max():.3f} mm (goal < 0.5 mm)")
    other = []
    for k, (t, h) in enumerate(owner):
        mate = [m for m, (t2, h2) in enumerate(owner) if t2 == t and h2 != h]
        if mate:
            other.append((names[k], float(fit_ik(hands[[k]], shape=own[mate[0]])[1].mean())))
    print("  the same person's other hand's shape held (mirrored): "
          + ", ".join(f"{n} {r:.2f} mm" for n, r in other))
    mean_hand = HandShape(T.MEAN_BONE_LENGTHS, np.zeros(len(SHAPE_ANGLES)))
    res_mean = np.array([float(fit_ik(hands[[k]], shape=mean_hand)[1].mean()) for k in range(len(hands))])
    cross = np.array([float(fit_ik(hands[[k]], shape=own[(k + 2) % len(hands)])[1].mean()) for k in range(len(hands))])
    print(f"  the mean hand's shape held: mean {res_mean.mean():.2f} mm; another subject's shape held: mean "
          f"{cross.mean():.2f} mm (the shape must be the subject's own)")
    # Each real hand as a video of noisy copies: does the held estimate recover the real hand's shape?
    per, hold = [], []
    for k in range(len(hands)):
        noisy = np.stack([noisy_joints(hands[[k]], NOISE_MM, MISSING, seed=100 * k + s)[0] for s in range(30)])
        shape = estimate_shape(noisy)
        for out, s in ((per, None), (hold, shape)):
            fitted, _ = fit_ik(noisy, shape=s)
            out.append(np.linalg.norm(forward_kinematics(fitted).joints.numpy() - hands[k], axis=-1).mean())
    print(f"  each real hand as 30 noisy copies ({NOISE_MM} mm, {MISSING:.0%} missing): error to the clean real joints "
          f"per frame {np.mean(per):.2f} mm, shape held {np.mean(hold):.2f} mm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=5)
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    synthetic_report(args.videos, args.frames)
    real_report()


if __name__ == "__main__":
    main()
