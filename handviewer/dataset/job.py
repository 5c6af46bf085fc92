"""`clean_dataset`: InterHand2.6M annotation sets in, corrected joint_3d files and a report out.

Steps: find the annotation sets -> `work.prepare` (stream the joint_3d files once into input shards)
-> compute the pending shards (`engine`: local loop or Ray Data) -> one streamed pass writing the
corrected files, the per-frame CSV and the tallies (`outputs`) -> summary, review list, plots, HTML
(`report`). The output folder is written whole (a staging folder swapped in when complete); the work
folder beside it is kept until then, so a killed job resumes with its finished shards.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Generator
from dataclasses import asdict
from pathlib import Path

from handviewer.dataset import work as W
from handviewer.dataset.engine import ENGINES
from handviewer.dataset.layout import CAMERA_SUFFIX, JOINT_SUFFIX, find_annotation_sets
from handviewer.pipeline.settings import RefineSettings

COMMAND = "clean-dataset"
OUTPUT_FILES = ("frames.csv", "summary.json", "review.json", "report.html")


def clean_dataset(paths: list[str | Path], out: str | Path, settings: RefineSettings | None = None, *,
                  chunk: int = 32, shard_size: int = 1024, engine: str = "local", workers: int = 1,
                  ray_address: str | None = None, gpus_per_worker: float = 0.0, metrics_workers: int = 0,
                  threads: int = 1,
                  review_moved_mm: float = 10.0, html: bool = True,
                  overwrite: bool = False) -> Generator[tuple[float, str], None, dict]:
    """Clean every frame with both hands of the annotation sets named by `paths` (joint_3d files or
    folders); yields (fraction, message), returns the summary dict.

    chunk      : frames refined together (part of the result: see `work`); shard_size: frames per
                 resumable unit, a multiple of `chunk` (an interrupted job keeps its first value).
    engine     : "local" (this process) or "ray" (`workers` actors; `ray_address` for a cluster).
    metrics_workers: with the Ray engine, > 0 makes the metrics a separate stage of that many CPU actors
                 (GPU workers then only fit and refine); the results are the same.
    threads    : torch threads per worker (part of the result, like chunk).
    review_moved_mm: frames that moved more than this (largest joint) go to the review list.
    """
    settings = settings or RefineSettings()
    out = _check_options(out, chunk, shard_size, engine, workers, threads, review_moved_mm)
    if metrics_workers < 0 or (metrics_workers and engine != "ray"):
        raise ValueError("metrics workers (a separate Ray Data stage) need the Ray engine and a count >= 0")
    _check_target(out, overwrite)
    sets = find_annotation_sets(paths)
    for s in sets:
        if s.camera is None:  # what the user would otherwise learn only from summary.json's empty camera
            print(f"handviewer: warning: no {s.joint_3d.name.replace(JOINT_SUFFIX, CAMERA_SUFFIX)} beside "
                  f"{s.joint_3d}: its frames are refined in the world frame without the 2D term", file=sys.stderr)
    key = {"command": COMMAND, "version": _version(), "settings": asdict(settings), "chunk": chunk, "threads": threads,
           "inputs": [[_stamp(p) for p in (s.joint_3d, s.camera, s.data)] for s in sets]}
    work = W.open_work_folder(out, key)
    prepared = W.read_prepared(work)
    if prepared is None:
        prepared = yield from _scaled(W.prepare(work, sets, shard_size), 0.0, 0.05)
    elif prepared["shard_size"] != shard_size:
        yield 0.05, f"resuming with the earlier run's shard size {prepared['shard_size']}"
    pending = W.pending_shards(work, prepared["shards"])
    if len(pending) < prepared["shards"]:
        yield 0.05, f"resuming: {prepared['shards'] - len(pending)} of {prepared['shards']} shards done earlier"
    cleaner = {"settings": asdict(settings), "chunk": chunk, "threads": threads}
    started, computed, worker_seconds = time.perf_counter(), 0, 0.0
    if pending:
        from handviewer.dataset.engine import run_local, run_ray

        runner = (run_local(work, pending, cleaner) if engine == "local" else
                  run_ray(work, pending, cleaner, workers, ray_address, gpus_per_worker, metrics_workers))
        total = sum(min(prepared["shard_size"], prepared["frames"] - s * prepared["shard_size"]) for s in pending)
        for done, computed, shard_seconds, message in runner:
            worker_seconds += shard_seconds
            yield 0.05 + 0.85 * computed / max(total, 1), f"{computed}/{total} frames, {message}"
    seconds = time.perf_counter() - started
    summary = yield from _finish(out, work, sets, prepared, review_moved_mm, html)
    summary["run"] = {"engine": engine, "workers": workers if engine == "ray" else 1, "metrics_workers": metrics_workers,
                      "chunk": chunk,
                      "shard_size": prepared["shard_size"], "threads": threads, "settings": asdict(settings),
                      "frames_computed_now": computed, "seconds": round(seconds, 2),
                      # time inside the workers' shard computations, summed (the rest: start-up, transport)
                      "worker_seconds": round(worker_seconds, 2),
                      "frames_per_second": round(computed / seconds, 2) if computed else None}
    from handviewer.dataset.report import write_json

    write_json(out / "summary.json", summary)
    return summary


def _finish(out: Path, work: Path, sets, prepared: dict, review_moved_mm: float, html: bool):
    """Write the outputs into a staging folder that replaces `out` when complete."""
    import shutil

    from handviewer.dataset.outputs import Tally, open_table, write_set
    from handviewer.dataset.report import summary as make_summary, write_html, write_json, write_plots
    from handviewer.pipeline.export import swap_into_place

    staging = work / "output"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    tally = Tally(review_moved_mm)
    results = W.iter_results(work, prepared["shards"])
    names = _output_names(sets)
    f, table = open_table(staging / "frames.csv")
    total, done = max(sum(info["records"] for info in prepared["files"]), 1), 0
    with f:
        for i, aset in enumerate(sets):
            yield 0.9 + 0.08 * done / total, f"writing {names[i]}"
            for written in write_set(aset, i, staging / names[i], results, table, tally):
                yield 0.9 + 0.08 * (done + written) / total, f"writing {names[i]}: {written} records"
            done += prepared["files"][i]["records"]
    files = [{**info, "output": names[i], "camera": str(s.camera or ""), "data": str(s.data or "")}
             for i, (s, info) in enumerate(zip(sets, prepared["files"]))]
    summary = {"command": COMMAND, **make_summary(tally, files)}
    write_json(staging / "review.json", tally.review)
    plots = write_plots(staging, tally)
    if html:
        write_html(staging / "report.html", summary, tally.review, plots)
    write_json(staging / "summary.json", summary)
    swap_into_place(staging, out)
    shutil.rmtree(work, ignore_errors=True)
    yield 1.0, "done"
    return summary


def _output_names(sets) -> list[str]:
    """Each set's output file name: its input name, numbered when two inputs share a name."""
    names = [s.joint_3d.name for s in sets]
    return [n if names.count(n) == 1 else f"{i:03d}_{n}" for i, n in enumerate(names)]


def _check_options(out, chunk, shard_size, engine, workers, threads, review_moved_mm) -> Path:
    if not str(out).strip():
        raise ValueError("the output folder is empty: pass --out DIR")
    if chunk < 1 or shard_size < 1 or shard_size % chunk:
        raise ValueError(f"the shard size ({shard_size}) must be a positive multiple of the chunk ({chunk})")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "ray":
        from handviewer.dataset.engine import ray_unavailable

        if (why := ray_unavailable()) is not None:  # before any work: a job must not half-start
            raise ValueError(why)
    if workers < 1 or threads < 1:
        raise ValueError("workers and threads must be at least 1")
    if not review_moved_mm >= 0:
        raise ValueError(f"the review threshold must be >= 0 mm, got {review_moved_mm}")
    return Path(out).resolve()


def _check_target(out: Path, overwrite: bool) -> None:
    """`out` must be absent, empty, or (with `overwrite`) an earlier clean-dataset output."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"the output must be a folder, but {out} is a file")
    if not out.exists() or not any(out.iterdir()):
        return
    try:
        ours = json.loads((out / "summary.json").read_text(encoding="utf-8")).get("command") == COMMAND
    except (OSError, ValueError, AttributeError):
        ours = False
    if not ours:
        raise ValueError(f"{out} holds other files: choose an empty folder or a new name")
    if not overwrite:
        raise ValueError(f"{out} already holds a clean-dataset output: pass --overwrite to replace it")


def _stamp(path: Path | None) -> list | None:
    """What identifies an input file cheaply: [path, size, mtime_ns]."""
    if path is None:
        return None
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]


def _version() -> str:
    from handviewer import __version__

    return __version__


def _scaled(gen, lo: float, hi: float):
    from handviewer.progress import scaled

    return scaled(gen, lo, hi)


__all__ = ["COMMAND", "clean_dataset"]
