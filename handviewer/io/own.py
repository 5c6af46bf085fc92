"""Our own file format for hand data: 2D keypoints, 3D joints and the camera of one clip.

Format "handviewer.hands", version 1, written as JSON or NPZ (chosen by the suffix).
Both hold the same header:
    format              "handviewer.hands"
    version             1 (readers refuse newer versions)
    handviewer_version  the writing package's version
    joint_order         "mediapipe21" (0 wrist, 1-4 thumb CMC..tip, 5-8 index MCP..tip, ... 17-20 pinky)
    joint_names         the 21 names in that order
    hands               ["right", "left"] (axis 1 of the arrays)
    coordinate_frame    camera frame, OpenCV: x right, y down, z forward
    units               {"keypoints_2d": "px", "joints_3d": "mm"}

JSON (.json): the header plus, each optional (at least one of the first two):
    "keypoints_2d": {"frame_indices": [T ints], "channels": ["x", "y", "confidence"],
                     "data": T x 2 x 21 x 3 numbers}
    "joints_3d":    {"frame_indices": [T ints], "data": T x 2 x 21 x 3 numbers}
    "camera":       {"K": 3 x 3, "width": W, "height": H}
    Missing values are null (strict JSON, no NaN).
NPZ (.npz, compressed): "header" (the header as a JSON string) and "joint_order" (str), plus
    keypoints_2d (T, 2, 21, 3) float32 px | keypoints_2d_frame_indices (T,) int64
    joints (T, 2, 21, 3) float32 mm        | frame_indices (T,) int64
    camera_K (3, 3) float64                | camera_size (2,) int64 (width, height)
    Missing values are NaN. `export.export_npz` adds further named parameter arrays.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import handviewer
from handviewer.hand.skeleton import JOINT_NAMES
from handviewer.io._files import atomic_write, nan_to_none, none_to_nan, read_json, write_json
from handviewer.io.camera import Camera
from handviewer.io.data import Joints3D, Keypoints2D
from handviewer.io.errors import FileFormatError, HandIOError

FORMAT_NAME = "handviewer.hands"
FORMAT_VERSION = 1
JOINT_ORDER = "mediapipe21"
NPZ_KEYS = frozenset({"header", "joint_order", "keypoints_2d", "keypoints_2d_frame_indices", "joints",
                      "frame_indices", "camera_K", "camera_size"})


@dataclass(frozen=True)
class HandSequence:
    """The content of one own-format file; any part may be None (not both keypoints and joints)."""

    keypoints: Keypoints2D | None = None
    joints: Joints3D | None = None
    camera: Camera | None = None


def header() -> dict:
    """The header common to the JSON and NPZ forms (see the module docstring)."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "handviewer_version": handviewer.__version__,
        "joint_order": JOINT_ORDER,
        "joint_names": list(JOINT_NAMES),
        "hands": ["right", "left"],
        "coordinate_frame": "camera, OpenCV: x right, y down, z forward",
        "units": {"keypoints_2d": "px", "joints_3d": "mm"},
    }


def _header_with(extra: Mapping | None) -> dict:
    """`header()` plus `extra` fields (e.g. "detection": what made the keypoints), which may not
    replace the format's own fields."""
    head = header()
    clash = sorted(set(extra or {}) & (set(head) | {"keypoints_2d", "joints_3d", "camera"}))
    if clash:
        raise ValueError(f"extra header fields may not replace the format's own: {clash}")
    head.update(extra or {})
    return head


def save_own(path: str | Path, keypoints: Keypoints2D | None = None, joints: Joints3D | None = None,
             camera: Camera | None = None, extra_header: Mapping | None = None) -> None:
    """Write hand data in our format, atomically; `.json` or `.npz` by the file suffix. extra_header:
    further JSON fields kept in the header (`read_header` gives them back)."""
    path = Path(path)
    if keypoints is None and joints is None:
        raise ValueError("save_own: give keypoints, joints or both")
    suffix = path.suffix.lower()
    if suffix == ".json":
        doc = _header_with(extra_header)
        if keypoints is not None:
            doc["keypoints_2d"] = {"frame_indices": keypoints.frame_indices.tolist(),
                                   "channels": ["x", "y", "confidence"], "data": nan_to_none(keypoints.xyc)}
        if joints is not None:
            doc["joints_3d"] = {"frame_indices": joints.frame_indices.tolist(), "data": nan_to_none(joints.joints)}
        if camera is not None:
            doc["camera"] = camera.to_dict()
        write_json(path, doc)
    elif suffix == ".npz":
        write_npz(path, keypoints, joints, camera, extra_header=extra_header)
    else:
        raise HandIOError(path, "unknown suffix: use .json or .npz")


def write_npz(path: Path, keypoints: Keypoints2D | None, joints: Joints3D | None, camera: Camera | None,
              extra: Mapping[str, np.ndarray] | None = None, extra_header: Mapping | None = None) -> None:
    """The NPZ form, with `extra` arrays stored under their own names (which must not clash) and
    `extra_header` fields in the header."""
    arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(_header_with(extra_header))),
                                     "joint_order": np.array(JOINT_ORDER)}
    if keypoints is not None:
        arrays["keypoints_2d"], arrays["keypoints_2d_frame_indices"] = keypoints.xyc, keypoints.frame_indices
    if joints is not None:
        arrays["joints"], arrays["frame_indices"] = joints.joints, joints.frame_indices
    if camera is not None:
        arrays["camera_K"], arrays["camera_size"] = camera.K, np.array(camera.size, dtype=np.int64)
    for name, value in (extra or {}).items():
        if name in NPZ_KEYS:
            raise ValueError(f"parameter name {name!r} is reserved in the NPZ format ({sorted(NPZ_KEYS)})")
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} must be a Python identifier")
        value = np.asarray(value)
        if value.dtype == object:
            raise ValueError(f"parameter {name!r} must be a numeric or string array, not objects")
        arrays[name] = value
    with atomic_write(path, binary=True) as f:
        np.savez_compressed(f, **arrays)


def load_own(path: str | Path) -> HandSequence:
    """Read a file written by `save_own` (or `export.export_npz`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _load_json(path)
    if suffix == ".npz":
        return _load_npz(path)
    raise HandIOError(path, "unknown suffix: expected .json or .npz")


def read_header(path: str | Path) -> dict:
    """The header of a file in our format (the fields `header()` writes, and any extra ones);
    HandIOError/FileFormatError naming the file when it is not one."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        doc = read_json(path)
        _check_header(path, doc)
        return {k: v for k, v in doc.items() if k not in ("keypoints_2d", "joints_3d", "camera")}
    if suffix == ".npz":
        arrays = read_npz(path)
        try:
            head = json.loads(str(arrays["header"]))
        except (KeyError, ValueError) as e:
            raise FileFormatError(path, "no readable 'header' array") from e
        _check_header(path, head)
        return head
    raise HandIOError(path, "unknown suffix: expected .json or .npz")


def _check_header(path: Path, head) -> None:
    if not isinstance(head, dict) or head.get("format") != FORMAT_NAME:
        found = head.get("format") if isinstance(head, dict) else type(head).__name__
        raise FileFormatError(path, f"not a handviewer hands file (format {found!r}, expected {FORMAT_NAME!r})")
    version = head.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise FileFormatError(path, f"format version {version!r} is newer than this handviewer reads "
                                    f"({FORMAT_VERSION}); update handviewer")
    if head.get("joint_order") != JOINT_ORDER:
        raise FileFormatError(path, f"joint_order {head.get('joint_order')!r} is not {JOINT_ORDER!r}")


def check_unique_frames(path: Path, frame_indices: np.ndarray, what: str) -> None:
    """FileFormatError naming `path` when a frame index appears twice (rows are looked up by frame)."""
    values, counts = np.unique(np.asarray(frame_indices), return_counts=True)
    if (counts > 1).any():
        repeated = values[counts > 1]
        raise FileFormatError(path, f"{what}: frame_indices repeat frame {int(repeated[0])}"
                                    f"{f' (and {len(repeated) - 1} more)' if len(repeated) > 1 else ''}; "
                                    "each frame may appear once")


def _checked(path: Path, seq: HandSequence) -> HandSequence:
    if seq.keypoints is None and seq.joints is None:
        raise FileFormatError(path, "holds neither 2D keypoints nor 3D joints")
    if seq.keypoints is not None:
        check_unique_frames(path, seq.keypoints.frame_indices, "keypoints_2d")
    if seq.joints is not None:
        check_unique_frames(path, seq.joints.frame_indices, "joints")
    return seq


def _load_json(path: Path) -> HandSequence:
    doc = read_json(path)
    _check_header(path, doc)
    try:
        keypoints = joints = camera = None
        if "keypoints_2d" in doc:
            part = doc["keypoints_2d"]
            keypoints = Keypoints2D(none_to_nan(part["data"], path, "keypoints_2d.data"), part["frame_indices"])
        if "joints_3d" in doc:
            part = doc["joints_3d"]
            joints = Joints3D(none_to_nan(part["data"], path, "joints_3d.data"), part["frame_indices"])
        if "camera" in doc:
            c = doc["camera"]
            camera = Camera(c["K"], c["width"], c["height"])
    except KeyError as e:
        raise FileFormatError(path, f"missing key {e}") from e
    except (TypeError, ValueError) as e:
        if isinstance(e, HandIOError):
            raise
        raise FileFormatError(path, str(e)) from e
    if keypoints is None and joints is None:
        raise FileFormatError(path, "holds neither 'keypoints_2d' nor 'joints_3d'")
    return _checked(path, HandSequence(keypoints, joints, camera))


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an NPZ file (no pickles); HandIOError/FileFormatError when missing or not an NPZ."""
    if not path.is_file():
        raise HandIOError(path, "no such file" if not path.exists() else "not a file")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise FileFormatError(path, "holds a single array (.npy data), not an NPZ archive")
        with npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        if isinstance(e, HandIOError):
            raise
        raise FileFormatError(path, f"not a readable NPZ file: {e}") from e


def _load_npz(path: Path) -> HandSequence:
    arrays = read_npz(path)
    try:
        _check_header(path, json.loads(str(arrays["header"])))
    except (KeyError, json.JSONDecodeError) as e:
        raise FileFormatError(path, "no valid 'header' entry: not written by handviewer") from e
    try:
        keypoints = (Keypoints2D(arrays["keypoints_2d"], arrays["keypoints_2d_frame_indices"])
                     if "keypoints_2d" in arrays else None)
        joints = Joints3D(arrays["joints"], arrays["frame_indices"]) if "joints" in arrays else None
        camera = Camera(arrays["camera_K"], *arrays["camera_size"].tolist()) if "camera_K" in arrays else None
    except KeyError as e:
        raise FileFormatError(path, f"missing array {e}") from e
    except (TypeError, ValueError) as e:
        raise FileFormatError(path, str(e)) from e
    if keypoints is None and joints is None:
        raise FileFormatError(path, "holds neither 'keypoints_2d' nor 'joints'")
    return _checked(path, HandSequence(keypoints, joints, camera))
