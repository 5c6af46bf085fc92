"""The one export of results, written by `handviewer process` and the app's Export alike.

Files in the output folder (all frames sorted; our joint order unless said):
  joint_3d_before.json / joint_3d_after.json  InterHand2.6M `joint_3d` layout, camera frame, mm
  camera.json                                 InterHand2.6M camera layout for those files (identity
                                              rotation, zero position, the intrinsics used; when frames
                                              have their own cameras, e.g. an InterHand2.6M folder, one
                                              camera per frame, named by the frame number)
  hands.npz          joints (after) / joints_before (T, 2, 21, 3) mm, params_before / params_after
                     (T, 2, P) (layout in params_layout), present (T, 2), refined / verified /
                     rejected (T,), keypoints_2d, camera_K
  metrics_before.csv / metrics_after.csv      per-frame metrics of each estimate
  frames.csv         per frame: refined, verified, rejected, source of the initial estimate, hands
                     present, intersecting (the exported estimate; empty where not measured)
  metadata.json      units, joint order, frames, version, settings, sources, the camera used, files
  meshes/            frameNNNNNN_{before,after}_{right,left}.ply when asked for
"After" is the refined estimate where a frame was refined, else the initial one (`refined` says
which). A missing hand is NaN everywhere except the InterHand JSON (zeros, joint_valid false).

The folder is always one whole export: files are written into a staging folder beside it, which
replaces it only when complete (`staged_folder`).
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from handviewer.pipeline.results import FrameMetrics, FrameResult

METRIC_NAMES = tuple(f.name for f in fields(FrameMetrics))


def intersecting_after(table: "ExportTable") -> list[str]:
    """Per row, whether the exported (after) estimate still intersects (`intersect.resolved`): "1",
    "0", or "" where it was not measured (no intersection metrics, a hand missing)."""
    from handviewer.intersect.resolved import is_intersecting

    volume = table.metrics_after[:, METRIC_NAMES.index("intersection_volume_cm3")]
    depth = table.metrics_after[:, METRIC_NAMES.index("max_p_mm")]
    return ["" if not np.isfinite(v) else str(int(is_intersecting(v, d))) for v, d in zip(volume, depth)]


PARAM_NAMES = ("rot", "trans", "bones", "angles")  # HandParams' fields, in the flat layout's order


class ExportError(ValueError):
    """An export that cannot be written where asked (e.g. a folder of other files)."""


@dataclass
class ExportTable:
    """Everything an export holds, per frame (rows sorted by frame).

    index (T,) int64; joints_before / joints_after (T, 2, 21, 3) float32 mm; params_before /
    params_after (T, 2, P) float32 (per hand rot, trans, bones, angles; NaN for a missing hand);
    present (T, 2) bool; keypoints (T, 2, 21, 3) float32 px + confidence; metrics_before /
    metrics_after (T, len(METRIC_NAMES)) float64; refined / verified / rejected (T,) bool;
    from_predictions (T,) bool: initial estimate from 3D predictions (else uplift of the keypoints);
    camera_K (T, 3, 3) float64 px: each frame's intrinsics.
    """

    index: np.ndarray
    joints_before: np.ndarray
    joints_after: np.ndarray
    params_before: np.ndarray
    params_after: np.ndarray
    present: np.ndarray
    keypoints: np.ndarray
    metrics_before: np.ndarray
    metrics_after: np.ndarray
    refined: np.ndarray
    verified: np.ndarray
    rejected: np.ndarray
    from_predictions: np.ndarray
    camera_K: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    @staticmethod
    def from_results(results: Sequence[FrameResult], flags: Mapping[int, str] | None = None,
                     from_predictions: Mapping[int, bool] | None = None, use_refined: bool = True) -> "ExportTable":
        """Rows of `results` (any order); flags: frame -> "verified" | "rejected" (the session's);
        use_refined False exports the initial estimate as "after" for every frame."""
        results = sorted(results, key=lambda r: r.index)
        flags, from_predictions = flags or {}, from_predictions or {}
        rows = []
        for r in results:
            refined = use_refined and r.is_refined()
            after = r.after if refined else r.before
            present = r.before.present()
            rows.append(dict(
                index=r.index, joints_before=r.before.joints, joints_after=after.joints,
                params_before=flat_params(r.before.params, present), params_after=flat_params(after.params, present),
                present=present, keypoints=r.keypoints_2d,
                metrics_before=metric_row(r.metrics_before),
                metrics_after=metric_row(r.metrics_after if refined else r.metrics_before),
                refined=refined, verified=flags.get(r.index) == "verified", rejected=flags.get(r.index) == "rejected",
                from_predictions=bool(from_predictions.get(r.index, False)),
                camera_K=np.full((3, 3), np.nan) if r.camera_K is None else r.camera_K))
        return ExportTable.stack(rows)

    @staticmethod
    def stack(rows: Sequence[Mapping]) -> "ExportTable":
        """One table from per-frame dicts (keys: the field names), sorted by frame."""
        names = [f.name for f in fields(ExportTable)]
        if not rows:
            return ExportTable(**{name: _empty(name) for name in names})
        order = np.argsort([int(r["index"]) for r in rows], kind="stable")
        return ExportTable(**{name: _typed(name, np.stack([np.asarray(rows[i][name]) for i in order])) for name in names})

    @staticmethod
    def concat(tables: Sequence["ExportTable"]) -> "ExportTable":
        """Tables of disjoint frames as one, sorted by frame."""
        names = [f.name for f in fields(ExportTable)]
        if not tables:
            return ExportTable.stack([])
        index = np.concatenate([t.index for t in tables])
        if np.unique(index).size != index.size:
            raise ValueError("ExportTable.concat: frames repeat")
        order = np.argsort(index, kind="stable")
        return ExportTable(**{n: np.concatenate([getattr(t, n) for t in tables])[order] for n in names})

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def from_arrays(arrays: Mapping[str, np.ndarray]) -> "ExportTable":
        return ExportTable(**{f.name: _typed(f.name, np.asarray(arrays[f.name])) for f in fields(ExportTable)})


def flat_params(params: Mapping[str, np.ndarray], present: np.ndarray | None = None) -> np.ndarray:
    """HandsEstimate.params ({"right_rot": (3,), ...}) -> (2, P) float32, per hand PARAM_NAMES in order;
    NaN for a hand not `present` ((2,) bool; results saved by older versions kept a missing hand's
    placeholder parameters)."""
    hands = []
    for side in ("right", "left"):
        parts = [np.asarray(params.get(f"{side}_{name}", np.full(0, np.nan)), np.float32).reshape(-1) for name in PARAM_NAMES]
        hands.append(np.concatenate(parts))
    if hands[0].shape != hands[1].shape:
        raise ValueError("flat_params: the two hands' parameters differ in size")
    out = np.stack(hands)
    if present is not None:
        out[~np.asarray(present, bool)] = np.nan
    return out


def params_layout(size: int) -> str:
    """What each row of params_before/after holds, e.g. "per hand: rot(3) trans(3) bones(20) angles(36)"."""
    # 20 bones always; the angles are what is left (36 today, 31 in results saved before the twists)
    parts = {"rot": 3, "trans": 3, "bones": 20, "angles": size - 26}
    return "per hand: " + " ".join(f"{n}({parts[n]})" for n in PARAM_NAMES) + "; left = mirrored right; NaN = hand missing"


def metric_row(m: FrameMetrics | None) -> np.ndarray:
    """(len(METRIC_NAMES),) float64; all NaN for None."""
    m = m or FrameMetrics()
    return np.array([float(getattr(m, k)) for k in METRIC_NAMES], np.float64)


def _typed(name: str, array: np.ndarray) -> np.ndarray:
    if name == "index":
        return array.astype(np.int64)
    if name in ("present", "refined", "verified", "rejected", "from_predictions"):
        return array.astype(bool)
    if name.startswith("metrics") or name == "camera_K":
        return array.astype(np.float64)
    return array.astype(np.float32)


def _empty(name: str) -> np.ndarray:
    shapes = {"joints_before": (0, 2, 21, 3), "joints_after": (0, 2, 21, 3), "keypoints": (0, 2, 21, 3),
              "params_before": (0, 2, 0), "params_after": (0, 2, 0), "present": (0, 2),
              "metrics_before": (0, len(METRIC_NAMES)), "metrics_after": (0, len(METRIC_NAMES)), "camera_K": (0, 3, 3)}
    return _typed(name, np.zeros(shapes.get(name, (0,))))


# --- writing ----------------------------------------------------------------------------------
def write_export(folder: Path, table: ExportTable, camera, settings: Mapping, sources: Mapping[str, str],
                 meshes: bool = False, **extra) -> dict[str, str]:
    """Write every file of an export of `table` into `folder` (normally a `staged_folder`).

    camera : `handviewer.io.Camera`, the intrinsics used (written to metadata.json and camera.json).
    settings, sources : recorded in metadata.json (sources: what each input came from).
    meshes : whether meshes/ was written (by `write_meshes`). Returns file name -> description.
    extra  : more top-level entries of metadata.json, e.g. `subject_shape` (`SubjectShape.to_json()`:
        the bone lengths and palm layout held in every frame; None: each frame fitted on its own)."""
    from handviewer.io import Joints3D, Keypoints2D, export_interhand_json, export_metadata, export_metrics_csv, export_npz
    from handviewer.io._files import write_json

    folder = Path(folder)
    index = table.index
    export_interhand_json(folder / "joint_3d_before.json", Joints3D(table.joints_before, index))
    export_interhand_json(folder / "joint_3d_after.json", Joints3D(table.joints_after, index))
    own = own_cameras(table)
    write_json(folder / "camera.json", interhand_camera(camera) if not own else frame_cameras(table))
    export_npz(folder / "hands.npz", Joints3D(table.joints_after, index), keypoints=Keypoints2D(table.keypoints, index),
               camera=camera, params={
                   "joints_before": table.joints_before, "params_before": table.params_before,
                   "params_after": table.params_after, "params_layout": np.array(params_layout(table.params_after.shape[-1])),
                   "present": table.present, "refined": table.refined, "verified": table.verified,
                   "rejected": table.rejected, "from_predictions": table.from_predictions,
                   **({"camera_K_frames": table.camera_K} if own else {})})
    for tag, rows in (("before", table.metrics_before), ("after", table.metrics_after)):
        export_metrics_csv(folder / f"metrics_{tag}.csv",
                           {int(i): FrameMetrics(**dict(zip(METRIC_NAMES, r))) for i, r in zip(index, rows)})
    _write_frames_csv(folder / "frames.csv", table)
    files = {
        "joint_3d_before.json": "InterHand2.6M joint_3d, initial estimate (camera frame: see camera.json)",
        "joint_3d_after.json": "InterHand2.6M joint_3d, refined where refined, else initial",
        "camera.json": "InterHand2.6M camera file for the joint_3d files (identity rotation, zero position)",
        "hands.npz": "our order (T, 2, 21, 3) mm: joints (after), joints_before, parameters, flags",
        "metrics_before.csv": "per-frame metrics of the initial estimate",
        "metrics_after.csv": "per-frame metrics of the exported (after) estimate",
        "frames.csv": "per frame: refined, verified, rejected, source of the initial estimate, hands present, "
                      "intersecting (the exported estimate still intersects; empty: not measured)",
    }
    if own:
        files["camera.json"] = ("InterHand2.6M camera file: each frame's own camera, named by its frame number "
                                "(identity rotation, zero position: the joints are in each frame's camera frame)")
        files["hands.npz"] += ", camera_K_frames (T, 3, 3): each frame's intrinsics"
    if settings.get("metrics") is False:  # `process --no-metrics`
        for name in ("metrics_before.csv", "metrics_after.csv"):
            files[name] += " (intersection metrics skipped: empty columns)"
    if meshes:
        files["meshes/"] = "frameNNNNNN_{before,after}_{right,left}.ply, refined-detail meshes, mm"
    measured = intersecting_after(table)
    counts = {"frames": int(len(table)), "refined": int(table.refined.sum()), "verified": int(table.verified.sum()),
              "rejected": int(table.rejected.sum()),
              # null where no frame was measured (`--no-metrics`): not a count of 0 intersecting frames
              "intersecting": measured.count("1") if any(measured) else None}
    if own:  # `camera` is then the first frame's; say where each frame's is
        extra = {**extra, "cameras": "each frame its own: camera.json (named by frame number), hands.npz camera_K_frames"}
    export_metadata(folder / "metadata.json", index, settings=dict(settings), camera=camera, sources=dict(sources),
                    files=files, counts=counts, **extra)
    return files


def own_cameras(table: ExportTable) -> bool:
    """Whether the frames were seen through different cameras (an InterHand2.6M folder)."""
    K = table.camera_K
    return len(K) > 1 and bool(np.isfinite(K).all()) and not np.allclose(K, K[:1], rtol=0, atol=1e-6)


def frame_cameras(table: ExportTable, capture: str = "0") -> dict:
    """The InterHand2.6M camera layout with one camera per frame, named by the frame number."""
    out: dict = {"campos": {}, "camrot": {}, "focal": {}, "princpt": {}}
    for index, K in zip(table.index.tolist(), table.camera_K):
        name = str(index)
        out["campos"][name], out["camrot"][name] = [0.0, 0.0, 0.0], np.eye(3).tolist()
        out["focal"][name], out["princpt"][name] = [float(K[0, 0]), float(K[1, 1])], [float(K[0, 2]), float(K[1, 2])]
    return {capture: out}


def interhand_camera(camera, capture: str = "0", name: str = "0") -> dict:
    """The InterHand2.6M camera layout for coordinates already in the camera frame:
    {capture: {campos: {name: [0, 0, 0]}, camrot: {name: I}, focal: {name: [fx, fy]}, princpt: {name: [cx, cy]}}}."""
    return {capture: {"campos": {name: [0.0, 0.0, 0.0]}, "camrot": {name: np.eye(3).tolist()},
                      "focal": {name: [camera.fx, camera.fy]}, "princpt": {name: [camera.cx, camera.cy]}}}


def _write_frames_csv(path: Path, table: ExportTable) -> None:
    from handviewer.io._files import atomic_write

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("frame", "refined", "verified", "rejected", "source", "right_present", "left_present",
                     "intersecting"))
    intersecting = intersecting_after(table)
    for i in range(len(table)):
        writer.writerow((int(table.index[i]), int(table.refined[i]), int(table.verified[i]), int(table.rejected[i]),
                         "predictions" if table.from_predictions[i] else "keypoints",
                         int(table.present[i, 0]), int(table.present[i, 1]), intersecting[i]))
    with atomic_write(path) as f:
        f.write(buffer.getvalue())


def write_meshes(folder: Path, result: FrameResult) -> list[Path]:
    """PLY meshes of one frame's estimates into folder/meshes: frameNNNNNN_{before,after}_{right,left}.ply
    ("after" only when refined); missing hands are skipped. Returns the paths written."""
    from handviewer.io import export_mesh

    out = []
    for tag, est in (("before", result.before), ("after", result.after if result.is_refined() else None)):
        if est is None or est.vertices is None:
            continue
        for h, side in enumerate(("right", "left")):
            if np.isfinite(est.vertices[h]).all():
                path = Path(folder) / "meshes" / f"frame{result.index:06d}_{tag}_{side}.ply"
                path.parent.mkdir(parents=True, exist_ok=True)
                export_mesh(path, est.vertices[h], est.faces[h])
                out.append(path)
    return out


# --- the folder is one whole export -----------------------------------------------------------
def check_target(out: Path, overwrite: bool) -> None:
    """Raise ExportError unless `out` may receive an export: absent, empty, or (with `overwrite`)
    an earlier handviewer export. A folder of other files is never replaced."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExportError(f"the output must be a folder, but {out} is a file")
    if not out.exists() or not any(out.iterdir()):
        return
    own = export_entries(out)
    if own is None:
        raise ExportError(f"{out} holds other files: choose an empty folder or a new name")
    if not overwrite:
        raise ExportError(f"{out} already holds an export: pass --overwrite to replace it, or choose another folder")
    others = sorted(p.name for p in out.iterdir() if p.name not in own)
    if others:  # replacing the folder would delete them
        raise ExportError(f"{out} holds an export and other files ({', '.join(others[:3])}"
                          f"{', ...' if len(others) > 3 else ''}): move them out first, or choose another folder")


def export_entries(folder: Path) -> set[str] | None:
    """The names an earlier handviewer export in `folder` wrote (from its metadata.json), or None
    when `folder` holds no export."""
    import json

    try:
        with open(Path(folder) / "metadata.json", encoding="utf-8") as f:
            meta = json.load(f)
        if "handviewer_version" not in meta:
            return None
        return {"metadata.json", "meshes"} | {str(name).rstrip("/") for name in meta.get("files", {})}
    except (OSError, ValueError, TypeError, AttributeError):
        return None


@contextmanager
def staged_folder(out: Path, overwrite: bool = False, staging: Path | None = None) -> Iterator[Path]:
    """Yield an empty staging folder beside `out` (or `staging`, which may already hold files);
    when the block completes, it replaces `out` whole. On an error, `out` is left as it was and the
    staging folder is removed (unless it was given)."""
    out = Path(out)
    check_target(out, overwrite)
    given = staging is not None
    staging = Path(staging) if given else out.with_name(f".{out.name}.staging-{secrets.token_hex(4)}")
    staging.mkdir(parents=True, exist_ok=given)
    try:
        yield staging
        swap_into_place(staging, out)
    except BaseException:
        if not given:
            shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_into_place(staging: Path, out: Path) -> None:
    """Replace folder `out` by `staging` with renames (never a half-written `out`): the old folder is
    moved aside first and removed last."""
    old = out.with_name(f".{out.name}.old-{secrets.token_hex(4)}")
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        if old.exists() and not out.exists():
            os.replace(old, out)  # the earlier export back in place
        raise
    shutil.rmtree(old, ignore_errors=True)


def export_results(out: Path, results: Sequence[FrameResult], camera, settings: Mapping, sources: Mapping[str, str],
                   flags: Mapping[int, str] | None = None, from_predictions: Mapping[int, bool] | None = None,
                   use_refined: bool = True, meshes: bool = False, overwrite: bool = False,
                   subject_shape: dict | None = None) -> dict[str, str]:
    """The app's export: `results` (FrameResults of the chosen frames) as one whole export in `out`
    (see the module docstring); flags: frame -> "verified" | "rejected"; subject_shape: the shape
    held (`SubjectShape.to_json()`), recorded in metadata.json. Returns file -> description."""
    table = ExportTable.from_results(results, flags, from_predictions, use_refined)
    with staged_folder(Path(out), overwrite) as folder:
        for r in results if meshes else ():
            write_meshes(folder, r if use_refined else replace(r, after=None))
        return write_export(folder, table, camera, settings, sources, meshes=meshes, subject_shape=subject_shape)
