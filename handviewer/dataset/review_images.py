"""The images of a review list's frames: found beside the annotations, shown one per listed frame.

InterHand2.6M names each image in data.json by `file_name`, relative to the images of its split. A
frame's image is looked for, in this order, at (A: the folder of the joint_3d file, F: file_name):
  A/F                      a flat folder, images beside the annotations (`handviewer.io.load_interhand`,
                           the mmpose samples)
  A/images/F
  A/../images/<A name>/F   the official layout: annotations/test/*.json beside images/test/...
  A/../../images/<A name>/F
  A/<name of F>            the file alone beside the annotations
`ReviewFrames` is a frame source (like `handviewer.io.open_frames`) whose frame i is the image of the
list's frame i, padded at the right and bottom to one canvas (pixel coordinates and each image's
camera stay valid), or, when there is none, a grey canvas that says "no image" and why: a missing
image never fails the review. OpenCV is imported on first use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

DEFAULT_CANVAS = (640, 480)
NO_IMAGE_GREY = 58


def image_candidates(folder: Path, file_name: str) -> list[Path]:
    """Where the image `file_name` of an annotation file in `folder` may lie (module docstring)."""
    rel = Path(str(file_name))
    if rel.is_absolute() or ".." in rel.parts:
        return [folder / rel.name]  # never outside the dataset's folders
    split = folder.name
    return [folder / rel, folder / "images" / rel, folder.parent / "images" / split / rel,
            folder.parent.parent / "images" / split / rel, folder / rel.name]


def find_image(files, record: dict | None, camera) -> tuple[Path | None, str, tuple[int, int]]:
    """(image file or None, why there is none ("" when found), (width, height) px of the frame's image
    or 0, 0 when unknown) of one listed frame. files: its `review.ListedFiles`; record: its first image
    record in data.json (None without one); camera: its `layout.FrameCamera` or None."""
    if record is None or not record.get("file_name"):
        why = ("no data.json beside the annotations" if files.data is None else
               "data.json has no image of this frame")
        size = _size_from_camera(camera)
        return None, f"no image: {why}", size
    size = _record_size(record) or _size_from_camera(camera)
    for candidate in image_candidates(files.input.parent, record["file_name"]):
        if candidate.is_file():
            return candidate, "", size
    return None, f"no image: {record['file_name']} is not beside the annotations", size


def canvas_for(sizes: np.ndarray) -> tuple[int, int]:
    """(width, height) px holding every (width, height) of `sizes` (N, 2); the default for none known."""
    known = sizes[(sizes > 0).all(-1)] if len(sizes) else sizes
    if not len(known):
        return DEFAULT_CANVAS
    return int(known[:, 0].max()), int(known[:, 1].max())


def _record_size(record: dict) -> tuple[int, int] | None:
    try:
        w, h = int(record["width"]), int(record["height"])
    except (KeyError, TypeError, ValueError):
        return None
    return (w, h) if w > 0 and h > 0 else None


def _size_from_camera(camera) -> tuple[int, int]:
    """The image size a camera's principal point suggests (InterHand2.6M's is near the centre)."""
    if camera is None:
        return 0, 0
    return int(round(2 * camera.K[0, 2])), int(round(2 * camera.K[1, 2]))


class ReviewFrames:
    """A frame source over a `ReviewList` (see the module docstring). `read(i)` -> (H, W, 3) uint8 RGB,
    read-only, H, W = the canvas; `note(i)` says why frame i has no image ("" when it has one).
    Safe to call from several threads."""

    def __init__(self, review, cache_size: int = 16) -> None:
        self.review = review
        self.path = review.path
        self.frame_count = len(review)
        self.fps = 1.0  # a list of frames, not a clip: played, one frame a second
        self.size = tuple(review.canvas)
        self._notes = list(review.image_notes)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def note(self, index: int) -> str:
        return self._notes[index]

    def read(self, index: int) -> np.ndarray:
        if not 0 <= index < self.frame_count:
            from handviewer.io.errors import FrameSourceError

            raise FrameSourceError(self.path, f"frame {index} is out of range (0-{self.frame_count - 1})")
        with self._lock:
            if index in self._cache:
                self._cache.move_to_end(index)
                return self._cache[index]
            image = self._load(index)
            image.flags.writeable = False
            self._cache[index] = image
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return image

    def _load(self, index: int) -> np.ndarray:
        import cv2

        file = self.review.images[index]
        if file is not None:
            try:
                data = np.fromfile(file, dtype=np.uint8)
                bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            except OSError:
                bgr = None
            if bgr is not None:
                return _on_canvas(bgr[..., ::-1], self.size)
            self._notes[index] = f"no image: {file.name} cannot be read or decoded"
        return no_image(self.size, self._notes[index] or "no image")


def _on_canvas(rgb: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """The image at the top left of a black canvas (cropped where it is larger than the canvas)."""
    w, h = canvas
    out = np.zeros((h, w, 3), np.uint8)
    ih, iw = min(rgb.shape[0], h), min(rgb.shape[1], w)
    out[:ih, :iw] = rgb[:ih, :iw]
    return out


def no_image(canvas: tuple[int, int], text: str) -> np.ndarray:
    """A grey canvas with `text` written on it, wrapped to its width (the reason there is no image)."""
    import cv2

    w, h = canvas
    out = np.full((h, w, 3), NO_IMAGE_GREY, np.uint8)
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, min(w, h) / 700)
    lines = [""]
    for word in text.split():
        wider = f"{lines[-1]} {word}".strip()
        if lines[-1] and cv2.getTextSize(wider, font, scale, 1)[0][0] > w - 20:
            lines.append(word)
        else:
            lines[-1] = wider
    step = cv2.getTextSize("Ag", font, scale, 1)[0][1] * 2
    for k, line in enumerate(lines):
        cv2.putText(out, line, (10, 10 + step * (k + 1)), font, scale, (230, 230, 230), 1, cv2.LINE_AA)
    return out


__all__ = ["ReviewFrames", "canvas_for", "find_image", "image_candidates", "no_image"]
