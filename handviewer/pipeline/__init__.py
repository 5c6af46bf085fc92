"""The per-video compute: from a video's inputs to results and exports, shared by the app and the CLI.

Data path (each step a module here):
  inputs   -> what goes with a video: 2D keypoints, 3D predictions, camera (`load_video_inputs`)
  run      -> `FrameBatch` (frames with their inputs) through `run(...)`: initial estimate (uplift or
              IK), refinement, metrics and meshes -> `FrameResult`s (`results`)
  stages   -> `Pipeline`, the stages themselves and the networks they use, on a device
  video    -> `VideoPipeline`, the app's per-video state over `run` (edited keypoints, cached initials)
  process  -> `handviewer process`: a whole video in batches, resumable, then `export`
  export   -> the one set of export files, written by `process` and the app's Export alike
  settings -> `RefineSettings`; contract -> what a front end asks of a `VideoPipeline`

Importing this package is cheap; torch loads with `stages`, `run`, `video` and `process`.
"""

from __future__ import annotations

from handviewer._lazy import lazy_getattr

_LAZY = {
    "Pipeline": "handviewer.pipeline.stages",
    "Initial": "handviewer.pipeline.stages",
    "FrameBatch": "handviewer.pipeline.run",
    "run": "handviewer.pipeline.run",
    "VideoPipeline": "handviewer.pipeline.video",
    "process_video": "handviewer.pipeline.process",
    "write_export": "handviewer.pipeline.export",
    "RefineSettings": "handviewer.pipeline.settings",
    "FrameResult": "handviewer.pipeline.results",
    "FrameMetrics": "handviewer.pipeline.results",
    "HandsEstimate": "handviewer.pipeline.results",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
