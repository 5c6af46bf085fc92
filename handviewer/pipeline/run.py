"""`run`: one batch of frames through the stages, the one path the app and `handviewer process` share.

initial estimate (IK of 3D predictions, else uplift of 2D keypoints; cached per frame when a cache
is given) -> refinement (when settings are given) -> metrics and meshes -> one `FrameResult` per frame.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from handviewer.hand.subject import SubjectShape
from handviewer.pipeline.results import FrameMetrics, FrameResult
from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.stages import Initial, Pipeline
from handviewer.progress import scaled


@dataclass(frozen=True)
class FrameBatch:
    """Frames that go through the pipeline together, with their inputs.

    indices          : (N,) int frame numbers.
    keypoints        : (N, 2, 21, 3) float32 px + confidence, NaN where missing.
    K                : (N, 3, 3) float64 px, the intrinsics used for each frame.
    predictions      : (N, 2, 21, 3) float32 mm camera frame, or None (no 3D predictions).
    from_predictions : (N,) bool, frames whose initial estimate is the IK fit of `predictions`
                       (the others are uplifted from `keypoints`).
    shape            : the video's subject shape (`hand.subject.SubjectShape`, `pipeline.shape.video_shape`),
                       held by every frame's initial estimate; None: each frame fitted on its own.
    """

    indices: np.ndarray
    keypoints: np.ndarray
    K: np.ndarray
    predictions: np.ndarray | None = None
    from_predictions: np.ndarray | None = None
    shape: SubjectShape | None = None

    def __post_init__(self) -> None:
        n = len(self.indices)
        if self.keypoints.shape != (n, 2, 21, 3) or self.K.shape != (n, 3, 3):
            raise ValueError(f"FrameBatch: keypoints {self.keypoints.shape} / K {self.K.shape} do not match {n} frames")
        if self.from_predictions is None:
            object.__setattr__(self, "from_predictions", np.zeros(n, bool))
        if self.from_predictions.any() and self.predictions is None:
            raise ValueError("FrameBatch: frames marked from_predictions but no predictions given")

    def __len__(self) -> int:
        return len(self.indices)

    def rows(self, rows: list[int]) -> "FrameBatch":
        """The sub-batch of the given rows (positions, not frame numbers)."""
        pick = np.asarray(rows, dtype=np.int64)
        return FrameBatch(self.indices[pick], self.keypoints[pick], self.K[pick],
                          None if self.predictions is None else self.predictions[pick], self.from_predictions[pick],
                          self.shape)


@dataclass
class InitialCache:
    """Per frame, what does not change until its inputs do: the initial estimate (one-frame
    `Initial`, CPU) and the result without refinement (its before-metrics). `forget` on an edit."""

    initial: dict[int, Initial] = field(default_factory=dict)
    before: dict[int, FrameResult] = field(default_factory=dict)

    def forget(self, index: int) -> None:
        self.initial.pop(index, None)
        self.before.pop(index, None)


def initial_estimate(pipeline: Pipeline, batch: FrameBatch, cache: InitialCache | None = None) -> Initial:
    """Initial estimate of every frame of `batch` (frames cached in `cache` are not recomputed, and
    new ones are added to it); frames that share a source are computed together."""
    cache = cache if cache is not None else InitialCache()
    missing = [r for r, i in enumerate(batch.indices.tolist()) if i not in cache.initial]
    for source in (True, False):
        rows = [r for r in missing if bool(batch.from_predictions[r]) == source]
        if not rows:
            continue
        sub = batch.rows(rows)
        if source:
            initial = pipeline.initial_from_joints(sub.predictions, sub.keypoints, sub.K, shape=batch.shape)
        else:
            initial = pipeline.initial_from_keypoints(sub.keypoints, sub.K, shape=batch.shape)
        for k, index in enumerate(sub.indices.tolist()):
            cache.initial[index] = initial.rows([k])
    return Initial.cat([cache.initial[i] for i in batch.indices.tolist()])


def run(pipeline: Pipeline, batch: FrameBatch, settings: RefineSettings | None = None, *, metrics: bool = True,
        meshes: bool = True, cache: InitialCache | None = None) -> Generator[tuple[float, str], None, list[FrameResult]]:
    """The frames of `batch` through the stages; yields (fraction, message), returns their results in
    batch order. settings None: no refinement (`after` is None). metrics False: only the cheap metrics
    (reprojection, moved), not the intersection ones. meshes False: estimates without vertices.
    With a `cache`, each frame's initial estimate and unrefined result are computed once."""
    if len(batch) == 0:
        return []
    initial = initial_estimate(pipeline, batch, cache)
    refined = None
    if settings is not None:
        refined = yield from scaled(pipeline.refine(initial, batch.keypoints, batch.K, settings), 0.0, 0.7)
    uncached = cache is None or any(i not in cache.before for i in batch.indices.tolist())
    with torch.no_grad():  # each estimate's joints, posed for the whole batch at once (where it is assessed)
        posed = {"initial": initial.pair.joints() if uncached else None,
                 "refined": refined.joints() if refined is not None else None}
    plain = {}  # estimate -> its frames' plain vertices and occupancy counts, posed and counted together
    if metrics:
        if uncached:
            plain["initial"] = pipeline.plain_meshes_and_occupancy(initial.pair, initial.present)
        if refined is not None:
            plain["refined"] = pipeline.plain_meshes_and_occupancy(refined, initial.present)
    out = []
    for i, index in enumerate(batch.indices.tolist()):
        result = cache.before.get(index) if cache is not None else None
        if result is None:
            estimate, m, points, probs = _assess(pipeline, batch, initial, initial.pair, i, metrics, meshes,
                                                 plain.get("initial"), posed["initial"])
            result = FrameResult(index=index, keypoints_2d=np.asarray(batch.keypoints[i], np.float32), before=estimate,
                                 metrics_before=m, intersection_points_before=points, intersection_probs_before=probs,
                                 camera_K=np.asarray(batch.K[i], np.float64))
            if cache is not None:
                cache.before[index] = result
        if refined is not None:
            estimate, m, points, probs = _assess(pipeline, batch, initial, refined, i, metrics, meshes,
                                                 plain.get("refined"), posed["refined"])
            result = replace(result, after=estimate, metrics_after=m, intersection_points_after=points,
                             intersection_probs_after=probs)
        out.append(result)
        start, span = (0.7, 0.3) if refined is not None else (0.0, 1.0)
        yield start + span * (i + 1) / len(batch), f"metrics {i + 1}/{len(batch)}"
    return out


def _assess(pipeline: Pipeline, batch: FrameBatch, initial: Initial, pair, i: int, metrics: bool, meshes: bool,
            plain: tuple[np.ndarray, np.ndarray] | None = None, joints: torch.Tensor | None = None):
    """Row i of `pair` (initial or refined parameters): its HandsEstimate, FrameMetrics and the
    intersection grid points (P, 3) mm with their occupancy probabilities (P,). plain: the batch's
    `plain_meshes_and_occupancy`, when computed together; joints: `pair.joints()` of the batch."""
    estimate = pipeline.estimate(pair, initial.present, i, meshes=meshes, batch_joints=joints)
    frame = None
    if plain is not None and np.isfinite(plain[1][i]):
        frame = (plain[0][i], int(plain[1][i]))
    m, points, probs = pipeline.metrics(pair, initial.present, i, batch.keypoints[i], batch.K[i],
                                        initial.joints[i].numpy(), intersections=metrics, plain=frame,
                                        batch_joints=joints)
    return estimate, m, points, probs


__all__ = ["FrameBatch", "FrameMetrics", "InitialCache", "initial_estimate", "run"]
