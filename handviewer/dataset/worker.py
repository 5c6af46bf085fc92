"""`ShardCleaner`: the per-worker compute of a dataset job, a callable class for Ray Data's
`map_batches` (and called in-process by the local engine, so both paths run the same code).

It loads the networks once, when the worker starts, then for each shard: reads its input frames,
puts them through the steps of `handviewer.pipeline.run` in fixed chunks of the global frame order
(`stages.fit`: IK fit of the world joints moved into the frame's camera, refinement with the 2D term on
the projected joints; `stages.measure`: metrics before and after), and writes the shard's results
atomically into the work folder. With a separate metrics stage the two steps run in two workers
(`stages.ShardFitter`, `stages.ShardMeasurer`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from handviewer.dataset import work as W
from handviewer.dataset.layout import to_camera
from handviewer.hand.skeleton import NUM_JOINTS, from_interhand


class ShardCleaner:
    """Computes shards of a job's work folder.

    work     : the job's work folder (shared storage when the workers run on other machines).
    settings : `RefineSettings` fields (a dict, so that Ray can ship it).
    chunk    : frames refined together; fixed by the job, never by the worker or the shard.
    threads  : torch threads per worker; fixed by the job (a reduction split over another number of
               threads rounds differently), 1 by default: workers, not threads, use the cores.
    """

    def __init__(self, work: str, settings: dict, chunk: int, threads: int = 1) -> None:
        import torch

        from handviewer.pipeline.settings import RefineSettings
        from handviewer.pipeline.stages import Pipeline
        from handviewer.progress import drain

        torch.set_num_threads(threads)
        self.work, self.chunk = Path(work), chunk
        self.settings = RefineSettings(**settings)
        self.pipeline = Pipeline(self.settings.device)
        self.pipeline.use_device(self.pipeline.device_for(chunk).type)  # "auto" resolved once, for every chunk
        drain(self.pipeline.warm_up())

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Ray Data batch {"shard": (k,) int} -> {"shard", "frames", "seconds"} after writing each shard."""
        shards = [int(s) for s in batch["shard"]]
        frames, seconds = [], []
        for shard in shards:
            start = time.perf_counter()
            frames.append(self.compute_shard(shard))
            seconds.append(time.perf_counter() - start)
        return {"shard": np.array(shards, np.int64), "frames": np.array(frames, np.int64),
                "seconds": np.array(seconds, np.float64)}

    def compute_shard(self, shard: int) -> int:
        """Compute one shard and write its results; returns its frame count."""
        inputs = W.load_npz(self.work / "inputs" / W.shard_name(shard))
        n = len(inputs["file_index"])
        parts = [self.compute(_rows(inputs, slice(s, min(s + self.chunk, n)))) for s in range(0, n, self.chunk)]
        W.save_results(self.work, shard, {k: np.concatenate([p[k] for p in parts]) for k in W.RESULT_KEYS})
        return n

    def compute(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One chunk's input arrays (`work.INPUT_KEYS`) -> its result arrays (`work.RESULT_KEYS`): both
        stages (`stages.fit`, `stages.measure`: what `pipeline.run` does) in this worker."""
        from handviewer.dataset.stages import fit, measure

        return measure(self.pipeline, inputs, fit(self.pipeline, inputs, self.settings))


def frame_batch(inputs: dict[str, np.ndarray]):
    """A chunk's frames as a `FrameBatch`: the world joints in each frame's camera (our order, NaN
    where invalid) as 3D predictions, their projections (confidence 1) as 2D keypoints, and each
    frame's intrinsics. Frames without a camera: world frame, no keypoints (no 2D term)."""
    from handviewer.io.camera import project
    from handviewer.pipeline.run import FrameBatch

    n = len(inputs["file_index"])
    cam = np.stack([to_camera(w, R, t) for w, R, t in zip(inputs["world"], inputs["R"], inputs["t"])])  # (n, 42, 3)
    cam[~inputs["valid"]] = np.nan
    joints = from_interhand(cam).reshape(n, 2, NUM_JOINTS, 3)  # (n, 2, 21, 3) mm camera frame, our order
    keypoints = np.full((n, 2, NUM_JOINTS, 3), np.nan, np.float32)
    for k in np.flatnonzero(inputs["has_camera"]):
        keypoints[k, ..., :2] = project(joints[k], inputs["K"][k])
        keypoints[k, ..., 2] = np.where(np.isfinite(joints[k, ..., 0]), 1.0, np.nan)
    return FrameBatch(np.arange(n), keypoints, inputs["K"].astype(np.float64), joints.astype(np.float32),
                      np.ones(n, bool))


def _rows(arrays: dict[str, np.ndarray], rows: slice) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in arrays.items()}


__all__ = ["ShardCleaner", "frame_batch"]
