"""2D hand keypoints from files: OpenPose JSON, InterHand2.6M annotations, MediaPipe, our own format.

Every loader returns `Keypoints2D` (see `handviewer.io.data`): (T, 2, 21, 3) float32 x px,
y px, confidence in [0, 1], our joint order, right hand then left, NaN where missing.
`load_own`/`save_own` live in `handviewer.io.own` and `load_mediapipe` in
`handviewer.io.mediapipe_hands`; they are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from handviewer.hand.skeleton import NUM_JOINTS, from_interhand
from handviewer.io._files import natural_key, read_json
from handviewer.io.camera import Camera, intrinsics, project
from handviewer.io.data import Joints3D, Keypoints2D
from handviewer.io.errors import FileFormatError, HandIOError
from handviewer.io.mediapipe_hands import load_mediapipe, resolve_mediapipe_model
from handviewer.io.own import HandSequence, load_own, save_own

__all__ = ["Keypoints2D", "load_openpose", "InterHandSamples", "load_interhand", "load_mediapipe",
           "resolve_mediapipe_model", "HandSequence", "load_own", "save_own", "sniff_keypoint_format",
           "load_keypoints_any"]

_OPENPOSE_HANDS = ("hand_right_keypoints_2d", "hand_left_keypoints_2d")  # our hand order: right, left
_TRAILING_NUMBER = re.compile(r"(\d+)(?!.*\d)")


# ---------------------------------------------------------------- OpenPose


def load_openpose(source: str | Path | Iterable[str | Path], person: int = 0) -> Keypoints2D:
    """Hand keypoints from OpenPose per-frame JSON files (`--write_json` output).

    source : a folder (every *.json in it), one file, or a list of files.
    person : which entry of "people" to read (OpenPose orders them by detection, not identity).
    Each file holds people[person].hand_right_keypoints_2d / hand_left_keypoints_2d, flat
    [x, y, c] * 21 in pixels, in our joint order. Confidence 0 (not detected) becomes NaN; a
    missing person or hand is NaN. The frame index is the last number in the file name
    (`video_000000000012_keypoints.json` -> 12). Rows are sorted by frame.
    """
    files = _openpose_files(source)
    frames, rows = [], []
    for file in files:
        match = _TRAILING_NUMBER.search(file.stem)
        if match is None:
            raise FileFormatError(file, "no frame number in the file name (expected e.g. "
                                        "'name_000000000012_keypoints.json')")
        frames.append(int(match.group(1)))
        rows.append(_openpose_frame(file, person))
    frames = np.array(frames, dtype=np.int64)
    values, counts = np.unique(frames, return_counts=True)
    if (counts > 1).any():
        dup = int(values[np.argmax(counts)])
        raise FileFormatError(files[0].parent, f"two files have frame number {dup}")
    order = np.argsort(frames, kind="stable")
    return Keypoints2D(np.stack(rows)[order], frames[order])


def _openpose_files(source) -> list[Path]:
    if isinstance(source, (str, Path)):
        source = Path(source)
        if source.is_dir():
            files = sorted((p for p in source.iterdir() if p.suffix.lower() == ".json"), key=natural_key)
            if not files:
                raise HandIOError(source, "folder holds no OpenPose .json files")
            return files
        return [source]
    files = [Path(p) for p in source]
    if not files:
        raise ValueError("load_openpose: no files given")
    return files


def _openpose_frame(file: Path, person: int) -> np.ndarray:
    """(2, 21, 3) float64 from one OpenPose JSON file."""
    data = read_json(file)
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise FileFormatError(file, "not an OpenPose file: no 'people' list")
    out = np.full((2, NUM_JOINTS, 3), np.nan)
    if person >= len(data["people"]):
        return out
    entry = data["people"][person]
    if not isinstance(entry, dict):
        raise FileFormatError(file, f"people[{person}] is not an object with hand keypoints")
    for hand, key in enumerate(_OPENPOSE_HANDS):
        flat = entry.get(key) or []
        try:
            values = np.array(flat, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise FileFormatError(file, f"{key}: not a list of numbers") from e
        if values.size == 0:
            continue
        if values.shape != (NUM_JOINTS * 3,):
            raise FileFormatError(file, f"{key}: expected {NUM_JOINTS * 3} numbers (x, y, c per joint), "
                                        f"got {values.size}")
        xyc = values.reshape(NUM_JOINTS, 3)
        xyc[~(xyc[:, 2] > 0)] = np.nan
        out[hand] = xyc
    return out


# ---------------------------------------------------------------- either format, by content

KEYPOINT_FORMATS_HINT = ("2D keypoints must be a handviewer JSON/NPZ, an OpenPose JSON file or folder, or "
                         "COCO-WholeBody predictions (mmpose, RTMW, DWPose)")


def sniff_keypoint_format(path: str | Path) -> Literal["own", "openpose", "wholebody"]:
    """Which reader a 2D keypoints file or folder needs, decided by its content, never its name.

    A folder is OpenPose `--write_json` output; an .npz is ours; a .json is ours when its "format"
    is "handviewer.hands", OpenPose's when it has a "people" list, COCO-WholeBody predictions
    (`handviewer.io.wholebody`) when it is a list of {frame_id, instances}. Anything else raises
    HandIOError/FileFormatError naming the file.
    """
    from handviewer.io.wholebody import is_wholebody

    path = Path(path)
    if path.is_dir():
        return "openpose"
    if path.suffix.lower() == ".npz":
        return "own"
    if path.suffix.lower() != ".json":
        raise FileFormatError(path, f"unknown suffix {path.suffix!r}; {KEYPOINT_FORMATS_HINT}")
    data = read_json(path)
    if isinstance(data, dict) and "format" in data:
        return "own"  # load_own says what is wrong with a wrong "format"
    if isinstance(data, dict) and isinstance(data.get("people"), list):
        return "openpose"
    if is_wholebody(data):
        return "wholebody"
    raise FileFormatError(path, f"neither a handviewer hands file (no \"format\"), an OpenPose file "
                                f"(no \"people\" list) nor COCO-WholeBody predictions; {KEYPOINT_FORMATS_HINT}")


def load_keypoints_any(path: str | Path) -> Keypoints2D:
    """2D keypoints from our JSON/NPZ, an OpenPose file or folder or COCO-WholeBody predictions, chosen by `sniff_keypoint_format`
    (so `my_openpose.json` holding our format loads as ours). (T, 2, 21, 3) px + confidence."""
    path = Path(path)
    kind = sniff_keypoint_format(path)
    if kind == "openpose":
        return load_openpose(path)
    if kind == "wholebody":
        from handviewer.io.wholebody import load_wholebody

        return load_wholebody(path)
    keypoints = load_own(path).keypoints
    if keypoints is None:
        raise FileFormatError(path, "holds 3D joints but no 2D keypoints")
    return keypoints


# ---------------------------------------------------------------- InterHand2.6M


@dataclass(frozen=True, eq=False)
class InterHandSamples:
    """InterHand2.6M images with their ground truth, one row per image record of data.json (file order).

    keypoints  : 2D ground truth, the 3D joints projected with each image's camera; confidence 1, NaN if invalid.
    joints     : (T, 2, 21, 3) mm in each image's camera frame (X_cam = camrot @ (world - campos)).
    cameras    : per row, the image's intrinsics and size.
    file_names : per row, the image file name as written in data.json.
    image_ids  : per row, the image id.
    hand_types : per row, "right", "left" or "interacting".
    frame_indices of `keypoints` and `joints` are InterHand's `frame_idx` (not unique across cameras).
    """

    keypoints: Keypoints2D
    joints: Joints3D
    cameras: tuple[Camera, ...]
    file_names: tuple[str, ...]
    image_ids: tuple[int, ...]
    hand_types: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.cameras)


def load_interhand(data_json: str | Path, camera_json: str | Path, joint_3d_json: str | Path,
                   file_prefix: str | None = None) -> InterHandSamples:
    """Read InterHand2.6M annotations (the official `*_data.json`, `*_camera.json`, `*_joint_3d.json`).

    data_json     : COCO-style {"images": [...], "annotations": [...]}; an image names its capture,
                    camera, frame_idx, width and height.
    camera_json   : {capture: {"campos"|"camrot"|"focal"|"princpt": {camera: value}}}, mm and pixels.
    joint_3d_json : {capture: {frame_idx: {"world_coord": (42, 3) mm, "joint_valid": 42, ...}}}.
    A joint is valid when both joint_3d's and the annotation's joint_valid say so.
    file_prefix   : only the images whose file_name starts with it (e.g. "Capture3/0390_dh_touchROM/cam400026/",
                    one camera folder of the dataset's tree); the others are neither read nor checked.
    """
    data_path, camera_path, joint_path = Path(data_json), Path(camera_json), Path(joint_3d_json)
    data, cams, j3d = read_json(data_path), read_json(camera_path), read_json(joint_path)
    return interhand_from_documents(data, cams, j3d, (data_path, camera_path, joint_path), file_prefix)


def interhand_from_documents(data, cams, j3d, paths: tuple[Path, Path, Path],
                             file_prefix: str | None = None) -> InterHandSamples:
    """`load_interhand` on the three files' parsed JSON documents (or the parts of them a caller
    streamed: `io.interhand_folder` reads only one camera folder's records); `paths` name the files
    in errors."""
    data_path, camera_path, joint_path = (Path(p) for p in paths)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise FileFormatError(data_path, "not an InterHand2.6M data file: no 'images' list")
    annotations = _interhand_annotations(data, data_path)
    for k, img in enumerate(data["images"]):
        if not isinstance(img, dict):
            raise FileFormatError(data_path, f"images[{k}] is not an image record (an object), got {img!r:.80}")
    images = data["images"] if file_prefix is None else [
        img for img in data["images"] if str(img.get("file_name", "")).startswith(file_prefix)]
    rows = [_interhand_image(img, annotations.get(_key(img.get("id"))), cams, j3d, data_path, camera_path, joint_path)
            for img in images]
    if not rows:
        raise FileFormatError(data_path, "no images" if file_prefix is None else f"no images under {file_prefix}")
    joints = np.stack([r[0] for r in rows])  # (T, 2, 21, 3) mm
    cameras = tuple(r[1] for r in rows)
    xy = np.stack([project(j, cam) for j, cam in zip(joints, cameras)])  # (T, 2, 21, 2) px
    conf = np.where(np.isfinite(joints[..., :1]), 1.0, np.nan)
    frames = np.array([r[2]["frame_idx"] for r in rows], dtype=np.int64)
    return InterHandSamples(
        keypoints=Keypoints2D(np.concatenate([xy, conf], axis=-1), frames),
        joints=Joints3D(joints, frames),
        cameras=cameras,
        file_names=tuple(str(r[2].get("file_name", "")) for r in rows),
        image_ids=tuple(int(r[2].get("id", -1)) for r in rows),
        hand_types=tuple(str(r[3]) for r in rows),
    )


def _key(value):
    """A JSON value usable as a dict key (lists and objects are not hashable)."""
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _interhand_annotations(data: dict, data_path: Path) -> dict:
    """{image_id: annotation} of data.json's "annotations" list (absent: none)."""
    annotations = data.get("annotations", [])
    if not isinstance(annotations, list):
        raise FileFormatError(data_path, f"'annotations' must be a list, got {type(annotations).__name__}")
    return {_key(a.get("image_id")): a for a in annotations if isinstance(a, dict)}


def _valid_flags(value, path: Path, what: str) -> np.ndarray:
    """(42,) bool from a joint_valid list of 42 flags (or 42 x 1); FileFormatError naming `path` otherwise."""
    try:
        flags = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise FileFormatError(path, f"{what}: joint_valid must be {2 * NUM_JOINTS} numbers (flags)") from e
    if flags.size != 2 * NUM_JOINTS:
        raise FileFormatError(path, f"{what}: joint_valid must hold {2 * NUM_JOINTS} flags (both hands, "
                                    f"InterHand2.6M order), got {flags.size}")
    return flags.reshape(2 * NUM_JOINTS) > 0


def _interhand_image(img, ann, cams, j3d, data_path, camera_path, joint_path):
    """(joints (2, 21, 3) mm camera frame, Camera, image record, hand type) for one image record."""
    try:
        capture, camera, frame = str(img["capture"]), str(img["camera"]), str(int(img["frame_idx"]))
        width, height, _ = int(img["width"]), int(img["height"]), int(img.get("id", -1))
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise FileFormatError(data_path, "image record lacks capture/camera/frame_idx/width/height or has a "
                                         f"non-integer frame_idx/width/height/id: {img!r:.200}") from e
    if width <= 0 or height <= 0:
        raise FileFormatError(data_path, f"image {img.get('id')!r}: width and height must be positive, "
                                         f"got {width}x{height}")
    try:
        cap = cams[capture]
        campos = np.array(cap["campos"][camera], dtype=np.float64).reshape(3)
        camrot = np.array(cap["camrot"][camera], dtype=np.float64).reshape(3, 3)
        (fx, fy), (cx, cy) = cap["focal"][camera], cap["princpt"][camera]
        cam = Camera(intrinsics(float(fx), float(fy), float(cx), float(cy)), width, height)
    except (KeyError, TypeError, ValueError) as e:
        raise FileFormatError(camera_path, f"no valid campos/camrot/focal/princpt for capture {capture}, "
                                           f"camera {camera} ({type(e).__name__}: {e})") from e
    try:
        record = j3d[capture][frame]
        world = np.array(record["world_coord"], dtype=np.float64).reshape(2 * NUM_JOINTS, 3)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise FileFormatError(joint_path, f"no valid world_coord (42 joints x 3) for capture {capture}, "
                                          f"frame {frame} ({type(e).__name__}: {e})") from e
    valid = _valid_flags(record.get("joint_valid"), joint_path, f"capture {capture}, frame {frame}")
    if isinstance(ann, dict) and "joint_valid" in ann:
        valid &= _valid_flags(ann["joint_valid"], data_path, f"annotation of image {img.get('id')!r}")
    cam_coord = (world - campos) @ camrot.T  # (42, 3) mm, X_cam = camrot @ (world - campos)
    cam_coord[~valid] = np.nan
    joints = from_interhand(cam_coord).reshape(2, NUM_JOINTS, 3)
    hand_type = (ann or {}).get("hand_type") or record.get("hand_type") or ""
    return joints, cam, img, hand_type
