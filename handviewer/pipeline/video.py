"""`VideoPipeline`: the compute behind one opened video in the app (implements
`handviewer.pipeline.contract.FrameComputer`) over the shared `run`.

Called from worker threads; holds no GUI objects. Each frame's initial estimate and unrefined
result are computed once (`InitialCache`), so refining a frame never recomputes them; a user's
keypoint correction forgets that frame's cache.

The subject shape (`hand.subject`: each hand's bone lengths and palm layout) is estimated once, in
`warm_up` (a worker with progress), from all of the video's inputs, and held by every frame's initial
estimate: a frame's result does not depend on which frames were seen before it, and it is the same in
the app and in `process`. A session restores the shape it was saved with (`use_subject_shape`) so that
its results are reproduced; keypoint edits do not change it (detecting the hands again does).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Generator

import numpy as np

from handviewer.pipeline.inputs import VideoInputs, load_video_inputs
from handviewer.pipeline.overview import FrameOverview, overview_of
from handviewer.pipeline.results import FrameResult, HandsEstimate
from handviewer.pipeline.run import FrameBatch, InitialCache, run
from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.stages import Pipeline
from handviewer.progress import drain, scaled

BATCH = 16  # frames the app refines at once (`handviewer process` takes its --batch)
FIRST_PASS_BATCH = 32  # frames per batch of the first pass (the lock is released between batches)


class VideoPipeline:
    def __init__(self, frames, video_path=None, predictions=None, keypoints=None, camera=None,
                 pipeline: Pipeline | None = None, inputs: VideoInputs | None = None) -> None:
        self.frame_count = frames.frame_count
        # Detection (a video with nothing beside it) waits for `warm_up`, which runs in a worker with
        # the progress bar and Cancel; building this object must stay quick.
        self.inputs = inputs or load_video_inputs(video_path, self.frame_count, frames.size, keypoints, predictions,
                                                  camera, detect=False)
        self._video_path, self._camera = video_path, camera
        self._use_inputs(self.inputs)
        self.pipeline = pipeline or Pipeline()
        self._cache = InitialCache()
        self.shape = None  # the video's SubjectShape (None: frames fitted on their own), set by warm_up
        self._shape_known = False  # estimated, or restored from a session
        self._said: set[str] = set()  # warnings already given
        self._lock = threading.RLock()  # torch models are shared by the workers; one computation at a time

    def _use_inputs(self, inputs: VideoInputs) -> None:
        n = self.frame_count
        self.inputs = inputs
        kp = inputs.keypoints if inputs.keypoints is not None else np.full((n, 2, 21, 3), np.nan, np.float32)
        self._keypoints = np.array(kp, dtype=np.float32)
        self._predicted_frames = inputs.predicted_frames(n)  # (T,) bool, see VideoInputs

    def _detect_if_bare(self) -> Generator[tuple[float, str], None, None]:
        """With neither keypoints nor predictions, detect the hands (or take an earlier detection)."""
        if self._video_path is None or self.inputs.keypoints is not None or self.inputs.predictions is not None:
            return
        from handviewer.detect.cache import iter_cached_or_detect

        path, note = yield from iter_cached_or_detect(self._video_path)
        if path is not None:
            inputs = load_video_inputs(self._video_path, self.frame_count, self.inputs.size, path, None, self._camera,
                                       detect=False)
            inputs.notes.insert(0, note)
            self._use_inputs(inputs)
        else:
            self.inputs.notes.insert(0, note)

    # --- detection on demand (a bare video whose detection was cancelled, unavailable or empty) ---
    def needs_keypoints(self) -> bool:
        """Whether no frame has 2D keypoints or 3D predictions (nothing to estimate hands from)."""
        return self.inputs.predictions is None and not np.isfinite(self._keypoints[..., :2]).any()

    def detect_all(self) -> Generator[tuple[float, str], None, str]:
        """Detect both hands in every frame (MediaPipe Hands), save them beside the video (or in the
        per-user cache) and use them: every frame's keypoints (edits included: the front end sends
        its user's corrections again) and cached estimates are replaced. Returns a note."""
        from handviewer.detect.cache import save_detections
        from handviewer.detect.video import iter_detect

        if self._video_path is None:
            raise ValueError("no video to detect hands in")
        with self._lock:
            detections = yield from iter_detect(self._video_path)
            path = save_detections(self._video_path, detections)
            inputs = load_video_inputs(self._video_path, self.frame_count, self.inputs.size, path, None,
                                       self._camera, detect=False)
            self._use_inputs(inputs)
            self._cache = InitialCache()
            self._estimate_shape()  # new inputs: a new estimate
        s = detections.summary()
        return (f"hands detected: both hands in {s['frames_with_both_hands']} of {s['frames']} frames, one in "
                f"{s['frames_with_a_hand'] - s['frames_with_both_hands']}; saved to {path}")

    def detect_frame(self, index: int, image: np.ndarray) -> np.ndarray:
        """Both hands' 2D keypoints in frame `index`'s image (H, W, 3) uint8 RGB, by the side the detector gives
        (its most confident hand of each side): (2, 21, 3) float32 x px, y px, confidence; NaN where
        no hand was found. Does not change this video's keypoints (the caller applies them as an edit)."""
        from handviewer.detect import make_detector

        if getattr(self, "_detector", None) is None:
            self._detector = make_detector()
        out = np.full((2, 21, 3), np.nan, np.float32)
        best = [-1.0, -1.0]
        for hand in self._detector.detect_image(np.ascontiguousarray(image)):
            side = 0 if hand.side == "right" else 1
            if hand.score > best[side]:
                best[side] = hand.score
                out[side, :, :2] = hand.xy
                out[side, :, 2] = hand.score
        return out

    # --- keypoints ----------------------------------------------------------------------------
    def keypoints(self, index: int) -> np.ndarray:
        return self._keypoints[index].copy()

    def set_keypoints(self, index: int, keypoints: np.ndarray) -> None:
        kp = np.asarray(keypoints, dtype=np.float32)
        if kp.shape != (2, 21, 3):
            raise ValueError(f"keypoints must have shape (2, 21, 3), got {kp.shape}")
        with self._lock:
            self._keypoints[index] = kp
            self._cache.forget(index)

    # --- compute ------------------------------------------------------------------------------
    def warm_up(self) -> Generator[tuple[float, str], None, list[str]]:
        """Detect the hands of a bare video (nothing beside it), load the models; returns what looks
        wrong with the inputs (see `VideoInputs.warnings`)."""
        with self._lock:
            yield from scaled(self._detect_if_bare(), 0.0, 0.8, "detecting hands")
            yield from scaled(self.pipeline.warm_up(), 0.8, 0.9)
            if not self._shape_known:
                yield 0.9, "estimating the hands' shape over the video"
                self._estimate_shape()
        return self.inputs.messages()

    # --- the subject shape ----------------------------------------------------------------------
    def _estimate_shape(self) -> None:
        from handviewer.pipeline.shape import video_shape

        n = self.frame_count
        self.shape = video_shape(self.pipeline, self.inputs.keypoints, self.inputs.intrinsics(np.arange(n)),
                                 self.inputs.predictions, self._predicted_frames)
        self._shape_known = True

    def use_subject_shape(self, data: dict | None) -> None:
        """Hold a saved shape (`SubjectShape.to_json()`, e.g. from the session) instead of estimating
        one; None does nothing. Forgets the cached estimates made with another shape."""
        from handviewer.hand.subject import SubjectShape

        shape = SubjectShape.from_json(data)
        if shape is None:
            return
        with self._lock:
            self.shape, self._shape_known = shape, True
            self._cache = InitialCache()

    def subject_shape(self) -> dict | None:
        """The shape held (`SubjectShape.to_json()`), None before `warm_up` or when there is none."""
        return self.shape.to_json() if self.shape is not None else None

    def _use_predictions(self, index: int) -> bool:
        """Whether a frame starts from the imported 3D predictions. A correction of its 2D keypoints
        keeps them (an uplift from 2D alone is far worse than most estimators' 3D): the refinement
        fits the hands to the corrected keypoints."""
        return bool(self._predicted_frames[index])

    def batch(self, indices: list[int]) -> FrameBatch:
        """The frames' current inputs (edited keypoints included) as a FrameBatch."""
        idx = np.asarray(indices, dtype=np.int64)
        predicted = np.array([self._use_predictions(i) for i in indices], bool)
        return FrameBatch(idx, self._keypoints[idx], self.inputs.intrinsics(idx),
                          None if self.inputs.predictions is None else self.inputs.predictions[idx], predicted,
                          self.shape)

    def compute_initial(self, index: int) -> FrameResult:
        with self._lock:
            if index in self._cache.before:
                return self._cache.before[index]
            return drain(run(self.pipeline, self.batch([index]), cache=self._cache))[0]

    def first_pass(self, indices: list[int] | None = None) -> Generator[tuple[float, str], None, dict[int, FrameOverview]]:
        """The initial estimate and its exact intersection metrics for many frames (default: all),
        batched; yields progress and returns index -> `FrameOverview`. Each frame's initial estimate
        is kept (`InitialCache.initial`), so showing or refining it later does not redo the uplift/IK;
        the meshes for display are not made here (they would cost more than the metrics)."""
        indices = list(range(self.frame_count)) if indices is None else sorted(indices)
        out: dict[int, FrameOverview] = {}
        total = max(len(indices), 1)
        for start in range(0, len(indices), FIRST_PASS_BATCH):
            group = indices[start:start + FIRST_PASS_BATCH]
            with self._lock:  # released between batches: a frame the user opens is computed in between
                known = {i: overview_of(self._cache.before[i]) for i in group if i in self._cache.before}
                todo = [i for i in group if i not in known]
                # Shares the cache's initial estimates, but not its unrefined results (those have meshes).
                scratch = InitialCache(initial=self._cache.initial)
                results = []
                if todo:
                    results = yield from scaled(run(self.pipeline, self.batch(todo), meshes=False, cache=scratch),
                                                start / total, (start + len(group)) / total)
            out.update(known)
            out.update((r.index, overview_of(r)) for r in results)
            yield (start + len(group)) / total, f"first pass: {start + len(group)}/{len(indices)} frames"
        return out

    def refine(self, index: int, settings: RefineSettings) -> Generator[tuple[float, str], None, FrameResult]:
        results = yield from self.refine_many([index], settings)
        return results[index]

    def refine_many(self, indices: list[int], settings: RefineSettings) -> Generator[tuple[float, str], None, dict[int, FrameResult]]:
        out: dict[int, FrameResult] = {}
        total = len(indices)
        with self._lock:
            warning = self.pipeline.use_device(settings.device)
        if warning and warning not in self._said:  # once: the settings panel also says so
            self._said.add(warning)
            print(f"handviewer: warning: {warning}", file=sys.stderr)
            yield 0.0, warning
        ordered = sorted(indices)
        for group in (ordered[k : k + BATCH] for k in range(0, total, BATCH)):
            with self._lock:
                done = len(out)
                results = yield from scaled(run(self.pipeline, self.batch(group), settings, cache=self._cache),
                                            done / total, (done + len(group)) / total)
            out.update((r.index, r) for r in results)
        return out

    def export_context(self) -> dict:
        """What an export records beside the results: the camera used (`handviewer.io.Camera`), the
        inputs' sources, per frame whether its initial estimate came from the 3D predictions, and the
        subject shape held (`subject_shape`)."""
        return {"camera": self.inputs.camera(), "sources": dict(self.inputs.sources),
                "from_predictions": {i: self._use_predictions(i) for i in range(self.frame_count)},
                "subject_shape": self.subject_shape()}

    def density_cloud(self, estimate: HandsEstimate, hand: int, resolution: int = 32) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:  # use_device may run between two calls: take the device and the network together
            return self.pipeline.density_cloud(estimate.joints[hand], hand, resolution)
