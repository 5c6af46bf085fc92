"""Synthetic two-hand data with ground truth: interacting scenes, smooth sequences, estimator-like
errors, a light headless renderer and the bundled sample clip. No Qt.

Modules (each loads torch/OpenCV only when imported):
- `scenes`  : `random_scenes`, `random_sequence` -> `TwoHandSequence` (ground truth, camera frame, mm).
- `corrupt` : `corrupt_sequence` (3D errors of an estimator), `noisy_keypoints` (2D detector errors).
- `raster`  : `HandRenderer` / `render_hands` -> `Rendering` (RGB image, part mask, depth).
- `sample`  : `make_sample` writes the sample clip folder (assets/sample).
- `cli`     : `python -m handviewer.synth.cli make-sample --out assets/sample --frames 100 --seed 7`.
"""

from __future__ import annotations

from handviewer._lazy import lazy_getattr

_LAZY = {
    "TwoHandSequence": "handviewer.synth.scenes",
    "random_scenes": "handviewer.synth.scenes",
    "random_sequence": "handviewer.synth.scenes",
    "SCENE_KINDS": "handviewer.synth.names",
    "hand_vertices": "handviewer.synth.scenes",
    "intersection_volumes": "handviewer.synth.scenes",
    "Corrupted": "handviewer.synth.corrupt",
    "CorruptionSettings": "handviewer.synth.corrupt",
    "corrupt_sequence": "handviewer.synth.corrupt",
    "noisy_keypoints": "handviewer.synth.corrupt",
    "HandRenderer": "handviewer.synth.raster",
    "Rendering": "handviewer.synth.raster",
    "render_hands": "handviewer.synth.raster",
    "make_sample": "handviewer.synth.sample",
    "iter_make_sample": "handviewer.synth.sample",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
