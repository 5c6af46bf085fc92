"""InterHand2.6M annotation files as a dataset job reads and writes them, streamed.

An *annotation set* is one `*_joint_3d.json` (capture -> frame_idx -> record with `world_coord`
(42, 3) mm world frame, InterHand order, `joint_valid` (42,), `hand_type`, ...) with its
`*_camera.json` (capture -> campos/camrot/focal/princpt -> camera -> value) and, optionally, its
COCO-style `*_data.json` (image records naming capture, camera and frame_idx).

The joint_3d file is read record by record (ijson): a job never holds a whole file's frames. Floats
are parsed as Python's `json` parses them, so a record written back with `json.dumps` keeps every
value (and every key and type) of the input.

Coordinates: X_cam = camrot @ (world - campos), mm; pixels u = fx X/Z + cx, v = fy Y/Z + cy
(`/work/shared/data/README.md`, checked against the images).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.hand.skeleton import NUM_JOINTS, hand_present
from handviewer.io.errors import FileFormatError, HandIOError

JOINT_SUFFIX = "_joint_3d.json"
CAMERA_SUFFIX = "_camera.json"
DATA_SUFFIX = "_data.json"


@dataclass(frozen=True)
class AnnotationSet:
    """One joint_3d file with its companions. camera / data: None when absent (no 2D term then)."""

    joint_3d: Path
    camera: Path | None
    data: Path | None

    @property
    def stem(self) -> str:
        """The name the files share: `test_interhand2.6m` for `test_interhand2.6m_joint_3d.json`."""
        return self.joint_3d.name[: -len(JOINT_SUFFIX)]


def find_annotation_sets(paths: list[str | Path]) -> list[AnnotationSet]:
    """The annotation sets named by `paths` (joint_3d files, or folders searched recursively for
    them), in the order given, each folder's files sorted. Companions are found beside each
    joint_3d file by the shared stem. Raises HandIOError for a missing path or when nothing is found."""
    sets, seen = [], set()
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob(f"*{JOINT_SUFFIX}") if p.is_file())
            if not found:
                raise HandIOError(path, f"no InterHand2.6M annotation files (*{JOINT_SUFFIX}) in this folder")
        elif path.is_file():
            if not path.name.endswith(JOINT_SUFFIX):
                raise HandIOError(path, f"expected an InterHand2.6M *{JOINT_SUFFIX} file (or a folder of them)")
            found = [path]
        else:
            raise HandIOError(path, "no such file or folder")
        for joint in found:
            joint = joint.resolve()
            if joint in seen:
                continue
            seen.add(joint)
            stem = joint.name[: -len(JOINT_SUFFIX)]
            camera, data = joint.with_name(stem + CAMERA_SUFFIX), joint.with_name(stem + DATA_SUFFIX)
            sets.append(AnnotationSet(joint, camera if camera.is_file() else None, data if data.is_file() else None))
    if not sets:
        raise HandIOError(None, "no annotation files given")
    return sets


# ----------------------------------------------------------------------------- streaming joint_3d


def iter_records(path: Path) -> Iterator[tuple[str, str, object]]:
    """(capture, frame, record) of a joint_3d file in file order, one record in memory at a time.
    Raises FileFormatError when the file is not {capture: {frame: record}}."""
    import ijson

    path = Path(path)
    try:
        with open(path, "rb") as f:
            events = ijson.basic_parse(f, use_float=True)
            if next(events, (None,))[0] != "start_map":
                raise FileFormatError(path, "not an InterHand2.6M joint_3d file: expected {capture: {frame: record}}")
            for event, capture in events:
                if event == "end_map":
                    return
                if next(events, (None,))[0] != "start_map":
                    raise FileFormatError(path, f"capture {capture}: expected {{frame: record}}")
                for event, frame in events:
                    if event == "end_map":
                        break
                    yield capture, frame, _build(events)
    except ijson.JSONError as e:
        raise FileFormatError(path, f"malformed JSON ({e})") from e
    except OSError as e:
        raise HandIOError(path, f"cannot read: {e.strerror or e}") from e


def _build(events) -> object:
    """The next JSON value of an ijson basic_parse stream, as json.load would give it."""
    import ijson

    builder, depth = ijson.ObjectBuilder(), 0
    for event, value in events:
        builder.event(event, value)
        depth += event in ("start_map", "start_array")
        depth -= event in ("end_map", "end_array")
        if depth == 0:
            return builder.value
    raise ijson.IncompleteJSONError("the file ends inside a record")


def record_joints(record: object, path: Path, capture: str, frame: str) -> tuple[np.ndarray, np.ndarray]:
    """world (42, 3) float64 mm InterHand order, valid (42,) bool of one joint_3d record."""
    try:
        world = np.array(record["world_coord"], dtype=np.float64).reshape(2 * NUM_JOINTS, 3)
        valid = np.array(record.get("joint_valid", [1] * 2 * NUM_JOINTS), dtype=np.float64).reshape(2 * NUM_JOINTS)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise FileFormatError(path, f"capture {capture}, frame {frame}: no valid world_coord (42 x 3) / "
                                    f"joint_valid (42) ({type(e).__name__}: {e})") from e
    return world, (valid > 0) & np.isfinite(world).all(-1)


def both_hands(valid: np.ndarray) -> bool:
    """Whether a record holds both hands by the project's hand-present rule (enough valid joints
    in each of InterHand's halves: right 0-20, left 21-41)."""
    points = np.where(valid[:, None], 0.0, np.nan).reshape(2, NUM_JOINTS, 1)
    return bool(hand_present(points).all())


class JointFileWriter:
    """Writes a joint_3d file record by record in the input's layout: {capture: {frame: record}}
    with the captures and frames in the order given."""

    def __init__(self, f) -> None:
        self.f, self.capture, self.first_frame = f, None, True
        f.write("{")

    def write(self, capture: str, frame: str, record: object) -> None:
        if capture != self.capture:
            if self.capture is not None:
                self.f.write("},\n")
            self.f.write(f"{json.dumps(capture)}: {{")
            self.capture, self.first_frame = capture, True
        self.f.write(("" if self.first_frame else ",\n") + f"{json.dumps(frame)}: {json.dumps(record)}")
        self.first_frame = False

    def close(self) -> None:
        self.f.write("}}\n" if self.capture is not None else "}\n")


# ----------------------------------------------------------------------------- cameras


@dataclass(frozen=True)
class FrameCamera:
    """The camera a frame is refined in: R (3, 3) camrot, t (3,) campos mm, K (3, 3) px; `name`
    the camera id, "" when there is none (the frame is refined in the world frame without 2D)."""

    R: np.ndarray
    t: np.ndarray
    K: np.ndarray
    name: str


NO_CAMERA_K = np.array([[768.0, 0.0, 320.0], [0.0, 768.0, 240.0], [0.0, 0.0, 1.0]])  # unused: no 2D without a camera


class CameraChooser:
    """Per (capture, frame), the camera whose view gives the refinement its 2D term: the first image
    of that frame in data.json (file order), else the capture's first camera in camera.json, else
    none. Deterministic: the same choice whatever the worker count."""

    def __init__(self, aset: AnnotationSet, frames: set[tuple[str, str]] | None = None) -> None:
        """frames: the (capture, frame) pairs that will be asked for, None for all. With them, `images`
        holds each one's first image record (file_name, width, height, camera) from data.json."""
        from handviewer.io._files import read_json

        self.path = aset.camera
        self.cameras = read_json(aset.camera) if aset.camera is not None else {}
        if not isinstance(self.cameras, dict):
            raise FileFormatError(aset.camera, "not an InterHand2.6M camera file: expected {capture: {...}}")
        self.images: dict[tuple[str, str], dict] = {}
        if aset.data is not None and frames is not None:
            self.images = first_image_records(aset.data, frames)
            self.first_image = {key: str(img["camera"]) for key, img in self.images.items()}
        else:
            self.first_image = _first_images(aset.data) if aset.data is not None else {}
        self._cache: dict[tuple[str, str], FrameCamera | None] = {}

    def __call__(self, capture: str, frame: str) -> FrameCamera | None:
        name = self.first_image.get((str(capture), str(frame)))
        cap = self.cameras.get(str(capture))
        if not isinstance(cap, dict):
            return None
        if name is None:
            name = next(iter(cap.get("campos") or {}), None)
            if name is None:
                return None
        key = (str(capture), str(name))
        if key not in self._cache:
            self._cache[key] = self._camera(cap, *key)
        return self._cache[key]

    def _camera(self, cap: dict, capture: str, name: str) -> FrameCamera:
        try:
            t = np.array(cap["campos"][name], dtype=np.float64).reshape(3)
            R = np.array(cap["camrot"][name], dtype=np.float64).reshape(3, 3)
            (fx, fy), (cx, cy) = cap["focal"][name], cap["princpt"][name]
        except (KeyError, TypeError, ValueError) as e:
            raise FileFormatError(self.path, f"no valid campos/camrot/focal/princpt for capture {capture}, camera "
                                             f"{name} ({type(e).__name__}: {e})") from e
        K = np.array([[float(fx), 0.0, float(cx)], [0.0, float(fy), float(cy)], [0.0, 0.0, 1.0]])
        return FrameCamera(R, t, K, name)


def _first_images(path: Path) -> dict[tuple[str, str], str]:
    """{(capture, frame_idx): camera of its first image record} of a data.json, streamed."""
    import ijson

    first: dict[tuple[str, str], str] = {}
    try:
        with open(path, "rb") as f:
            for img in ijson.items(f, "images.item", use_float=True):
                if isinstance(img, dict) and {"capture", "frame_idx", "camera"} <= img.keys():
                    first.setdefault((str(img["capture"]), str(img["frame_idx"])), str(img["camera"]))
    except ijson.JSONError as e:
        raise FileFormatError(path, f"malformed JSON ({e})") from e
    except OSError as e:
        raise HandIOError(path, f"cannot read: {e.strerror or e}") from e
    return first


def first_image_records(path: Path, frames: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """{(capture, frame_idx): its first image record in data.json} for the given frames only (file_name,
    width, height, camera; streamed: a whole dataset's image list is never held)."""
    import ijson

    out: dict[tuple[str, str], dict] = {}
    try:
        with open(path, "rb") as f:
            for img in ijson.items(f, "images.item", use_float=True):
                if not (isinstance(img, dict) and {"capture", "frame_idx", "camera"} <= img.keys()):
                    continue
                key = (str(img["capture"]), str(img["frame_idx"]))
                if key in frames and key not in out:
                    out[key] = {k: img.get(k) for k in ("file_name", "width", "height", "camera")}
                    if len(out) == len(frames):
                        break
    except ijson.JSONError as e:
        raise FileFormatError(path, f"malformed JSON ({e})") from e
    except OSError as e:
        raise HandIOError(path, f"cannot read: {e.strerror or e}") from e
    return out


def to_camera(world: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """world (..., 3) mm -> camera frame (..., 3) mm: X_cam = R @ (world - t)."""
    return (np.asarray(world, np.float64) - t) @ np.asarray(R, np.float64).T


def to_world(cam: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """camera frame (..., 3) mm -> world (..., 3) mm, the inverse of `to_camera` (R is a rotation)."""
    return np.asarray(cam, np.float64) @ np.asarray(R, np.float64) + t


__all__ = ["AnnotationSet", "CameraChooser", "FrameCamera", "JointFileWriter", "both_hands", "find_annotation_sets",
           "first_image_records", "iter_records", "record_joints", "to_camera", "to_world"]
