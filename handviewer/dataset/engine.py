"""Where a job's pending shards are computed: in this process (`local`, no cluster) or on Ray Data
(`ray`: this machine, or a cluster with `address`). Both run `ShardCleaner`, which writes each
finished shard into the work folder; both yield (shards done, frames done, seconds the shard took on
its worker, message) as shards finish.

On Ray, the shards are a dataset of shard numbers mapped by `map_batches(ShardCleaner, ...)`: an actor
pool of `workers` actors, each loading the networks once, one shard per call, `gpus_per_worker` GPUs
each; or, with `metrics_workers`, by two stages with their own resources: `ShardFitter` (fit and
refine, the GPUs) then `ShardMeasurer` (the metrics, CPU actors). On a cluster the work folder must be on storage every node sees (the workers read their
shards' inputs there and write their results there).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Generator
from pathlib import Path

ENGINES = ("local", "ray")


def run_local(work: Path, pending: list[int], cleaner: dict) -> Generator[tuple[int, int, float, str], None, None]:
    """Compute the pending shards one after another in this process (torch threads restored after)."""
    import torch

    from handviewer.dataset.worker import ShardCleaner

    threads = torch.get_num_threads()
    try:
        worker = ShardCleaner(str(work), **cleaner)
        frames = 0
        for done, shard in enumerate(pending, 1):
            start = time.perf_counter()
            frames += worker.compute_shard(shard)
            yield done, frames, time.perf_counter() - start, f"shard {shard}"
    finally:
        torch.set_num_threads(threads)


def ray_unavailable() -> str | None:
    """Why the Ray engine cannot run in this program (None when it can): the packaged desktop build
    leaves Ray out (packaging/handviewer.spec: Ray starts its workers as Python processes and its own
    server binaries, which a frozen program does not provide; with Ray Data's pyarrow and pandas it is
    about 500 MB), or ray is not installed."""
    import importlib.util

    if getattr(sys, "frozen", False):
        return ("the packaged handviewer has no Ray engine: use --engine local here (this machine's cores), or "
                "run clean-dataset --engine ray / --ray-address from a pip install of handviewer")
    if importlib.util.find_spec("ray") is None:
        return "the Ray engine needs ray[data]: pip install 'ray[data]' (or use --engine local)"
    return None


def ray_init_kwargs(address: str | None = None, num_cpus: int | None = None) -> dict:
    """`ray.init` arguments for a dataset job: no dashboard, workers importing this handviewer (its
    folder first on their PYTHONPATH, so a checkout is used over an installed copy) with one
    OpenMP thread each; `num_cpus` only for a local instance."""
    import handviewer

    root = str(Path(handviewer.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    import logging

    kwargs = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING,
              "runtime_env": {"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"}}}
    if address:
        kwargs["address"] = address
    elif num_cpus:
        kwargs["num_cpus"] = num_cpus
    return kwargs


def run_ray(work: Path, pending: list[int], cleaner: dict, workers: int, address: str | None = None,
            gpus_per_worker: float = 0.0, metrics_workers: int = 0) -> Generator[tuple[int, int, float, str], None, None]:
    """Compute the pending shards on Ray Data. Uses the Ray instance this process already joined;
    else joins `address` (a cluster) or starts a local one with `workers` (+ `metrics_workers`) CPUs,
    and stops what it started when done. metrics_workers > 0: the metrics are a second map_batches
    stage of that many CPU actors (`stages.ShardMeasurer`) after the `workers` that fit and refine
    (`stages.ShardFitter`, `gpus_per_worker` GPUs each); the same results either way."""
    from handviewer.io.errors import MissingDependencyError

    try:
        import ray
    except ImportError as e:  # pragma: no cover - ray is a dependency; a broken install lands here
        raise MissingDependencyError("the Ray engine needs ray[data]: pip install 'ray[data]'") from e
    from handviewer.dataset.worker import ShardCleaner

    started = not ray.is_initialized()
    if started:
        ray.init(**ray_init_kwargs(address, None if address else workers + metrics_workers))
    try:
        _quiet(ray)
        kwargs = {"fn_constructor_kwargs": {"work": str(work), **cleaner}, "batch_size": 1, "batch_format": "numpy"}
        ds = ray.data.from_items([{"shard": s} for s in pending], override_num_blocks=len(pending))
        if metrics_workers:
            from handviewer.dataset.stages import ShardFitter, ShardMeasurer

            ds = ds.map_batches(ShardFitter, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
                                num_gpus=gpus_per_worker or None, **kwargs)
            ds = ds.map_batches(ShardMeasurer, compute=ray.data.ActorPoolStrategy(size=metrics_workers), num_cpus=1,
                                **kwargs)
        else:
            ds = ds.map_batches(ShardCleaner, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
                                num_gpus=gpus_per_worker or None, **kwargs)
        frames = 0
        for done, row in enumerate(ds.iter_rows(), 1):
            frames += int(row["frames"])
            yield done, frames, float(row["seconds"]), f"shard {int(row['shard'])} ({float(row['seconds']):.1f} s on a worker)"
    finally:
        if started:
            ray.shutdown()


def _quiet(ray) -> None:
    """Our progress line replaces Ray Data's own progress bars and execution log lines."""
    import logging

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ctx = ray.data.DataContext.get_current()
    for name in ("enable_progress_bars", "enable_operator_progress_bars"):
        if hasattr(ctx, name):
            setattr(ctx, name, False)


__all__ = ["ENGINES", "ray_init_kwargs", "ray_unavailable", "run_local", "run_ray"]
