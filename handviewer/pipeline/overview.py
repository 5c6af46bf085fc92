"""`FrameOverview`: the few numbers per frame the app's first pass gathers over a whole video, so the
strip chart, next/previous intersecting frame, the worst frame and the review queue cover every frame
before any frame is shown. Plain frozen data (numpy, no torch, no Qt), safe to hand across threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from handviewer.pipeline.results import FrameMetrics, FrameResult


@dataclass(frozen=True)
class FrameOverview:
    """One frame's initial estimate, summarised.

    index      : frame number.
    metrics    : `FrameMetrics` of the initial estimate (exact intersection volume cm^3, depths mm, ...).
    hands      : (2,) bool, which hands the initial estimate holds (right, left).
    confidence : mean 2D keypoint confidence in [0, 1] over the detected joints; NaN when the frame has
                 no 2D keypoints (e.g. 3D predictions only).
    """

    index: int
    metrics: FrameMetrics
    hands: np.ndarray
    confidence: float = math.nan


def keypoint_confidence(keypoints: np.ndarray) -> float:
    """Mean confidence of the detected joints of `keypoints` (2, 21, 3) (x px, y px, confidence; NaN
    where missing); NaN when none is detected."""
    kp = np.asarray(keypoints, np.float64)
    seen = np.isfinite(kp[..., :2]).all(-1) & np.isfinite(kp[..., 2])
    return float(kp[..., 2][seen].mean()) if seen.any() else math.nan


def overview_of(result: FrameResult) -> FrameOverview:
    """The overview of a computed frame (its initial estimate)."""
    return FrameOverview(result.index, result.metrics_before, np.asarray(result.before.present(), bool),
                         keypoint_confidence(result.keypoints_2d))
