"""An InterHand2.6M image folder: the images with the official annotation files beside them.

A folder is one when it holds `PREFIX_data.json`, `PREFIX_camera.json` and `PREFIX_joint_3d.json`
(the official names, e.g. `InterHand2.6M_test_data.json`, or mmpose's `test_interhand2.6m_data.json`)
next to its images (flat), or when it is a camera folder of the dataset's own tree (nested):

    ROOT/images/{split}/Capture*/{sequence}/cam*/image*.jpg
    ROOT/annotations/{split}/InterHand2.6M_{split}_{data,camera,joint_3d}.json

where data.json names the images by their path under `images/{split}/` (only this folder's records
are read, streamed: `io.interhand_stream`). A nested folder whose `ROOT/annotations/` lacks the
split's files is an error naming them; with no `ROOT/annotations/` at all it is a plain image folder. `load_interhand_folder` matches the
annotation records to the images by path (else by a file name only one record has) and gives, per
frame of the folder (images in natural order, as `open_frames` shows them):

keypoints : (T, 2, 21, 3) float32 px + confidence, the 3D ground truth projected with the image's camera.
joints    : (T, 2, 21, 3) float32 mm in the image's camera frame (OpenCV), NaN where invalid or absent.
K         : (T, 3, 3) float64 px, each image's intrinsics (the default camera of the canvas for an
            image without a record).
canvas    : (width, height) px, the largest image: InterHand2.6M crops are portrait or landscape, so
            smaller images are padded at the right and bottom (pixel coordinates and each image's
            camera stay valid).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.io._files import read_json
from handviewer.io.errors import FileFormatError

KINDS = ("data", "camera", "joint_3d")


def _flat_files(folder: Path) -> tuple[Path, Path, Path] | None:
    """A complete set of annotation files directly in `folder` (the first in name order), or None."""
    if not folder.is_dir():
        return None
    for data in sorted(folder.glob("*data.json")):
        prefix = data.name[: -len("data.json")]
        others = (folder / f"{prefix}camera.json", folder / f"{prefix}joint_3d.json")
        if all(p.is_file() for p in others):
            return (data, *others)
    return None


def nested_layout(folder: str | Path) -> tuple[Path, str, str] | None:
    """(dataset root, split, "Capture3/0390_dh_touchROM/cam400026") when `folder` is a camera folder
    `ROOT/images/{split}/Capture*/{sequence}/cam*` of the dataset's tree, else None."""
    cam = Path(folder).resolve()
    parents = cam.parents
    if len(parents) < 5 or not cam.name.startswith("cam"):
        return None
    seq, capture, split, images = parents[0], parents[1], parents[2], parents[3]
    if not (re.fullmatch(r"Capture\d+", capture.name) and images.name == "images"):
        return None
    return images.parent, split.name, f"{capture.name}/{seq.name}/{cam.name}"


@dataclass(frozen=True)
class InterHandLayout:
    """Where a folder's annotations are: files (data, camera, joint_3d); image_root, the folder
    data.json's file names are relative to; prefix, the file-name prefix of this folder's images
    (None: every record of data.json may be one of its images)."""

    files: tuple[Path, Path, Path]
    image_root: Path
    prefix: str | None


def find_interhand_layout(folder: str | Path) -> InterHandLayout | None:
    """The annotations of `folder`, flat (beside the images) or nested (the dataset's tree), or None
    when it has none. FileFormatError naming the missing files for a nested folder whose
    `ROOT/annotations/` lacks the split's set."""
    folder = Path(folder)
    flat = _flat_files(folder)
    if flat is not None:
        return InterHandLayout(flat, folder, None)
    nested = nested_layout(folder) if folder.is_dir() else None
    if nested is None:
        return None
    root, split, relative = nested
    annotations = root / "annotations"
    if not annotations.is_dir():
        return None  # the images alone: a plain image folder (hands are detected)
    expected = tuple(annotations / split / f"InterHand2.6M_{split}_{kind}.json" for kind in KINDS)
    files = expected if all(p.is_file() for p in expected) else _flat_files(annotations / split)
    if files is None:
        missing = ", ".join(str(p) for p in expected if not p.is_file())
        raise FileFormatError(folder, f"an InterHand2.6M camera folder (images/{split}/{relative}) whose "
                                      f"annotations are incomplete: missing {missing}")
    return InterHandLayout(files, root / "images" / split, relative + "/")


def find_interhand_files(folder: str | Path) -> tuple[Path, Path, Path] | None:
    """(data.json, camera.json, joint_3d.json) of `folder` (`find_interhand_layout`), or None when it
    has none.

    Several sets (e.g. train and test annotations in one folder): the first in name order whose
    three files exist."""
    layout = find_interhand_layout(folder)
    return None if layout is None else layout.files


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
    layout = find_interhand_layout(folder)
    if layout is None:
        return None
    records = _image_records(layout, image_files)
    if not records:
        return None
    return max(int(r["width"]) for r in records.values()), max(int(r["height"]) for r in records.values())


def load_interhand_folder(folder: str | Path, image_files: list[Path], canvas: tuple[int, int]) -> InterHandFolder:
    """The annotations of `folder` for its frames `image_files` (in frame order). Raises
    FileFormatError naming the file when the annotation files are wrong, and when the folder holds
    no InterHand2.6M set."""
    from handviewer.io.camera import default_camera
    from handviewer.io.keypoints import interhand_from_documents, load_interhand

    folder = Path(folder)
    layout = find_interhand_layout(folder)
    if layout is None:
        raise FileFormatError(folder, "no InterHand2.6M annotation files (PREFIX_data.json, PREFIX_camera.json, "
                                      "PREFIX_joint_3d.json)")
    files = layout.files
    if layout.prefix is None:
        samples = load_interhand(*files)
    else:  # one camera folder of the dataset's (large) files: only its records, streamed
        from handviewer.io.interhand_stream import folder_documents

        samples = interhand_from_documents(*folder_documents(files, layout.prefix), files, layout.prefix)
    rows = _rows_by_image(layout.image_root, image_files, samples.file_names)
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


def _image_records(layout: InterHandLayout, image_files: list[Path]) -> dict[int, dict]:
    """{frame: image record of data.json} for the images of a folder (matched as `_rows_by_image`)."""
    data_json = layout.files[0]
    if layout.prefix is None:
        data = read_json(data_json)
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise FileFormatError(data_json, "not an InterHand2.6M data file: no 'images' list")
        records = [img for img in data["images"] if isinstance(img, dict)]
    else:
        from handviewer.io.interhand_stream import folder_images

        records = list(folder_images(data_json, layout.prefix))
    rows = _rows_by_image(layout.image_root, image_files, tuple(str(r.get("file_name", "")) for r in records))
    out = {}
    for i, k in rows.items():
        img = records[k]
        try:
            int(img["width"]), int(img["height"])
        except (KeyError, TypeError, ValueError) as e:
            raise FileFormatError(data_json, f"image record without a whole width/height: {img!r:.200}") from e
        out[i] = img
    return out
