"""One camera folder's part of InterHand2.6M's own annotation files, streamed (ijson).

The dataset's files are large (a split's data.json holds hundreds of thousands of image records,
hundreds of MB; its joint_3d.json every frame of every capture): opening one camera folder
`images/{split}/Capture*/{seq}/cam*` reads only that folder's image records, their annotations and
their capture's frames, record by record, never a whole file into memory. The image records of a
folder are kept (a few, keyed by the file's size and time), since opening reads them twice (the
canvas size, then the annotations).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from handviewer.io._files import read_json
from handviewer.io.errors import FileFormatError, HandIOError


def _stream(path: Path, prefix: str):
    """ijson items of `path` under `prefix` ("images.item"); errors name the file."""
    import ijson

    try:
        with open(path, "rb") as f:
            yield from ijson.items(f, prefix, use_float=True)
    except OSError as e:
        raise HandIOError(path, f"cannot read: {e.strerror or e}") from e
    except ijson.JSONError as e:
        raise FileFormatError(path, f"not valid JSON: {e}") from e


def folder_images(data_json: Path, file_prefix: str) -> tuple[dict, ...]:
    """The image records of data.json whose file_name starts with `file_prefix` (file order)."""
    data_json = Path(data_json)
    if not data_json.is_file():
        raise HandIOError(data_json, "no such file" if not data_json.exists() else "not a file")
    stat = data_json.stat()
    return _folder_images(str(data_json.resolve()), stat.st_mtime_ns, stat.st_size, file_prefix)


@lru_cache(maxsize=4)
def _folder_images(path: str, _mtime_ns: int, _size: int, file_prefix: str) -> tuple[dict, ...]:
    out = []
    for k, img in enumerate(_stream(Path(path), "images.item")):
        if not isinstance(img, dict):
            raise FileFormatError(Path(path), f"images[{k}] is not an image record (an object), got {img!r:.80}")
        if str(img.get("file_name", "")).startswith(file_prefix):
            out.append(img)
    return tuple(out)


def folder_documents(files: tuple[Path, Path, Path], file_prefix: str) -> tuple[dict, dict, dict]:
    """(data, cameras, joint_3d) documents holding what the images under `file_prefix` need: their
    image records and annotations, the cameras file (small: one entry per capture and camera) and
    their captures' frames of joint_3d. For `keypoints.interhand_from_documents`."""
    data_json, camera_json, joint_json = (Path(p) for p in files)
    images = [dict(img) for img in folder_images(data_json, file_prefix)]
    ids = {img.get("id") for img in images if isinstance(img.get("id"), (int, str))}
    annotations = [a for a in _stream(data_json, "annotations.item")
                   if isinstance(a, dict) and isinstance(a.get("image_id"), (int, str)) and a["image_id"] in ids]
    wanted: dict[str, set[str]] = {}
    for img in images:
        try:
            wanted.setdefault(str(img["capture"]), set()).add(str(int(img["frame_idx"])))
        except (KeyError, TypeError, ValueError):
            continue  # a broken record: `interhand_from_documents` names it
    joint_3d: dict[str, dict] = {}
    for capture, frames in wanted.items():
        joint_3d[capture] = {}
        import ijson

        try:
            with open(joint_json, "rb") as f:
                for frame, record in ijson.kvitems(f, capture, use_float=True):
                    if frame in frames:
                        joint_3d[capture][frame] = record
        except OSError as e:
            raise HandIOError(joint_json, f"cannot read: {e.strerror or e}") from e
        except ijson.JSONError as e:
            raise FileFormatError(joint_json, f"not valid JSON: {e}") from e
    return {"images": images, "annotations": annotations}, read_json(camera_json), joint_3d
