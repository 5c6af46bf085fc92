"""Make the bundled sample clip (assets/sample/) from the project's own hand model and renderer.

    python scripts/make_sample.py --out assets/sample --frames 100 --seed 7

Ground truth: `handviewer.synth.random_sequence` (two interacting hands, camera frame, mm), rendered
by `handviewer.synth.render.HandRenderer`. Keypoints: the ground truth projected, 1.5 px Gaussian
noise, confidence 0.9 where the joint is visible in the rendered depth and 0.3 where it is hidden.
Predictions: the ground truth with estimator-like errors that make the hands intersect: the left
hand drifts 12-30 mm towards the right hand and tilts up to 10 degrees about its wrist, smoothly
over time (seeded).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np


def smooth_noise(rng: np.random.Generator, frames: int, dims: int, every: int = 20) -> np.ndarray:
    """(frames, dims) values in [-1, 1], interpolated between random keys every `every` frames."""
    keys = rng.uniform(-1, 1, size=(frames // every + 2, dims))
    t = np.arange(frames) / every
    i = np.floor(t).astype(int)
    u = (t - i)[:, None]
    u = u * u * (3 - 2 * u)
    return keys[i] * (1 - u) + keys[i + 1] * u


def rotate_about(points: np.ndarray, centre: np.ndarray, rotvec: np.ndarray) -> np.ndarray:
    R, _ = cv2.Rodrigues(rotvec.astype(np.float64))
    return (points - centre) @ R.T + centre


def corrupt(joints: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(joints)
    out = joints.copy()
    drift = 12.0 + 18.0 * (0.5 + 0.5 * smooth_noise(rng, n, 1))[:, 0]  # mm
    tilt = np.deg2rad(10.0) * smooth_noise(rng, n, 3)
    for t in range(n):
        right_c, left_c = joints[t, 0].mean(0), joints[t, 1].mean(0)
        d = (right_c - left_c) / max(np.linalg.norm(right_c - left_c), 1e-6)
        out[t, 1] = rotate_about(joints[t, 1], joints[t, 1, 0], tilt[t]) + drift[t] * d
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("assets/sample"))
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from handviewer.io import Joints3D, Keypoints2D, project, save_camera, save_own
    from handviewer.synth import random_sequence
    from handviewer.synth.render import HandRenderer

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    seq = random_sequence(args.frames, seed=args.seed)
    cam = seq.camera
    rng = np.random.default_rng(args.seed)
    writer = cv2.VideoWriter(str(out / "video.tmp.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), float(seq.fps), (cam.width, cam.height))
    xyc = np.zeros((args.frames, 2, 21, 3), np.float32)
    for t, frame in enumerate(HandRenderer(cam).render_sequence(seq)):
        writer.write(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
        uv = project(seq.joints[t], cam.K)  # (2, 21, 2)
        px = np.clip(np.round(uv).astype(int), [0, 0], [cam.width - 1, cam.height - 1])
        visible = frame.depth[px[..., 1], px[..., 0]] >= seq.joints[t, ..., 2] - 12.0
        xyc[t, ..., :2] = uv + rng.normal(0, 1.5, uv.shape)
        xyc[t, ..., 2] = np.where(visible, 0.9, 0.3)
        print(f"\rrendered {t + 1}/{args.frames}", end="", flush=True)
    writer.release()
    (out / "video.tmp.mp4").replace(out / "video.mp4")
    print()
    frames = np.arange(args.frames)
    save_own(out / "keypoints.json", keypoints=Keypoints2D(xyc, frames))
    save_own(out / "predictions.json", joints=Joints3D(corrupt(seq.joints, args.seed + 1).astype(np.float32), frames))
    save_camera(out / "camera.json", cam)
    np.savez_compressed(out / "ground_truth.npz", joints=seq.joints.astype(np.float32),
                        **{f"right_{k}": v.detach().numpy() for k, v in seq.params_right.tensors().items()},
                        **{f"left_{k}": v.detach().numpy() for k, v in seq.params_left.tensors().items()})
    (out / "README.md").write_text(f"""# Sample clip

Made by the project's own hand model and renderer: `python scripts/make_sample.py --out {out} --frames {args.frames} --seed {args.seed}`.

| file | content |
|---|---|
| `video.mp4` | {args.frames} frames, {cam.width}x{cam.height}, {seq.fps:g} fps: two interacting hands rendered from the ground truth |
| `keypoints.json` | 2D keypoints (our JSON format, px + confidence): ground truth projected, 1.5 px noise, confidence 0.9 visible / 0.3 hidden |
| `predictions.json` | 3D joints (our format, mm, camera frame) with estimator-like errors: the left hand drifts 12-30 mm into the right one and tilts up to 10 deg, so frames intersect and can be refined |
| `camera.json` | intrinsics K (px) |
| `ground_truth.npz` | ground-truth joints (T, 2, 21, 3) mm, our order, and both hands' model parameters (left = mirrored right hand) |
""")
    print(json.dumps({"frames": args.frames, "size_kb": sum(p.stat().st_size for p in out.iterdir()) // 1024}))


if __name__ == "__main__":
    main()
