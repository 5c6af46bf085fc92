"""Writing results: InterHand2.6M joint_3d JSON, NPZ, per-frame metrics CSV, metadata JSON, meshes.

Every writer is atomic: it writes a temporary file in the target folder and renames it over
the target, so a crash or an error never leaves a half-written file (an old file stays intact).
Readers for the same files: `predictions.load_predictions` (JSON, NPZ), `own.load_own` (NPZ),
`load_metrics_csv` (CSV), `trimesh.load` (meshes).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

import handviewer
from handviewer.hand.skeleton import JOINT_NAMES, NUM_JOINTS, to_interhand
from handviewer.io._files import atomic_write, write_json
from handviewer.io.camera import Camera
from handviewer.io.data import Joints3D, Keypoints2D
from handviewer.io.errors import FileFormatError, HandIOError
from handviewer.io.own import JOINT_ORDER, write_npz
from handviewer.pipeline.results import FrameMetrics

METRIC_FIELDS = tuple(f.name for f in dataclasses.fields(FrameMetrics))


def export_interhand_json(path: str | Path, joints: Joints3D, capture: str | int = 0) -> None:
    """InterHand2.6M-style joint_3d JSON: {capture: {frame: record}}, one record per row of `joints`.

    record = {"world_coord": (42, 3) mm in InterHand order (right 0-20, left 21-41, wrist last),
              "joint_valid": 42 x [bool], "hand_type": "right" | "left" | "interacting",
              "hand_type_valid": bool}.
    Coordinates are written as given (our camera frame): for InterHand tools that expect world
    coordinates, use campos = 0 and camrot = identity. Invalid (NaN) joints are written as 0 with
    joint_valid false (JSON has no NaN); `load_predictions` reads them back as NaN. A frame with no
    hand at all is left out (a reader's dense view gives it NaN).
    """
    if np.unique(joints.frame_indices).size != len(joints):
        raise ValueError("export_interhand_json: frame indices repeat; InterHand JSON keys frames by index")
    coords = to_interhand(joints.joints)  # (T, 42, 3) mm, InterHand order
    valid = np.isfinite(coords).all(axis=-1)  # (T, 42)
    records = {}
    for frame, xyz, ok in zip(joints.frame_indices.tolist(), coords, valid):
        right, left = ok[:NUM_JOINTS].any(), ok[NUM_JOINTS:].any()
        if not (right or left):
            continue  # no hand: InterHand2.6M has no hand_type for it (its loaders reject any other name)
        records[str(frame)] = {
            "world_coord": np.where(ok[:, None], xyz, 0.0).astype(np.float64).tolist(),
            "joint_valid": [[bool(v)] for v in ok],
            "hand_type": "interacting" if right and left else "right" if right else "left",
            "hand_type_valid": bool(right or left),
        }
    write_json(path, {str(capture): records})


def export_npz(path: str | Path, joints: Joints3D, params: Mapping[str, np.ndarray] | None = None,
               keypoints: Keypoints2D | None = None, camera: Camera | None = None) -> None:
    """NPZ in our joint order: the own format's arrays plus named parameter arrays.

    Keys: joints (T, 2, 21, 3) float32 mm, frame_indices (T,) int64, joint_order "mediapipe21",
    header (JSON string with units and version), optionally keypoints_2d / camera_K / camera_size
    (see `handviewer.io.own`), and each entry of `params` under its own name, stored as given
    (e.g. "angles" (T, 2, 20, 3), "bone_lengths" (T, 2, 20) mm). Read with `np.load`,
    `load_predictions` or `load_own`.
    """
    write_npz(Path(path), keypoints, joints, camera, extra=params or {})


def export_metrics_csv(path: str | Path, metrics: Mapping[int, FrameMetrics]) -> None:
    """CSV with one row per frame (sorted): `frame`, then every FrameMetrics field; NaN is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("frame",) + METRIC_FIELDS)
    for frame in sorted(metrics):
        m = metrics[frame]
        if not isinstance(m, FrameMetrics):
            raise TypeError(f"metrics[{frame}] must be a FrameMetrics, got {type(m).__name__}")
        row = [getattr(m, name) for name in METRIC_FIELDS]
        writer.writerow([int(frame)] + ["" if _is_nan(v) else repr(float(v)) for v in row])
    with atomic_write(path) as f:
        f.write(buffer.getvalue())


def _is_nan(value) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def load_metrics_csv(path: str | Path) -> dict[int, FrameMetrics]:
    """Read a CSV written by `export_metrics_csv`; unknown columns are ignored, missing ones are NaN."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError as e:
        raise HandIOError(path, "no such file") from e
    except OSError as e:
        raise HandIOError(path, f"cannot read: {e.strerror or e}") from e
    out = {}
    for line, row in enumerate(rows, start=2):
        try:
            values = {name: float(row[name]) if row.get(name) not in (None, "") else np.nan
                      for name in METRIC_FIELDS}
            out[int(row["frame"])] = FrameMetrics(**values)
        except (KeyError, TypeError, ValueError) as e:
            raise FileFormatError(path, f"line {line}: not a metrics row ({e})") from e
    return out


def export_metadata(path: str | Path, frame_indices, settings: Mapping | None = None,
                    camera: Camera | None = None, **extra) -> None:
    """A JSON file describing an export: units, frame, joint order, frames, version, settings.

    frame_indices : the exported frames.
    settings      : JSON-serialisable options used to produce the data (numpy values are converted).
    camera        : the intrinsics used, if any. `extra` keys are added at the top level.
    """
    doc = {
        "handviewer_version": handviewer.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "units": {"joints_3d": "mm", "keypoints_2d": "px", "vertices": "mm"},
        "coordinate_frame": "camera, OpenCV: x right, y down, z forward",
        "joint_order": JOINT_ORDER,
        "joint_names": list(JOINT_NAMES),
        "hands": ["right", "left"],
        "frame_indices": [int(i) for i in np.asarray(frame_indices).reshape(-1)],
        "settings": dict(settings or {}),
    }
    if camera is not None:
        doc["camera"] = camera.to_dict()
    doc.update(extra)
    try:
        write_json(path, doc, indent=2)
    except (TypeError, ValueError) as e:
        raise ValueError(f"export_metadata: settings are not JSON-serialisable: {e}") from e


def export_mesh(path: str | Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """Write one triangle mesh as .ply (binary) or .obj, by suffix; vertex order is kept.

    vertices : (V, 3) float, mm (finite).
    faces    : (F, 3) int, indices into vertices.
    """
    path = Path(path)
    file_type = path.suffix.lower().lstrip(".")
    if file_type not in ("ply", "obj"):
        raise HandIOError(path, "unknown mesh suffix: use .ply or .obj")
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f"export_mesh: vertices must be (V, 3), got {vertices.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.dtype.kind not in "iu":
        raise ValueError(f"export_mesh: faces must be (F, 3) integers, got {faces.shape} {faces.dtype}")
    if not np.isfinite(vertices).all():
        raise ValueError("export_mesh: vertices hold NaN or inf (a missing hand cannot be written)")
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f"export_mesh: face indices must lie in [0, {len(vertices) - 1}]")
    import trimesh

    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False, validate=False)
    data = mesh.export(file_type=file_type)
    with atomic_write(path, binary=True) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
