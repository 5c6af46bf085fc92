"""`handviewer process`: a whole video through the pipeline, resumable, then exported.

Frames are processed in batches; each finished batch is saved atomically under
`OUT/.partial/`, so an interrupted run resumes where it stopped. The exports are written only
when every frame is done (each file atomically), then the partial results are removed.
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

from handviewer.pipeline.settings import RefineSettings
from handviewer.progress import drain, scaled
from handviewer.pipeline.results import FrameMetrics

METRIC_NAMES = tuple(FrameMetrics.__dataclass_fields__)


def process_video(video: Path, out: Path, keypoints: Path | None = None, predictions: Path | None = None,
                  camera: Path | None = None, settings: RefineSettings | None = None, batch: int = 32,
                  meshes: bool = False, metrics: bool = True) -> Generator[tuple[float, str], None, dict]:
    """Process every frame; returns a summary dict. Yields (fraction, message).

    settings.device: "auto" (CUDA where present, unless `batch` is too small for it to pay: see
    `Pipeline.device_for`), "cpu" or "cuda" (an error where torch sees none). Every frame runs on the
    one device, which the metadata records."""
    from handviewer.pipeline.video import VideoPipeline
    from handviewer.io import open_frames
    from handviewer.pipeline.stages import Pipeline

    settings = settings or RefineSettings()
    out = Path(out)
    if batch < 1:
        raise ValueError(f"the batch size must be at least 1, got {batch}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"the output must be a folder, but {out} is a file")
    pipeline = Pipeline(settings.device)
    pipeline.use_device(pipeline.device_for(batch).type)  # "auto" resolved once, so the last, short batch too
    settings = replace(settings, device=pipeline.device.type)
    with open_frames(video) as frames:
        computer = VideoPipeline(frames, video, predictions=predictions, keypoints=keypoints, camera=camera,
                                 pipeline=pipeline)
    n = computer.frame_count
    if computer.inputs.keypoints is None and computer.inputs.predictions is None:
        raise ValueError(f"no 2D keypoints or 3D predictions found for {video}: pass --keypoints or --predictions")
    for warning in computer.inputs.warnings():
        print(f"handviewer: warning: {warning}", file=sys.stderr)
    # Only once the inputs are known to be good: a typo must not leave an empty output folder behind.
    partial = out / ".partial"
    partial.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # What a finished batch depends on: a resumed run with other settings, metrics, meshes or batch
    # size redoes it, and the earlier run's batches go (they would overlap the new ones).
    settings_key = json.dumps({**asdict(settings), "metrics": metrics, "meshes": meshes, "batch": batch}, sort_keys=True)
    finished: dict[Path, int] = {}  # batch file -> its frame count
    for old in sorted(partial.glob("frames_*.npz")):
        count = _finished_frames(old, settings_key)
        if count is None:
            old.unlink()
        else:
            finished[old] = count
    if finished:
        yield 0.0, f"resuming: {sum(finished.values())} of {n} frames done in an earlier run"
    yield from scaled(pipeline.warm_up(), 0.0, 0.05)
    computed = 0
    for start in range(0, n, batch):
        path = partial / f"frames_{start:07d}.npz"
        if path in finished:
            continue  # done in an earlier run
        indices = list(range(start, min(start + batch, n)))
        groups = computer._groups(indices, batch)  # noqa: SLF001 - same batching rules as the app
        arrays: dict[str, list] = {"index": [], "before": [], "after": [], "present": [], "params_before": [], "params_after": []}
        rows_before, rows_after = [], []
        for group in groups:
            initial, kp, K = computer._initial_batch(group)  # noqa: SLF001
            refined = drain(pipeline.refine(initial, kp, K, settings))
            arrays["index"] += group
            arrays["before"].append(initial.joints.numpy())
            joints_after = refined.joints().detach().numpy()
            joints_after[~initial.present.numpy()] = np.nan
            arrays["after"].append(joints_after)
            arrays["present"].append(initial.present.numpy())
            arrays["params_before"].append(_flat_params(initial.pair))
            arrays["params_after"].append(_flat_params(refined))
            for i in range(len(group)):
                if metrics:
                    rows_before.append(_row(pipeline.metrics(initial.pair, initial.present, i, kp[i], K[i], initial.joints[i].numpy())[0]))
                    rows_after.append(_row(pipeline.metrics(refined, initial.present, i, kp[i], K[i], initial.joints[i].numpy())[0]))
                else:
                    rows_before.append(_row(FrameMetrics()))
                    rows_after.append(_row(FrameMetrics()))
                if meshes:
                    _write_meshes(out / "meshes", group[i], pipeline.estimate(initial.pair, initial.present, i),
                                  pipeline.estimate(refined, initial.present, i))
        _save_npz(path, settings=np.array(settings_key), index=np.array(arrays["index"]),
                  before=np.concatenate(arrays["before"]), after=np.concatenate(arrays["after"]),
                  present=np.concatenate(arrays["present"]), params_before=np.concatenate(arrays["params_before"]),
                  params_after=np.concatenate(arrays["params_after"]),
                  metrics_before=np.array(rows_before, np.float64), metrics_after=np.array(rows_after, np.float64))
        computed += len(indices)
        yield 0.05 + 0.94 * (indices[-1] + 1) / max(n, 1), f"frames {indices[0]}-{indices[-1]} of {n}"
    seconds = time.perf_counter() - started
    summary = _export(out, partial, n, settings, computer.inputs, metrics, meshes)
    summary.update({"frames_computed_now": computed, "seconds": round(seconds, 2),
                    "frames_per_second": round(computed / seconds, 2) if computed else None})
    shutil.rmtree(partial, ignore_errors=True)
    yield 1.0, "exported"
    return summary


def _finished_frames(path: Path, key: str) -> int | None:
    """Frames in a batch file written with these settings; None when it was written with others or
    cannot be read (an interrupted write): it is then recomputed."""
    try:
        with np.load(path) as f:
            return len(f["index"]) if str(f["settings"]) == key else None
    except (OSError, ValueError, KeyError):
        return None


def _flat_params(pair) -> np.ndarray:
    """(N, 2, 57): per hand rot (3), trans (3), bones (20), angles (31)."""
    hands = []
    for p in (pair.right, pair.left):
        hands.append(np.concatenate([p.rot.detach().numpy(), p.trans.detach().numpy(), p.bones.detach().numpy(),
                                     p.angles.detach().numpy()], -1))
    return np.stack(hands, 1).astype(np.float32)


def _row(m: FrameMetrics) -> list[float]:
    return [float(getattr(m, k)) for k in METRIC_NAMES]


def _save_npz(path: Path, **arrays) -> None:
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def _write_meshes(folder: Path, index: int, before, after) -> None:
    from handviewer.io import export_mesh

    folder.mkdir(parents=True, exist_ok=True)
    for tag, est in (("before", before), ("after", after)):
        for h, side in enumerate(("right", "left")):
            if np.isfinite(est.vertices[h]).all():
                export_mesh(folder / f"frame{index:06d}_{tag}_{side}.ply", est.vertices[h], est.faces[h])


def _export(out: Path, partial: Path, n: int, settings: RefineSettings, inputs, metrics: bool, meshes: bool) -> dict:
    from handviewer.io import Joints3D, export_interhand_json, export_metadata, export_metrics_csv, export_npz

    parts = [np.load(p) for p in sorted(partial.glob("frames_*.npz"))]
    index = np.concatenate([p["index"] for p in parts])
    order = np.argsort(index)
    cat = lambda key: np.concatenate([p[key] for p in parts])[order]  # noqa: E731
    index = index[order]
    before, after = cat("before").astype(np.float32), cat("after").astype(np.float32)
    mb, ma = cat("metrics_before"), cat("metrics_after")
    export_interhand_json(out / "joint_3d_before.json", Joints3D(before, index))
    export_interhand_json(out / "joint_3d_after.json", Joints3D(after, index))
    export_npz(out / "hands.npz", Joints3D(after, index), params={
        "joints_before": before, "params_before": cat("params_before"), "params_after": cat("params_after"),
        "present": cat("present"), "params_layout": np.array("per hand: rot(3) trans(3) bones(20) angles(31); left = mirrored right"),
    })
    to_metrics = lambda rows: {int(i): FrameMetrics(**dict(zip(METRIC_NAMES, r))) for i, r in zip(index, rows)}  # noqa: E731
    export_metrics_csv(out / "metrics_before.csv", to_metrics(mb))
    export_metrics_csv(out / "metrics_after.csv", to_metrics(ma))
    files = {"joint_3d_before.json": "InterHand2.6M joint_3d, initial estimate",
             "joint_3d_after.json": "InterHand2.6M joint_3d, refined",
             "hands.npz": "our order (T, 2, 21, 3) mm, refined joints + before joints + parameters",
             "metrics_before.csv": "per-frame metrics of the initial estimate" + ("" if metrics else " (skipped: empty)"),
             "metrics_after.csv": "per-frame metrics after refinement" + ("" if metrics else " (skipped: empty)")}
    if meshes:
        files["meshes/"] = "frameNNNNNN_{before,after}_{right,left}.ply, refined-detail meshes, mm"
    export_metadata(out / "metadata.json", index, settings={**asdict(settings), "metrics": metrics, "meshes": meshes},
                    sources=inputs.sources, files=files)
    [p.close() for p in parts]
    col = METRIC_NAMES.index("intersection_volume_cm3")
    # None, not 0, when the metrics were skipped (--no-metrics): nobody counted. (Frames with one hand
    # have a NaN volume and count as not intersecting.)
    intersecting = lambda m: int((m[:, col] > 0).sum()) if metrics else None  # noqa: E731
    return {"frames": int(len(index)), "intersecting_before": intersecting(mb), "intersecting_after": intersecting(ma),
            "out": str(out)}

