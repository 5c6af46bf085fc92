"""`ReviewComputer`: the compute behind a review list opened in the app (implements
`handviewer.pipeline.contract.FrameComputer`), one "frame" per listed frame.

Each frame's result holds, as the dataset job measured them, the hands **before** (the given
annotation, fitted by IK in the frame's camera: `worker.frame_batch` through `pipeline.run`, as
`clean-dataset` does) and **after** (the corrected file's joints, fitted the same way), with the
intersection metrics of both; `moved_mm` of "after" is the mean distance between the two fits'
joints. The 2D keypoints are the given joints projected with the frame's camera (none without a
camera). Nothing is refined here: the correction is the job's, and the app's Refine commands say
so and keep it. Called from worker threads; holds no GUI objects.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from handviewer.dataset.review import ReviewList
from handviewer.dataset.worker import frame_batch
from handviewer.pipeline.overview import FrameOverview, overview_of
from handviewer.pipeline.results import FrameResult, HandsEstimate
from handviewer.pipeline.run import FrameBatch, run
from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.stages import Pipeline
from handviewer.progress import drain

BATCH = 16  # listed frames fitted together by the first pass
NOT_REFINED = ("a review list shows the correction clean-dataset wrote as 'after': nothing is refined here "
               "(accept or reject it)")


class ReviewComputer:
    def __init__(self, review: ReviewList, pipeline: Pipeline | None = None) -> None:
        self.review = review
        self.frame_count = len(review)
        self.pipeline = pipeline or Pipeline()
        self._keypoints = frame_batch(review.inputs(list(range(self.frame_count)))).keypoints.copy()  # (N, 2, 21, 3)
        self._results: dict[int, FrameResult] = {}
        self.inputs = SimpleNamespace(loaded=[review.describe()])  # as VideoPipeline.inputs: what was read
        self._lock = threading.RLock()  # the networks are shared by the workers: one computation at a time

    # --- inputs ---------------------------------------------------------------------------------
    def keypoints(self, index: int) -> np.ndarray:
        return self._keypoints[index].copy()

    def set_keypoints(self, index: int, keypoints: np.ndarray) -> None:
        """A moved keypoint changes the reprojection error shown, not the hands (they are the files')."""
        kp = np.asarray(keypoints, np.float32)
        if kp.shape != (2, 21, 3):
            raise ValueError(f"keypoints must have shape (2, 21, 3), got {kp.shape}")
        with self._lock:
            self._keypoints[index] = kp
            self._results.pop(index, None)

    def needs_keypoints(self) -> bool:
        return False

    def detect_all(self) -> Generator[tuple[float, str], None, str]:
        raise ValueError("hand detection does not apply to a review list: its hands are the annotation files'")
        yield  # pragma: no cover

    def detect_frame(self, index: int, image: np.ndarray) -> np.ndarray:
        raise ValueError("hand detection does not apply to a review list: its hands are the annotation files'")

    # --- compute --------------------------------------------------------------------------------
    def warm_up(self) -> Generator[tuple[float, str], None, list[str]]:
        """Load the networks; returns what was read (also in `inputs.loaded`: said as information) and
        what the user may miss (frames without an image)."""
        with self._lock:
            yield from self.pipeline.warm_up()
        return [*self.inputs.loaded, *self.review.warnings()]

    def compute_initial(self, index: int) -> FrameResult:
        with self._lock:
            if index not in self._results:
                self._results[index] = self._compute([index], meshes=True)[0]
            return self._results[index]

    def first_pass(self, indices: list[int] | None = None) -> Generator[tuple[float, str], None, dict[int, FrameOverview]]:
        """The given annotation's fit and metrics of many listed frames (batched, no meshes)."""
        indices = list(range(self.frame_count)) if indices is None else sorted(indices)
        out: dict[int, FrameOverview] = {}
        for start in range(0, len(indices), BATCH):
            group = indices[start:start + BATCH]
            with self._lock:  # released between batches: a frame the user opens is computed in between
                known = [i for i in group if i in self._results]
                out.update((i, overview_of(self._results[i])) for i in known)
                todo = [i for i in group if i not in self._results]
                if todo:
                    results = drain(run(self.pipeline, self._batch(todo, corrected=False), meshes=False))
                    out.update((r.index, overview_of(r)) for r in results)
            yield (start + len(group)) / max(len(indices), 1), f"first pass: {start + len(group)}/{len(indices)} listed frames"
        return out

    def refine(self, index: int, settings: RefineSettings) -> Generator[tuple[float, str], None, FrameResult]:
        yield 1.0, NOT_REFINED
        return self.compute_initial(index)

    def refine_many(self, indices: list[int], settings: RefineSettings
                    ) -> Generator[tuple[float, str], None, dict[int, FrameResult]]:
        yield 0.0, NOT_REFINED
        out = {}
        for k, i in enumerate(indices):
            out[i] = self.compute_initial(i)
            yield (k + 1) / len(indices), f"{k + 1}/{len(indices)} listed frames (not refined: the job's correction)"
        return out

    def _batch(self, rows: list[int], corrected: bool) -> FrameBatch:
        """The rows' given (or corrected) joints in their cameras as 3D predictions, with the current keypoints."""
        b = frame_batch(self.review.inputs(rows, corrected))
        idx = np.asarray(rows, np.int64)
        return FrameBatch(idx, self._keypoints[idx], b.K, b.predictions, np.ones(len(rows), bool))

    def _compute(self, rows: list[int], meshes: bool) -> list[FrameResult]:
        before = drain(run(self.pipeline, self._batch(rows, corrected=False), meshes=meshes))
        after = drain(run(self.pipeline, self._batch(rows, corrected=True), meshes=meshes))
        out = []
        for b, a in zip(before, after):
            moved = np.linalg.norm(a.before.joints - b.before.joints, axis=-1)  # (2, 21) mm
            m = replace(a.metrics_before, moved_mm=float(np.nanmean(moved)) if np.isfinite(moved).any() else np.nan)
            out.append(replace(b, after=a.before, metrics_after=m, intersection_points_after=a.intersection_points_before,
                               intersection_probs_after=a.intersection_probs_before))
        return out

    # --- views and export -----------------------------------------------------------------------
    def density_cloud(self, estimate: HandsEstimate, hand: int, resolution: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Occupancy of one hand on a grid around it (as `VideoPipeline.density_cloud`)."""
        with self._lock:
            return self.pipeline.density_cloud(estimate.joints[hand], hand, resolution)

    def export_context(self) -> dict:
        """Each listed frame has its own camera (in the results' camera_K); the export records the canvas's
        default camera and the review list as the source."""
        from handviewer.io.camera import default_camera

        return {"camera": default_camera(*self.review.canvas), "sources": {"review list": str(self.review.path)},
                "from_predictions": {i: True for i in range(self.frame_count)}}


__all__ = ["NOT_REFINED", "ReviewComputer"]
