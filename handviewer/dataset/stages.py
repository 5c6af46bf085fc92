"""A dataset job's compute in two stages, so that on a cluster the GPU workers fit and refine while
CPU workers measure (`clean-dataset --metrics-workers N`: Ray Data `map_batches` stages with their
own resources; the exact intersection volume and depths are CPU mesh work either way).

- `fit(pipeline, inputs, settings)`: a chunk's frames -> both hands' parameters before (IK of the
  given joints) and after refinement, the steps `pipeline.run` takes before its metrics.
- `measure(pipeline, inputs, fitted)`: those parameters -> the chunk's results (`work.RESULT_KEYS`):
  joints back in the world frame and the metrics before and after, as `pipeline.run` measures them
  (`Pipeline.plain_meshes_and_occupancy`, `Pipeline.estimate`, `Pipeline.metrics`).
Both take fixed chunks of the global frame order, so the results are the same bytes whether the
stages run in one worker or two (tested against `pipeline.run`, `tests/dataset/test_dataset_stages.py`).

Between the stages a shard's parameters lie in the work folder (`fitted/shard_N.npz`, written
atomically), like its inputs and results: shared storage on a cluster, and a resumed job measures a
fitted shard without fitting it again.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from handviewer.dataset import work as W
from handviewer.dataset.layout import to_world
from handviewer.hand.skeleton import to_interhand

FITTED = "fitted"
_HANDS = ("right", "left")


def fit(pipeline, inputs: dict[str, np.ndarray], settings) -> dict[str, np.ndarray]:
    """One chunk's inputs (`work.INPUT_KEYS`) -> {initial_/refined_ + right_/left_ + rot/trans/bones/angles,
    present (n, 2) bool, initial_joints (n, 2, 21, 3) mm}: what `pipeline.run` refines, unmeasured."""
    from handviewer.dataset.worker import frame_batch
    from handviewer.pipeline.run import initial_estimate
    from handviewer.progress import drain

    batch = frame_batch(inputs)
    initial = initial_estimate(pipeline, batch)
    refined = drain(pipeline.refine(initial, batch.keypoints, batch.K, settings))
    out = {"present": initial.present.numpy(), "initial_joints": initial.joints.numpy()}
    for when, pair in (("initial", initial.pair), ("refined", refined)):
        for side, hand in zip(_HANDS, (pair.right, pair.left)):
            out.update({f"{when}_{side}_{k}": v for k, v in hand.numpy().items()})
    return out


def measure(pipeline, inputs: dict[str, np.ndarray], fitted: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One chunk's inputs and `fit` output -> its results (`work.RESULT_KEYS`), as `pipeline.run` with
    metrics=True, meshes=False measures them."""
    import torch

    from handviewer.dataset.worker import frame_batch

    present = torch.as_tensor(fitted["present"])
    initial_joints = fitted["initial_joints"]
    batch = frame_batch(inputs)
    R, t, valid, world = inputs["R"], inputs["t"], inputs["valid"], inputs["world"]
    out = {k: [] for k in W.RESULT_KEYS}
    for when, name in (("initial", "before"), ("refined", "after")):
        pair = _pair(fitted, when)
        plain = pipeline.plain_meshes_and_occupancy(pair, present)
        with torch.no_grad():
            posed = pair.joints()  # the batch at once, not a frame at a time
        for i in range(len(present)):
            joints = pipeline.estimate(pair, present, i, meshes=False, batch_joints=posed).joints
            back = to_world(to_interhand(joints).astype(np.float64), R[i], t[i])  # (42, 3) mm world
            out[f"{when}_world"].append(np.where(valid[i][:, None], back, world[i]))  # invalid joints kept as given
            frame = (plain[0][i], int(plain[1][i])) if np.isfinite(plain[1][i]) else None
            m, _, _ = pipeline.metrics(pair, present, i, batch.keypoints[i], batch.K[i], initial_joints[i],
                                       intersections=True, plain=frame, batch_joints=posed)
            out[f"volume_{name}"].append(m.intersection_volume_cm3)
            out[f"depth_{name}"].append(m.max_p_mm)
            out[f"count_{name}"].append(m.intersection_count)
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


def _pair(fitted: dict[str, np.ndarray], when: str):
    """The PairParams `fit` saved (their own dtype kept: the same numbers as in memory)."""
    import torch

    from handviewer.hand.pair import PairParams
    from handviewer.hand.params import HandParams

    hands = [HandParams(**{k: torch.as_tensor(fitted[f"{when}_{side}_{k}"]) for k in ("rot", "trans", "bones", "angles")})
             for side in _HANDS]
    return PairParams(*hands)


# ----------------------------------------------------------------------------- the two workers


class _StageWorker:
    """Shared by the two stages: the job's settings, chunk and threads; a pipeline on `device`."""

    def __init__(self, work: str, settings: dict, chunk: int, threads: int = 1, device: str | None = None) -> None:
        import torch

        from handviewer.pipeline.settings import RefineSettings
        from handviewer.pipeline.stages import Pipeline
        from handviewer.progress import drain

        torch.set_num_threads(threads)
        self.work, self.chunk = Path(work), chunk
        self.settings = RefineSettings(**settings)
        self.pipeline = Pipeline(device or self.settings.device)
        self.pipeline.use_device(self.pipeline.device_for(chunk).type)  # "auto" resolved once, for every chunk
        drain(self.pipeline.warm_up())

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Ray Data batch {"shard": (k,) int, ...} -> {"shard", "frames", "seconds"} (seconds summed over the stages)."""
        shards = [int(s) for s in batch["shard"]]
        before = batch.get("seconds", np.zeros(len(shards)))
        frames, seconds = [], []
        for shard, earlier in zip(shards, before):
            start = time.perf_counter()
            frames.append(self.run_shard(shard))
            seconds.append(float(earlier) + time.perf_counter() - start)
        return {"shard": np.array(shards, np.int64), "frames": np.array(frames, np.int64),
                "seconds": np.array(seconds, np.float64)}

    def chunks(self, shard: int):
        inputs = W.load_npz(self.work / "inputs" / W.shard_name(shard))
        n = len(inputs["file_index"])
        return n, [(slice(s, min(s + self.chunk, n)), {k: v[s:s + self.chunk] for k, v in inputs.items()})
                   for s in range(0, n, self.chunk)]


class ShardFitter(_StageWorker):
    """Stage 1 (GPU workers on a cluster): fits and refines a shard, writes `fitted/shard_N.npz`."""

    def run_shard(self, shard: int) -> int:
        path = self.work / FITTED / W.shard_name(shard)
        n, chunks = self.chunks(shard)
        if _whole(path):
            return n  # fitted before an interruption
        parts = [fit(self.pipeline, inputs, self.settings) for _, inputs in chunks]
        path.parent.mkdir(exist_ok=True)
        W.save_npz(path, {k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
        return n


class ShardMeasurer(_StageWorker):
    """Stage 2 (CPU workers): measures a fitted shard and writes its results."""

    def __init__(self, work: str, settings: dict, chunk: int, threads: int = 1) -> None:
        super().__init__(work, settings, chunk, threads, device="cpu")

    def run_shard(self, shard: int) -> int:
        fitted = W.load_npz(self.work / FITTED / W.shard_name(shard))
        n, chunks = self.chunks(shard)
        parts = [measure(self.pipeline, inputs, {k: v[rows] for k, v in fitted.items()}) for rows, inputs in chunks]
        W.save_results(self.work, shard, {k: np.concatenate([p[k] for p in parts]) for k in W.RESULT_KEYS})
        return n


def _whole(path: Path) -> bool:
    try:
        return "present" in W.load_npz(path)
    except (OSError, ValueError, KeyError, EOFError):
        return False


__all__ = ["FITTED", "ShardFitter", "ShardMeasurer", "fit", "measure"]
