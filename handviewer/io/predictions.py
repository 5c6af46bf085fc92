"""3D joint predictions from files (any estimator), converted to our joint order.

`load_predictions(path, order)` reads:
- .json, InterHand2.6M `joint_3d` layout: {capture: {frame: {"world_coord": (42, 3), "joint_valid": 42}}}
  or one level less, {frame: {...}}; joints whose joint_valid is false become NaN.
- .json, a list of frames: each {"world_coord" | "joints": (42, 3) or (2, 21, 3), optional
  "joint_valid", optional "frame" | "frame_idx"} or a bare (42, 3) / (2, 21, 3) array.
- .json, {"joints": (T, 42, 3) or (T, 2, 21, 3), optional "frame_indices", optional "joint_order"}.
- .json/.npz in our own format (`handviewer.io.own`).
- .npz with "joints" (T, 42, 3) or (T, 2, 21, 3) (or its only array), optional "frame_indices",
  "joint_valid" (T, 42) and "joint_order"; .npy with the array alone.
42 joints are right 0-20 then left 21-41. Values are returned as stored (mm; InterHand
`world_coord` stays in world coordinates: use `keypoints.load_interhand` to get them in a camera frame).

Joint order with order="auto", first rule that applies:
1. the file says it: a "joint_order" entry ("mediapipe21"/"ours"/"openpose21" or "interhand26m"/"interhand"),
   our own format, or the InterHand `world_coord` layout (interhand);
2. otherwise `detect_joint_order`: the order under which the 20 bones have the proportions of a
   hand (see there).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

import numpy as np

from handviewer.hand.skeleton import BONES, NUM_JOINTS, from_interhand
from handviewer.io._files import none_to_nan, read_json
from handviewer.io.data import Joints3D
from handviewer.io.errors import FileFormatError, HandIOError
from handviewer.io.own import FORMAT_NAME, check_unique_frames, load_own, read_npz

__all__ = ["Joints3D", "load_predictions", "detect_joint_order", "ORDER_NAMES"]

Order = Literal["ours", "interhand"]
ORDER_NAMES = {"ours": "ours", "mediapipe21": "ours", "mediapipe": "ours", "openpose21": "ours", "openpose": "ours",
               "interhand": "interhand", "interhand26m": "interhand", "interhand2.6m": "interhand"}

# Typical adult bone lengths (mm) in our BONES order (bone b ends at joint b + 1): wrist->thumb CMC,
# thumb segments, then wrist->MCP and three phalanges for index, middle, ring, pinky.
# Measured on the InterHand2.6M ground truth; only the proportions matter.
TYPICAL_BONE_MM = np.array([34, 41, 33, 27, 86, 42, 25, 22, 88, 39, 27, 21, 83, 35, 25, 19, 78, 28, 20, 18],
                           dtype=np.float64)


def load_predictions(path: str | Path, order: Literal["ours", "interhand", "auto"] = "auto",
                     capture: str | int | None = None) -> Joints3D:
    """3D joints of both hands per frame from a prediction file (formats in the module docstring).

    order   : joint order of the file; "auto" decides as described in the module docstring.
    capture : for InterHand2.6M files with several captures, the one to read (default: all,
              which must not repeat a frame index).
    Returns Joints3D (T, 2, 21, 3) float32 mm in our order, rows sorted by frame; invalid joints NaN.
    """
    path = Path(path)
    if order not in ("ours", "interhand", "auto"):
        raise ValueError(f"order must be 'ours', 'interhand' or 'auto', got {order!r}")
    if not path.exists():
        raise HandIOError(path, "no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict) and data.get("format") == FORMAT_NAME:
            return _own_joints(path)
        raw, valid, frames, stated = _from_json(path, data, capture)
    elif suffix == ".npz":
        arrays = read_npz(path)
        if "header" in arrays and "joints" in arrays:
            return _own_joints(path)
        raw, valid, frames, stated = _from_npz(path, arrays)
    elif suffix == ".npy":
        try:
            raw = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise FileFormatError(path, f"not a readable .npy file: {e}") from e
        if not isinstance(raw, np.ndarray):
            raw.close()
            raise FileFormatError(path, "holds an NPZ archive, not a single .npy array: rename it to .npz")
        raw, valid, frames, stated = raw, None, None, None
    else:
        raise HandIOError(path, "unknown suffix: expected .json, .npz or .npy")
    raw = _as_frames_42(path, raw)  # (T, 42, 3)
    if valid is not None:
        raw = raw.copy()
        raw[~_as_valid(path, valid, len(raw))] = np.nan
    if order == "auto":
        order = stated or detect_joint_order(raw)
    joints = from_interhand(raw) if order == "interhand" else raw
    frames = np.arange(len(raw)) if frames is None else np.asarray(frames)
    try:
        result = Joints3D(joints.reshape(-1, 2, NUM_JOINTS, 3), frames)
    except ValueError as e:
        raise FileFormatError(path, str(e)) from e
    check_unique_frames(path, result.frame_indices, "joints")
    sort = np.argsort(result.frame_indices, kind="stable")
    return result if np.all(sort == np.arange(len(sort))) else Joints3D(result.joints[sort], result.frame_indices[sort])


def _own_joints(path: Path) -> Joints3D:
    joints = load_own(path).joints
    if joints is None:
        raise FileFormatError(path, "this handviewer file holds 2D keypoints only, no 3D joints")
    return joints


def _stated_order(path: Path, value) -> Order | None:
    if value is None:
        return None
    name = str(value).strip().lower()
    if name not in ORDER_NAMES:
        raise FileFormatError(path, f"unknown joint_order {value!r}; known: {sorted(ORDER_NAMES)}")
    return ORDER_NAMES[name]


def _from_npz(path: Path, arrays: dict):
    key = "joints" if "joints" in arrays else None
    if key is None:
        candidates = [k for k, v in arrays.items() if v.ndim >= 2 and v.shape[-1] == 3]
        if len(candidates) != 1:
            raise FileFormatError(path, f"no 'joints' array (found {sorted(arrays)})")
        key = candidates[0]
    stated = _stated_order(path, arrays["joint_order"].item()) if "joint_order" in arrays else None
    return arrays[key], arrays.get("joint_valid"), arrays.get("frame_indices"), stated


def _from_json(path: Path, data, capture):
    """(raw array, valid or None, frame indices or None, stated order or None) from parsed JSON."""
    if isinstance(data, dict) and "joints" in data:
        return (none_to_nan(data["joints"], path, "joints"), data.get("joint_valid"), data.get("frame_indices"),
                _stated_order(path, data.get("joint_order")))
    if isinstance(data, list):
        return _from_json_list(path, data)
    if isinstance(data, dict) and data:
        return _from_interhand_dict(path, data, capture)
    raise FileFormatError(path, "expected InterHand2.6M joint_3d JSON, a list of frames, or {'joints': ...}")


def _from_json_list(path: Path, data: list):
    raws, valids, frames, interhand = [], [], [], False
    for i, entry in enumerate(data):
        if isinstance(entry, dict):
            key = "world_coord" if "world_coord" in entry else "joints" if "joints" in entry else None
            if key is None:
                raise FileFormatError(path, f"frame entry {i} has neither 'world_coord' nor 'joints'")
            interhand |= key == "world_coord"
            raws.append(_as_frames_42(path, none_to_nan(entry[key], path, f"entry {i}"))[0])
            valids.append(np.ones(2 * NUM_JOINTS, bool) if entry.get("joint_valid") is None
                          else _as_valid(path, entry["joint_valid"], 1)[0])
            frames.append(next((entry[k] for k in ("frame", "frame_idx", "frame_index") if k in entry), i))
        else:
            raws.append(_as_frames_42(path, none_to_nan(entry, path, f"entry {i}"))[0])
            valids.append(np.ones(2 * NUM_JOINTS, bool))
            frames.append(i)
    if not raws:
        raise FileFormatError(path, "the list of frames is empty")
    return np.stack(raws), np.stack(valids), _int_frames(path, frames), ("interhand" if interhand else None)


def _from_interhand_dict(path: Path, data: dict, capture):
    first = next(iter(data.values()))
    if isinstance(first, dict) and "world_coord" in first:
        captures = {"": data}  # {frame: record}
    elif isinstance(first, dict):
        captures = data  # {capture: {frame: record}}
        if capture is not None:
            if str(capture) not in data:
                raise FileFormatError(path, f"no capture {capture!r}; captures: {sorted(data)}")
            captures = {str(capture): data[str(capture)]}
    else:
        raise FileFormatError(path, "expected InterHand2.6M joint_3d JSON: {capture: {frame: {'world_coord': ...}}}")
    raws, valids, frames = [], [], []
    for cap, records in captures.items():
        for frame, record in records.items():
            if not isinstance(record, dict) or "world_coord" not in record:
                raise FileFormatError(path, f"capture {cap!r} frame {frame!r}: no 'world_coord'")
            raws.append(_as_frames_42(path, none_to_nan(record["world_coord"], path, f"frame {frame}"))[0])
            valid = record.get("joint_valid")
            valids.append(np.ones(2 * NUM_JOINTS, bool) if valid is None else _as_valid(path, valid, 1)[0])
            frames.append(frame)
    if not raws:
        raise FileFormatError(path, "no frames: every capture is empty")
    frames = _int_frames(path, frames)
    if np.unique(frames).size != frames.size:
        raise FileFormatError(path, f"several captures ({sorted(captures)}) repeat a frame index; pass capture=")
    return np.stack(raws), np.stack(valids), frames, "interhand"


def _int_frames(path: Path, frames: list) -> np.ndarray:
    try:
        return np.array([int(f) for f in frames], dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise FileFormatError(path, f"frame keys must be integers: {e}") from e


def _describe(value) -> str:
    """A short description of a JSON value for messages (np.shape fails on ragged lists)."""
    try:
        return f"shape {np.asarray(value, dtype=np.float64).shape}"
    except (TypeError, ValueError):
        text = repr(value)
        return text if len(text) < 60 else text[:57] + "..."


def _as_frames_42(path: Path, raw) -> np.ndarray:
    """(T, 42, 3) float64 from (T, 42, 3), (T, 2, 21, 3), (42, 3) or (2, 21, 3)."""
    raw = np.asarray(raw)
    if raw.dtype.kind not in "fiu":
        raise FileFormatError(path, f"joints must be numbers, got dtype {raw.dtype}")
    raw = raw.astype(np.float64)
    if raw.shape in ((2 * NUM_JOINTS, 3), (2, NUM_JOINTS, 3)):
        raw = raw[None]
    if raw.ndim == 4 and raw.shape[1:] == (2, NUM_JOINTS, 3):
        raw = raw.reshape(len(raw), 2 * NUM_JOINTS, 3)
    if raw.ndim != 3 or raw.shape[1:] != (2 * NUM_JOINTS, 3):
        hint = " (one hand only? store (T, 2, 21, 3) with NaN for the other hand)" if raw.shape[-2:] == (21, 3) else ""
        raise FileFormatError(path, f"joints must have shape (T, 42, 3) or (T, 2, 21, 3), got {raw.shape}{hint}")
    return raw


def _as_valid(path: Path, valid, count: int) -> np.ndarray:
    """(count, 42) bool from joint_valid given per joint, possibly with a trailing axis of 1."""
    try:
        array = np.asarray(valid, dtype=np.float64).reshape(count, 2 * NUM_JOINTS)
    except (TypeError, ValueError) as e:
        raise FileFormatError(path, f"joint_valid must hold {2 * NUM_JOINTS} numbers (flags) per frame, "
                                    f"got {_describe(valid)}") from e
    return array > 0


def detect_joint_order(joints: np.ndarray) -> Order:
    """Guess whether joints are in our order or InterHand2.6M's, from the hand's proportions.

    joints : (..., 42, 3) or (..., 21, 3), right then left for 42 (the test is per hand).
    Each hand is read both ways; for each reading the 20 bone lengths are compared with
    TYPICAL_BONE_MM after fitting one scale per hand (so size and units do not matter): misfit
    = mean |log(length / (scale * typical))|. The palm bones are rigid, so the right reading
    fits well in any pose, while the wrong one links e.g. the pinky tip to the finger
    joints. The reading with the lower median misfit over all hands wins; "ours" when no
    hand has 10 or more finite bones, or on a tie.
    """
    hands = np.asarray(joints, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
    ours, theirs = _misfit(hands), _misfit(from_interhand(hands))  # (N,) each, NaN for too-incomplete hands
    usable = np.isfinite(ours) & np.isfinite(theirs)
    if not usable.any():
        return "ours"
    return "interhand" if np.median(theirs[usable]) < np.median(ours[usable]) else "ours"


def _misfit(hands: np.ndarray) -> np.ndarray:
    """(N,) misfit of (N, 21, 3) hands read in our order; NaN for hands with < 10 finite bones."""
    lengths = np.linalg.norm(hands[:, BONES[:, 1]] - hands[:, BONES[:, 0]], axis=-1)  # (N, 20) mm
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.maximum(lengths, 1e-6) / TYPICAL_BONE_MM)  # (N, 20), NaN where a joint is NaN
        enough = np.isfinite(ratio).sum(axis=1) >= 10
        out = np.full(len(hands), np.nan)
        if enough.any():
            r = ratio[enough]
            scale = np.nanmedian(r, axis=1, keepdims=True)
            out[enough] = np.nanmean(np.minimum(np.abs(r - scale), 3.0), axis=1)
    return out
