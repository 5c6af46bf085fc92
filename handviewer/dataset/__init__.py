"""Datasets at scale: InterHand2.6M-format annotation sets cleaned of hand-to-hand intersections.

`clean_dataset(paths, out, ...)` (`handviewer clean-dataset`) reads `*_joint_3d.json` files with their
`*_camera.json` / `*_data.json`, fits and refines every frame with both hands through
`handviewer.pipeline.run`, and writes corrected joint_3d files in the same layout and world frame,
a per-frame CSV, a summary, a review list, plots and an HTML report.

Modules: `layout` (the files, streamed), `work` (global frame order, shards, the work folder),
`worker` (`ShardCleaner`, the per-worker compute), `engine` (local loop or Ray Data), `outputs`
(corrected files and the CSV), `report` (summary, plots, HTML), `job` (the whole job), `synthetic`
(InterHand2.6M-format datasets made by the project's hand model), `cli`.
Importing this package is cheap; torch loads with `worker`, Ray with the Ray engine.
"""

from __future__ import annotations

from handviewer._lazy import lazy_getattr

_LAZY = {
    "clean_dataset": "handviewer.dataset.job",
    "find_annotation_sets": "handviewer.dataset.layout",
    "iter_records": "handviewer.dataset.layout",
    "ShardCleaner": "handviewer.dataset.worker",
    "write_synthetic_dataset": "handviewer.dataset.synthetic",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
