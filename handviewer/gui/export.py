"""Export: the dialog's choices, and `export_results`, which hands cached results to the
writers of `handviewer.io.export` (InterHand2.6M JSON, NPZ, metrics CSV, PLY meshes).

Only data selection happens here (which estimate of which frame); the writers do the rest.
When `handviewer.io.export` or one of its writers is missing, `ExportNotAvailable` is raised
(shown to the user as a message).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.gui.workers import Partial
from handviewer.pipeline.results import FrameResult

EXPORT_FORMATS = {
    "interhand_json": "InterHand2.6M joint_3d JSON",
    "npz": "NPZ (joints, parameters, metrics)",
    "ply": "Per-frame PLY meshes",
    "metrics_csv": "Metrics CSV",
}
IO_EXPORTERS = {
    "interhand_json": "export_interhand_json",
    "npz": "export_npz",
    "ply": "export_mesh",
    "metrics_csv": "export_metrics_csv",
}


class ExportNotAvailable(RuntimeError):
    pass


@dataclass(frozen=True)
class ExportOptions:
    formats: tuple[str, ...]
    frames: str  # "all" | "verified" | "refined" (Session.frames_for)
    out_dir: str
    refined: bool = True  # export the refined estimate where there is one


def find_exporter(fmt: str) -> Callable:
    try:
        module = importlib.import_module("handviewer.io.export")
    except ImportError as exc:
        raise ExportNotAvailable(f"handviewer.io.export is not available ({exc})") from None
    fn = getattr(module, IO_EXPORTERS[fmt], None)
    if fn is None:
        raise ExportNotAvailable(f"handviewer.io.export has no {IO_EXPORTERS[fmt]}() for {EXPORT_FORMATS[fmt]}")
    return fn


def export_results(results: dict[int, FrameResult], options: ExportOptions, flags: dict[int, str] | None = None,
                   stem: str = "handviewer") -> list[Path]:
    """Write `results` (frame -> FrameResult) in each chosen format into ``options.out_dir``.

    Per frame the refined estimate is used when ``options.refined`` and the frame was refined,
    else the initial one. Files: <stem>_joint_3d.json, <stem>.npz, <stem>_metrics.csv and
    <stem>_meshes/frame<NNNNNN>_<right|left>.ply. Returns the paths written.
    """
    writers = {fmt: find_exporter(fmt) for fmt in options.formats}
    from handviewer.io.data import Joints3D, Keypoints2D

    out = Path(options.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = sorted(results)
    chosen = {i: results[i].estimate(options.refined) for i in frames}
    refined = {i: options.refined and results[i].after is not None for i in frames}
    indices = np.array(frames, dtype=np.int64)
    joints = Joints3D(np.stack([chosen[i].joints for i in frames]) if frames else np.zeros((0, 2, 21, 3)), indices)
    written: list[Path] = []
    if "interhand_json" in writers:
        written.append(out / f"{stem}_joint_3d.json")
        writers["interhand_json"](written[-1], joints)
    if "npz" in writers:
        keypoints = Keypoints2D(np.stack([results[i].keypoints_2d for i in frames]) if frames
                                else np.zeros((0, 2, 21, 3)), indices)
        extra = {"refined": np.array([refined[i] for i in frames]),
                 "verified": np.array([(flags or {}).get(i) == "verified" for i in frames])}
        written.append(out / f"{stem}.npz")
        writers["npz"](written[-1], joints, params={**_stacked_params(chosen, frames), **extra}, keypoints=keypoints)
    if "metrics_csv" in writers:
        metrics = {i: (results[i].metrics_after if refined[i] else results[i].metrics_before) for i in frames}
        written.append(out / f"{stem}_metrics.csv")
        writers["metrics_csv"](written[-1], metrics)
    if "ply" in writers:
        for i in frames:
            est = chosen[i]
            if est.vertices is None or est.faces is None:
                continue
            for hand, name in enumerate(("right", "left")):
                if np.isfinite(est.vertices[hand]).all():
                    written.append(out / f"{stem}_meshes" / f"frame{i:06d}_{name}.ply")
                    written[-1].parent.mkdir(exist_ok=True)
                    writers["ply"](written[-1], est.vertices[hand], est.faces[hand])
    return written


def _stacked_params(chosen: dict, frames: list[int]) -> dict[str, np.ndarray]:
    """Model parameters stacked over frames (T, 2, ...), for names present with one shape in all frames."""
    if not frames:
        return {}
    names = set.intersection(*(set(chosen[i].params) for i in frames))
    out = {}
    for name in sorted(names):
        arrays = [np.asarray(chosen[i].params[name]) for i in frames]
        if all(a.shape == arrays[0].shape for a in arrays):
            out[f"param_{name}"] = np.stack(arrays)
    return out


def export_job(computer, cached: dict[int, FrameResult], frames: list[int], options: ExportOptions,
               flags: dict[int, str], stem: str):
    """Generator for a worker: compute the chosen frames that have no result yet (initial
    estimates, handed back as `Partial` to be cached), then export. Returns the written paths."""
    for fmt in options.formats:
        find_exporter(fmt)  # fail before computing anything
    results = {i: cached[i] for i in frames if i in cached}
    missing = [i for i in frames if i not in cached]
    for k, index in enumerate(missing):
        yield k / max(len(missing), 1) * 0.9, f"Computing frame {index} for export"
        result = computer.compute_initial(index)
        results[index] = result
        yield Partial({index: result})
    yield 0.9, "Writing files"
    return export_results(results, options, flags=flags, stem=stem)
