"""The sample clip: a small one written here, and the shipped one in assets/sample (skipped if absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handviewer.io import load_camera, load_own, load_predictions, open_frames
from handviewer.synth.sample import make_sample

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample"
FILES = ("video.mp4", "keypoints.json", "predictions.json", "ground_truth.npz", "camera.json", "README.md")


def _check_folder(folder: Path, frames: int) -> None:
    for name in FILES:
        assert (folder / name).is_file(), name
    with open_frames(folder / "video.mp4") as video:
        assert video.frame_count == frames and video.size == (640, 480) and video.fps == pytest.approx(30.0)
        frame = video.read(frames // 2)
        assert frame.shape == (480, 640, 3) and frame.std() > 5
    camera = load_camera(folder / "camera.json")
    keypoints = load_own(folder / "keypoints.json")
    assert keypoints.keypoints.xyc.shape == (frames, 2, 21, 3) and keypoints.camera == camera
    conf = keypoints.keypoints.confidence
    assert 0.05 < np.isnan(conf).mean() < 0.5 and np.nanmedian(conf) > 0.8
    predictions = load_predictions(folder / "predictions.json")
    truth = load_own(folder / "ground_truth.npz")
    assert predictions.joints.shape == truth.joints.joints.shape == (frames, 2, 21, 3)
    error = np.linalg.norm(predictions.joints - truth.joints.joints, axis=-1).mean()
    assert 5.0 < error < 50.0
    arrays = np.load(folder / "ground_truth.npz")
    for name in ("rot_right", "trans_right", "bones_right", "angles_right", "rot_left", "angles_left",
                 "gt_intersection_cm3", "pred_intersection_cm3", "visible"):
        assert name in arrays.files and len(arrays[name]) == frames
    # Keypoints follow the projected ground truth.
    exact = truth.keypoints.xy
    err = np.linalg.norm(keypoints.keypoints.xy - exact, axis=-1)
    assert np.nanmedian(err) < 3.0


def test_make_sample_small(tmp_path):
    summary = make_sample(tmp_path / "clip", frames=4, seed=3, measure=False, supersample=1)
    _check_folder(tmp_path / "clip", 4)
    assert summary["bytes"] < 3e6
    assert "make-sample --out" in (tmp_path / "clip" / "README.md").read_text()


def test_shipped_sample():
    if not (SAMPLE / "video.mp4").exists():
        pytest.skip("assets/sample not generated")
    frames = len(np.load(SAMPLE / "ground_truth.npz")["frame_indices"])
    _check_folder(SAMPLE, frames)
    arrays = np.load(SAMPLE / "ground_truth.npz")
    gt, pred = arrays["gt_intersection_cm3"], arrays["pred_intersection_cm3"]
    assert (gt[np.isfinite(gt)] <= 0.1).all()
    assert (pred > 0.1).sum() > (gt > 0.1).sum()
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 3.2e6
