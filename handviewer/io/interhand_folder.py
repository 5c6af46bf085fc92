"""An InterHand2.6M image folder: the images with the official annotation files beside them.

A folder is one when it holds `PREFIX_data.json`, `PREFIX_camera.json` and `PREFIX_joint_3d.json`
(the official names, e.g. `InterHand2.6M_test_data.json`, or mmpose's `test_interhand2.6m_data.json`)
next to its images. `load_interhand_folder` matches the annotation records to the images by file name
and gives, per frame of the folder (images in natural order, as `open_frames` shows them):

keypoints : (T, 2, 21, 3) float32 px + confidence, the 3D ground truth projected with the image's camera.
joints    : (T, 2, 21, 3) float32 mm in the image's camera frame (OpenCV), NaN where invalid or absent.
K         : (T, 3, 3) float64 px, each image's intrinsics (the default camera of the canvas for an
            image without a record).
canvas    : (width, height) px, the largest image: InterHand2.6M crops are portrait or landscape, so
            smaller images are padded at the right and bottom (pixel coordinates and each image's
            camera stay valid).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.io._files import read_json
from handviewer.io.errors import FileFormatError

KINDS = ("data", "camera", "joint_3d")


def find_interhand_files(folder: str | Path) -> tuple[Path, Path, Path] | None:
    """(data.json, camera.json, joint_3d.json) in `folder`, or None when it holds no complete set.

    Several sets (e.g. train and test annotations in one folder): the first in name order whose
    three files exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    for data in sorted(folder.glob("*data.json")):
        prefix = data.name[: -len("data.json")]
        others = (folder / f"{prefix}camera.json", folder / f"{prefix}joint_3d.json")
        if all(p.is_file() for p in others):
            return (data, *others)
    return None


@dataclass(frozen=True, eq=False)
class InterHandFolder:
    """The annotations of an InterHand2.6M folder, per frame (see the module docstring)."""

    files: tuple[Path, Path, Path]
    keypoints: np.ndarray
    joints: np.ndarray
    K: np.ndarray
    canvas: tuple[int, int]
    annotated: np.ndarray  # (T,) bool: images with a record in data.json
    hand_types: tuple[str, ...]  # per frame: "right", "left", "interacting" or "" (no record)

    def describe(self) -> str:
        """One line for the user: what was read and how it is used."""
        n, found = len(self.annotated), int(self.annotated.sum())
        hands = int(np.isfinite(self.joints).all(-1).any(-1).sum())
        cameras = len({tuple(np.round(k, 6).ravel()) for k in self.K[self.annotated]})
        return (f"InterHand2.6M annotations ({self.files[0].name} and its camera and joint_3d files): "
                f"{found} of {n} images annotated, {hands} hands of 3D ground truth, {cameras} camera(s), "
                "one per image")


def interhand_canvas(folder: str | Path, image_files: list[Path]) -> tuple[int, int] | None:
    """(width, height) px that holds every annotated image of the folder (their data.json sizes), or
    None when the folder is not an InterHand2.6M folder."""
    files = find_interhand_files(folder)
    if files is None:
        return None
    records = _image_records(files[0], {p.name for p in image_files})
    if not records:
        return None
    return max(int(r["width"]) for r in records.values()), max(int(r["height"]) for r in records.values())


def load_interhand_folder(folder: str | Path, image_files: list[Path], canvas: tuple[int, int]) -> InterHandFolder:
    """The annotations of `folder` for its frames `image_files` (in frame order). Raises
    FileFormatError naming the file when the annotation files are wrong, and when the folder holds
    no InterHand2.6M set."""
    from handviewer.io.camera import default_camera
    from handviewer.io.keypoints import load_interhand

    folder = Path(folder)
    files = find_interhand_files(folder)
    if files is None:
        raise FileFormatError(folder, "no InterHand2.6M annotation files (PREFIX_data.json, PREFIX_camera.json, "
                                      "PREFIX_joint_3d.json)")
    samples = load_interhand(*files)
    rows = _rows_by_image(folder, image_files, samples.file_names)
    n = len(image_files)
    keypoints = np.full((n, 2, 21, 3), np.nan, np.float32)
    joints = np.full((n, 2, 21, 3), np.nan, np.float32)
    K = np.repeat(default_camera(*canvas).K[None], n, axis=0).astype(np.float64)
    annotated = np.zeros(n, bool)
    hand_types = []
    for i, image in enumerate(image_files):
        k = rows.get(i)
        hand_types.append("" if k is None else samples.hand_types[k])
        if k is None:
            continue
        cam = samples.cameras[k]
        if cam.width > canvas[0] or cam.height > canvas[1]:
            raise FileFormatError(files[0], f"{image.name} is {cam.width}x{cam.height}, larger than the "
                                            f"folder's {canvas[0]}x{canvas[1]}")
        keypoints[i], joints[i], K[i], annotated[i] = samples.keypoints.xyc[k], samples.joints.joints[k], cam.K, True
    return InterHandFolder(files, keypoints, joints, K, tuple(canvas), annotated, tuple(hand_types))


def _rows_by_image(folder: Path, image_files: list[Path], file_names: tuple[str, ...]) -> dict[int, int]:
    """{frame: row of data.json}: the record whose file_name is the image's path in the folder, else
    the only record with the image's name. A name several records share (the full dataset names every
    camera's images image0001.jpg ...) matches none of them: a wrong camera would be worse than none."""
    by_path: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for k, name in enumerate(file_names):
        by_path.setdefault(Path(name).as_posix(), []).append(k)
        by_name.setdefault(Path(name).name, []).append(k)
    out = {}
    for i, image in enumerate(image_files):
        relative = Path(image).resolve().relative_to(Path(folder).resolve()).as_posix()
        for rows in (by_path.get(relative, []), by_name.get(Path(image).name, [])):
            if rows:
                if len(rows) == 1:
                    out[i] = rows[0]
                break
    return out


def _image_records(data_json: Path, names: set[str]) -> dict[str, dict]:
    """{file name: image record} of data.json for the named images."""
    data = read_json(data_json)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise FileFormatError(data_json, "not an InterHand2.6M data file: no 'images' list")
    out = {}
    for img in data["images"]:
        if isinstance(img, dict) and Path(str(img.get("file_name", ""))).name in names:
            try:
                int(img["width"]), int(img["height"])
            except (KeyError, TypeError, ValueError) as e:
                raise FileFormatError(data_json, f"image record without a whole width/height: {img!r:.200}") from e
            out[Path(str(img["file_name"])).name] = img
    return out
