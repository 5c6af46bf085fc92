"""TEST DOUBLES (not part of the package): a fake `FrameComputer` and a fake `FrameSource`.

The "hands" are two overlapping icospheres (radius 40 mm, about 400 mm in front of the
camera); joints lie on a circle around each sphere's centre; intersection points are
grid points inside both spheres. Refinement pushes the spheres apart step by step.
Used by tests/gui, tests/render and benchmarks/bench_gui.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

import numpy as np
import trimesh

from handviewer.pipeline.settings import RefineSettings
from handviewer.pipeline.results import FrameMetrics, FrameResult, HandsEstimate

RADIUS = 40.0  # mm
DEPTH = 400.0  # mm
_SPHERE = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
SPHERE_VERTS = np.asarray(_SPHERE.vertices, np.float32)  # (162, 3)
SPHERE_FACES = np.asarray(_SPHERE.faces, np.int64)  # (320, 3)


def intrinsics(size=(640, 480)) -> np.ndarray:
    w, h = size
    return np.array([[600.0, 0, w / 2], [0, 600.0, h / 2], [0, 0, 1]])


def separation(index: int) -> float:
    """Distance between the sphere centres for a frame: every 5th frame (4, 9, ...) the spheres
    do not touch; otherwise they overlap by 15..30 mm."""
    return 2 * RADIUS + 20.0 if index % 5 == 4 else 2 * RADIUS - 15.0 - 5.0 * (index % 4)


def make_estimate(centres: np.ndarray) -> HandsEstimate:
    """centres (2, 3) mm -> two spheres; joints on a circle (radius 30 mm) around each centre."""
    angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], 1) * 30.0
    joints = np.stack([np.vstack([c, c + ring]) for c in centres]).astype(np.float32)  # (2, 21, 3)
    vertices = np.stack([SPHERE_VERTS * RADIUS + c for c in centres]).astype(np.float32)
    faces = np.stack([SPHERE_FACES, SPHERE_FACES[:, ::-1]])
    return HandsEstimate(joints=joints, vertices=vertices, faces=faces, params={"centre": centres.astype(np.float32)})


def intersections(centres: np.ndarray, step: float = 5.0):
    """Grid points inside both spheres (P, 3) and a probability-like weight (P,)."""
    lo, hi = centres.min(0) - RADIUS, centres.max(0) + RADIUS
    axes = [np.arange(a, b + step, step) for a, b in zip(lo, hi)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    d = np.linalg.norm(grid[:, None, :] - centres[None], axis=-1)  # (G, 2)
    inside = (d < RADIUS).all(1)
    probs = np.clip(1.0 - d[inside].max(1) / RADIUS, 0, 1) * 2
    return grid[inside].astype(np.float32), np.clip(probs, 0, 1).astype(np.float32)


def metrics(centres: np.ndarray, points: np.ndarray, moved: float = 0.0) -> FrameMetrics:
    depth = max(0.0, 2 * RADIUS - float(np.linalg.norm(centres[0] - centres[1])))
    return FrameMetrics(intersection_count=float(len(points)), intersection_volume_cm3=len(points) * 0.125,
                        occupancy_count=float(len(points)), ave_p_mm=depth / 2, max_p_mm=depth,
                        reprojection_px=0.5, moved_mm=moved)


class FakeFrames:
    """TEST DOUBLE of handviewer.io's FrameSource: synthetic frames with a moving bright square."""

    def __init__(self, frame_count: int = 30, size=(640, 480), fps: float = 25.0) -> None:
        self.frame_count, self.size, self.fps = frame_count, size, fps
        w, h = size
        self._base = np.zeros((h, w, 3), np.uint8)
        self._base[..., 0] = np.linspace(20, 90, w, dtype=np.uint8)[None, :]
        self._base[..., 2] = np.linspace(40, 120, h, dtype=np.uint8)[:, None]
        self.reads = 0

    def read(self, index: int) -> np.ndarray:
        if not 0 <= index < self.frame_count:
            raise IndexError(index)
        self.reads += 1
        image = self._base.copy()
        x = 20 + (index * 17) % (self.size[0] - 60)
        image[200:240, x:x + 40] = 230
        return image


class FakeComputer:
    """TEST DOUBLE of handviewer.pipeline.contract.FrameComputer (two spheres as hands).

    initial_delay / refine_step_delay : seconds, to make work slow (cancel tests).
    fail_on : frames whose compute_initial raises RuntimeError.
    """

    def __init__(self, frame_count: int = 30, size=(640, 480), initial_delay: float = 0.0,
                 refine_step_delay: float = 0.0, fail_on=(), warm_up_delay: float = 0.0) -> None:
        self.frame_count = frame_count
        self.K = intrinsics(size)
        self.initial_delay, self.refine_step_delay, self.warm_up_delay = initial_delay, refine_step_delay, warm_up_delay
        self.input_warnings: list[str] = []  # what warm_up reports about the inputs, like VideoPipeline
        self.fail_on = set(fail_on)
        self.first_pass_delay = 0.0
        self.bare = False  # needs_keypoints(): the video has nothing to estimate hands from
        self.detect_delay = 0.0
        self.confidence: dict[int, float] = {}  # frame -> keypoint confidence the first pass reports
        self.calls: Counter = Counter()
        self.threads: set[str] = set()
        self.edits: dict[int, np.ndarray] = {}
        self.closed_generators = 0
        self._lock = threading.Lock()

    # -- FrameComputer
    def keypoints(self, index: int) -> np.ndarray:
        with self._lock:
            if index in self.edits:
                return self.edits[index].copy()
        if self.bare:
            return np.full((2, 21, 3), np.nan, np.float32)
        return self._default_keypoints(index)

    def set_keypoints(self, index: int, keypoints: np.ndarray) -> None:
        self._record("set_keypoints")
        with self._lock:
            self.edits[index] = np.array(keypoints, np.float32, copy=True)

    def warm_up(self):
        self._record("warm_up")
        yield 0.0, "loading fake models"
        time.sleep(self.warm_up_delay)
        yield 1.0, "fake models ready"
        return list(self.input_warnings)

    def compute_initial(self, index: int) -> FrameResult:
        self._record("compute_initial")
        time.sleep(self.initial_delay)
        if index in self.fail_on:
            raise RuntimeError(f"synthetic failure computing frame {index}")
        centres = self._centres(index)
        points, probs = intersections(centres)
        return FrameResult(index=index, keypoints_2d=self.keypoints(index), before=make_estimate(centres),
                           metrics_before=metrics(centres, points), intersection_points_before=points,
                           intersection_probs_before=probs, camera_K=self.K.copy())

    def first_pass(self, indices):
        """Overviews of the frames' initial estimates (not via compute_initial, so its call count stays
        that of the frames shown); `first_pass_delay` seconds per frame."""
        from handviewer.pipeline.overview import overview_of

        self._record("first_pass")
        out = {}
        for k, index in enumerate(indices):
            time.sleep(self.first_pass_delay)
            centres = self._centres(index)
            points, _ = intersections(centres)
            kp = self.keypoints(index)
            kp[..., 2] = self.confidence.get(index, 1.0)
            result = FrameResult(index=index, keypoints_2d=kp, before=make_estimate(centres),
                                 metrics_before=metrics(centres, points))
            out[index] = overview_of(result)
            yield (k + 1) / len(indices), f"frame {index}"
        return out

    def needs_keypoints(self) -> bool:
        return self.bare

    def detect_all(self):
        """Bare: 'detects' the default keypoints of every frame."""
        self._record("detect_all")
        for k in range(4):
            time.sleep(self.detect_delay)
            yield (k + 1) / 4, "detecting"
        with self._lock:
            self.bare = False
            self.edits.clear()  # as VideoPipeline: the detection replaces every frame's keypoints
        return f"hands detected in {self.frame_count} frames"

    def detect_frame(self, index: int, image) -> np.ndarray:
        self._record("detect_frame")
        assert image.ndim == 3
        return self._default_keypoints(index)

    def refine(self, index: int, settings: RefineSettings):
        self._record("refine")
        initial = self.compute_initial(index)
        centres = self._centres(index)
        steps = max(1, settings.steps)
        try:
            for step in range(steps):
                if self.refine_step_delay:
                    time.sleep(self.refine_step_delay)
                yield step / steps, f"refining frame {index}: step {step + 1}/{steps}"
        except GeneratorExit:
            self.closed_generators += 1
            raise
        gap = max(0.0, 2 * RADIUS + 2.0 - float(np.linalg.norm(centres[0] - centres[1])))
        after = centres + np.array([[-gap / 2, 0, 0], [gap / 2, 0, 0]])
        points, probs = intersections(after)
        return replace(initial, after=make_estimate(after), metrics_after=metrics(after, points, moved=gap / 2),
                       intersection_points_after=points, intersection_probs_after=probs)

    def refine_many(self, indices, settings: RefineSettings):
        out = {}
        for k, index in enumerate(indices):
            gen = self.refine(index, settings)
            try:
                while True:
                    fraction, message = next(gen)
                    yield (k + fraction) / len(indices), message
            except StopIteration as stop:
                out[index] = stop.value
        return out

    def density_cloud(self, estimate: HandsEstimate, hand: int, resolution: int = 32):
        self._record("density_cloud")
        centre = estimate.joints[hand, 0].astype(np.float64)
        axis = np.linspace(-1.3 * RADIUS, 1.3 * RADIUS, resolution)
        grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3) + centre
        probs = 1.0 / (1.0 + np.exp((np.linalg.norm(grid - centre, axis=1) - RADIUS) / 4.0))
        keep = probs > 0.05
        return grid[keep].astype(np.float32), probs[keep].astype(np.float32)

    def export_context(self) -> dict:
        from handviewer.io import Camera

        return {"camera": Camera(self.K, 640, 480), "sources": {"video": "fake"},
                "from_predictions": {i: False for i in range(self.frame_count)}}

    # -- helpers
    def _record(self, name: str) -> None:
        self.calls[name] += 1
        self.threads.add(threading.current_thread().name)

    def _base_centres(self, index: int) -> np.ndarray:
        sep = separation(index)
        return np.array([[-sep / 2, 0.0, DEPTH], [sep / 2, 0.0, DEPTH]])

    def _default_keypoints(self, index: int) -> np.ndarray:
        joints = make_estimate(self._base_centres(index)).joints.astype(np.float64)
        uv = (joints @ self.K.T)[..., :2] / joints[..., 2:3]
        return np.concatenate([uv, np.ones((2, 21, 1))], -1).astype(np.float32)

    def _centres(self, index: int) -> np.ndarray:
        centres = self._base_centres(index)
        with self._lock:
            edit = self.edits.get(index)
        if edit is not None:  # an edited right wrist moves the right sphere (px -> mm at DEPTH)
            shift = (edit[0, 0, :2] - self._default_keypoints(index)[0, 0, :2]) * DEPTH / self.K[0, 0]
            centres[0, :2] += np.nan_to_num(shift)
        return centres
