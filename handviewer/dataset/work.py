"""A job's work folder: its frames in one global order, cut into shards, and each shard's results.

Global order: the annotation sets in the order given, each file's records in file order, keeping
only the frames with both hands (single-hand frames are copied unchanged and never computed).
Frame p of that order is in shard p // shard_size and in compute chunk p // chunk; a shard holds
whole chunks (shard_size is a multiple of chunk), so every chunk is refined as the same batch of
frames whatever the shard size or the number of workers: the results are bit-identical.

Layout of `.OUT.partial/` (beside the output folder, like `handviewer process`):
  job.json              the run key (settings, chunk, inputs' sizes and times, version); another key: start again
  prepared.json         written when every input shard is: frames, shard size, per-file counts
  inputs/shard_N.npz    the shard's frames (world joints, validity, camera), written once by `prepare`
  fitted/shard_N.npz    with a separate metrics stage: the shard's fitted and refined hands (`stages`)
  results/shard_N.npz   the shard's results, written atomically by whichever worker computed it
A shard with a readable results file is finished and never recomputed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import numpy as np

from handviewer.dataset.layout import AnnotationSet, CameraChooser, NO_CAMERA_K, both_hands, iter_records, record_joints

INPUT_KEYS = ("world", "valid", "R", "t", "K", "has_camera", "file_index", "ordinal")
RESULT_KEYS = ("refined_world", "initial_world", "volume_before", "depth_before", "count_before", "volume_after",
               "depth_after", "count_after")


def open_work_folder(out: Path, key: dict) -> Path:
    """The job's work folder beside `out`; one left by a job with another key is discarded."""
    work = out.with_name(f".{out.name}.partial")
    text = json.dumps(key, sort_keys=True)
    try:
        same = (work / "job.json").read_text(encoding="utf-8") == text
    except OSError:
        same = False
    if work.exists() and not same:
        shutil.rmtree(work)
    for sub in ("inputs", "results"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    if not same:
        _write_text(work / "job.json", text)
    return work


def read_prepared(work: Path) -> dict | None:
    """The prepare step's record (frames, shard_size, files), or None when it did not finish."""
    try:
        return json.loads((work / "prepared.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def prepare(work: Path, sets: list[AnnotationSet], shard_size: int) -> Generator[tuple[float, str], None, dict]:
    """Stream every joint_3d file once and write its both-hand frames as input shards of
    `shard_size` frames (the last one shorter). Returns (and records) the counts."""
    buffer: list[tuple] = []
    shard, frames, files = 0, 0, []
    for i, aset in enumerate(sets):
        choose = CameraChooser(aset)
        records = both = 0
        for ordinal, (capture, frame, record) in enumerate(iter_records(aset.joint_3d)):
            records += 1
            world, valid = record_joints(record, aset.joint_3d, capture, frame)
            if not both_hands(valid):
                continue
            cam = choose(capture, frame)
            buffer.append((world, valid, cam, i, ordinal))
            both += 1
            if len(buffer) == shard_size:
                _save(work / "inputs" / shard_name(shard), _input_arrays(buffer))
                frames, shard, buffer = frames + len(buffer), shard + 1, []
                yield (i + 0.5) / len(sets), f"reading {aset.joint_3d.name}: {frames} frames with both hands"
        files.append({"joint_3d": str(aset.joint_3d), "records": records, "both_hands": both})
        yield (i + 1) / len(sets), f"read {aset.joint_3d.name}: {records} frames, {both} with both hands"
    if buffer:
        _save(work / "inputs" / shard_name(shard), _input_arrays(buffer))
        frames, shard = frames + len(buffer), shard + 1
    prepared = {"frames": frames, "shards": shard, "shard_size": shard_size, "files": files}
    _write_text(work / "prepared.json", json.dumps(prepared))
    return prepared


def _input_arrays(rows: list[tuple]) -> dict[str, np.ndarray]:
    """A shard's input arrays (INPUT_KEYS); a frame without a camera gets identity R, zero t, NO_CAMERA_K."""
    eye, zero = np.eye(3), np.zeros(3)
    return {
        "world": np.stack([r[0] for r in rows]),  # (n, 42, 3) float64 mm world, InterHand order
        "valid": np.stack([r[1] for r in rows]),  # (n, 42) bool
        "R": np.stack([eye if r[2] is None else r[2].R for r in rows]),  # (n, 3, 3)
        "t": np.stack([zero if r[2] is None else r[2].t for r in rows]),  # (n, 3) mm
        "K": np.stack([NO_CAMERA_K if r[2] is None else r[2].K for r in rows]),  # (n, 3, 3) px
        "has_camera": np.array([r[2] is not None for r in rows]),
        "file_index": np.array([r[3] for r in rows], np.int32),  # index of the annotation set
        "ordinal": np.array([r[4] for r in rows], np.int64),  # record position in its joint_3d file
    }


def shard_name(shard: int) -> str:
    return f"shard_{shard:07d}.npz"


def load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def finished(work: Path, shard: int) -> bool:
    """Whether the shard's results file is there and whole (a killed writer leaves only a temp file)."""
    try:
        return set(RESULT_KEYS) <= load_npz(work / "results" / shard_name(shard)).keys()
    except (OSError, ValueError, KeyError, EOFError):
        return False


def pending_shards(work: Path, shards: int) -> list[int]:
    return [s for s in range(shards) if not finished(work, s)]


def iter_results(work: Path, shards: int) -> Iterator[dict[str, np.ndarray]]:
    """Per frame in global order, its inputs and results (one shard in memory at a time)."""
    for s in range(shards):
        arrays = {**load_npz(work / "inputs" / shard_name(s)), **load_npz(work / "results" / shard_name(s))}
        for k in range(len(arrays["file_index"])):
            yield {name: value[k] for name, value in arrays.items()}


def save_results(work: Path, shard: int, arrays: dict[str, np.ndarray]) -> None:
    _save(work / "results" / shard_name(shard), arrays)


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Arrays written atomically (a killed writer leaves only a temporary file)."""
    _save(path, arrays)


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    from handviewer.io._files import atomic_write

    with atomic_write(path, binary=True) as f:
        np.savez(f, **arrays)


def _write_text(path: Path, text: str) -> None:
    from handviewer.io._files import atomic_write

    with atomic_write(path) as f:
        f.write(text)


__all__ = ["INPUT_KEYS", "RESULT_KEYS", "finished", "iter_results", "load_npz", "open_work_folder", "pending_shards",
           "prepare", "read_prepared", "save_npz", "save_results", "shard_name"]
