"""`handviewer process`: a whole video through the pipeline, resumable, then exported.

Frames go through `run` in batches; each finished batch is saved atomically in a work folder
beside the output (`.OUT.partial/`), keyed by the run: the settings and the inputs' content
(`inputs.fingerprint`), so an interrupted run resumes where it stopped and a run with other inputs
or settings never reuses its frames. The export is written into that folder and replaces OUT only
when complete (`export.staged_folder`): OUT is always one whole run, or absent.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Generator
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from handviewer.pipeline.run import FrameBatch, run
from handviewer.pipeline.export import ExportTable, check_target, staged_folder, write_export, write_meshes
from handviewer.pipeline.settings import RefineSettings
from handviewer.progress import drain, scaled


def process_video(video: Path, out: Path, keypoints: Path | None = None, predictions: Path | None = None,
                  camera: Path | None = None, settings: RefineSettings | None = None, batch: int = 32,
                  meshes: bool = False, metrics: bool = True, overwrite: bool = False,
                  hold_shape: bool = True) -> Generator[tuple[float, str], None, dict]:
    """Process every frame; returns a summary dict. Yields (fraction, message).

    hold_shape: estimate each hand's shape (bone lengths and palm layout: `hand.subject`) once from
    the whole video and hold it in every frame (`pipeline.shape.video_shape`; the export's
    metadata.json records it as `subject_shape`); False: each frame fitted on its own.

    settings.device: "auto" (CUDA where present, unless `batch` is too small for it to pay: see
    `Pipeline.device_for`), "cpu" or "cuda" (an error where torch sees none). Every frame runs on the
    one device, which the metadata records. An existing export in `out` is replaced only with
    `overwrite`; a folder of other files never. Bad inputs and options fail before any work."""
    from handviewer.io import open_frames
    from handviewer.pipeline.inputs import load_video_inputs
    from handviewer.pipeline.stages import Pipeline

    settings = settings or RefineSettings()
    if not str(out).strip():
        raise ValueError("the output folder is empty: pass --out DIR")
    out = Path(out).resolve()
    if batch < 1:
        raise ValueError(f"the batch size must be at least 1, got {batch}")
    check_target(out, overwrite)
    pipeline = Pipeline(settings.device)
    pipeline.use_device(pipeline.device_for(batch).type)  # "auto" resolved once, so the last, short batch too
    settings = replace(settings, device=pipeline.device.type)
    with open_frames(video) as frames:
        n, size = frames.frame_count, frames.size
        if hasattr(frames, "check"):  # an image folder: a bad image must stop the run, not pass unseen
            yield from scaled(frames.check(), 0.0, 0.01)
    inputs = load_video_inputs(video, n, size, keypoints, predictions, camera)
    if inputs.keypoints is None and inputs.predictions is None:
        raise ValueError(f"no 2D keypoints or 3D predictions found for {video}: pass --keypoints or --predictions")
    for line in inputs.loaded:
        print(f"handviewer: {line}", file=sys.stderr)
    for warning in inputs.warnings():
        print(f"handviewer: warning: {warning}", file=sys.stderr)
    options = {**asdict(settings), "metrics": metrics, "meshes": meshes, "batch": batch,
               "hold_shape": hold_shape}
    partial = _work_folder(out, _run_key(options, inputs))
    yield from _resumed_message(partial, n)
    yield from scaled(pipeline.warm_up(), 0.01, 0.05)
    started, computed = time.perf_counter(), 0
    predicted = inputs.predicted_frames(n)
    shape = None
    if hold_shape:  # from the inputs alone (not from which batches are done), so a resumed run holds the same
        from handviewer.pipeline.shape import video_shape

        yield 0.05, "estimating the hands' shape over the video"
        shape = video_shape(pipeline, inputs.keypoints, inputs.intrinsics(np.arange(n)), inputs.predictions, predicted)
    for start in range(0, n, batch):
        path = partial / f"frames_{start:07d}.npz"
        if _readable(path):
            continue  # done in an earlier run
        idx = np.arange(start, min(start + batch, n))
        frame_batch = _frame_batch(inputs, idx, predicted, shape)
        results = drain(run(pipeline, frame_batch, settings, metrics=metrics, meshes=meshes))
        for r in results if meshes else ():
            write_meshes(partial / "export", r)
        table = ExportTable.from_results(results, from_predictions=dict(zip(idx.tolist(), predicted[idx].tolist())))
        _save_npz(path, table.arrays())
        computed += len(idx)
        yield 0.05 + 0.94 * (idx[-1] + 1) / max(n, 1), f"frames {idx[0]}-{idx[-1]} of {n}"
    seconds = time.perf_counter() - started
    table = ExportTable.concat([_load_table(p) for p in sorted(partial.glob("frames_*.npz"))])
    with staged_folder(out, overwrite=True, staging=_clean_staging(partial / "export")) as folder:
        write_export(folder, table, inputs.camera(), options, inputs.sources, meshes=meshes, device=settings.device,
                     subject_shape=shape.to_json() if shape is not None else None)
        # From here on the work folder must not be resumed: its export/ (the meshes) becomes `out`.
        (partial / "run.json").unlink()
    shutil.rmtree(partial, ignore_errors=True)
    yield 1.0, "exported"
    return _summary(table, metrics, out, computed, seconds)


def _frame_batch(inputs, idx: np.ndarray, predicted: np.ndarray, shape=None) -> FrameBatch:
    kp = inputs.keypoints[idx] if inputs.keypoints is not None else np.full((len(idx), 2, 21, 3), np.nan, np.float32)
    return FrameBatch(idx, np.asarray(kp, np.float32), inputs.intrinsics(idx),
                      None if inputs.predictions is None else inputs.predictions[idx], predicted[idx], shape)


def _run_key(options: dict, inputs) -> str:
    """What a finished batch depends on: the settings and every input's content."""
    from handviewer.pipeline.inputs import fingerprint

    files = {name: fingerprint(path) for name, path in inputs.sources.items() if path and path != "default"}
    K = inputs.K if inputs.K_frames is None else inputs.K_frames
    return json.dumps({"options": options, "inputs": files, "K": np.asarray(K).tolist()}, sort_keys=True)


def _work_folder(out: Path, key: str) -> Path:
    """The run's work folder beside `out`; an earlier run's folder with another key is discarded
    (its frames came from other inputs or settings)."""
    partial = out.with_name(f".{out.name}.partial")
    key_file = partial / "run.json"
    try:
        same = key_file.read_text(encoding="utf-8") == key
    except OSError:
        same = False
    if partial.exists() and not same:
        shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    if not same:
        from handviewer.io._files import atomic_write

        with atomic_write(key_file) as f:
            f.write(key)
    return partial


def _clean_staging(folder: Path) -> Path:
    """The work folder's export/ with only what the batches wrote (meshes/): files an export killed
    half-way left there (temporary files) must not reach the output."""
    folder.mkdir(exist_ok=True)
    for entry in folder.iterdir():
        if entry.name != "meshes":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return folder


def _resumed_message(partial: Path, n: int):
    done = sum(len(_load_table(p)) for p in partial.glob("frames_*.npz") if _readable(p))
    if done:
        yield 0.01, f"resuming: {done} of {n} frames done in an earlier run"


def _readable(path: Path) -> bool:
    try:
        _load_table(path)
        return True
    except (OSError, ValueError, KeyError, EOFError):
        return False


def _load_table(path: Path) -> ExportTable:
    with np.load(path) as f:
        return ExportTable.from_arrays({k: f[k] for k in f.files})


def _save_npz(path: Path, arrays: dict) -> None:
    from handviewer.io._files import atomic_write

    with atomic_write(path, binary=True) as f:
        np.savez(f, **arrays)


def _summary(table: ExportTable, metrics: bool, out: Path, computed: int, seconds: float) -> dict:
    from handviewer.intersect.resolved import is_intersecting
    from handviewer.pipeline.export import METRIC_NAMES

    vol, depth = METRIC_NAMES.index("intersection_volume_cm3"), METRIC_NAMES.index("max_p_mm")
    # None, not 0, when the metrics were skipped (--no-metrics): nobody counted. (Frames with one hand
    # have a NaN volume and count as not intersecting.) Soft contact is not intersecting: the one rule.
    intersecting = lambda m: sum(is_intersecting(v, d) for v, d in m[:, [vol, depth]]) if metrics else None  # noqa: E731
    return {"frames": int(len(table)), "intersecting_before": intersecting(table.metrics_before),
            "intersecting_after": intersecting(table.metrics_after), "out": str(out),
            "frames_computed_now": computed, "seconds": round(seconds, 2),
            "frames_per_second": round(computed / seconds, 2) if computed else None}

