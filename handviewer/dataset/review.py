"""A `clean-dataset` review list (`review.json`) read back, for a person to look at its frames.

`review.json` is a list of entries, one per frame that still intersects or moved more than the
threshold: file, capture, frame, volumes, the largest displacement, the reasons, and (lists written
since the app opens them) the annotation files: `input` (the joint_3d file read), `output` (the
corrected file's name beside review.json), `camera`, `data`, plus status, depths and mean
displacement. An older list, without those, is resolved through the `summary.json` written with it.

`load_review(path)` streams each annotation file once (the given joint_3d file and the corrected one,
stopping as soon as every listed frame is found), picks each frame's camera as the job did (the first
image of the frame in data.json, else the capture's first camera: `layout.CameraChooser`) and looks
for that image beside the annotations (`review_images`). It yields (fraction, message) and returns a
`ReviewList`. Errors name the file: a missing or malformed review list, an annotation file it points
to that is gone, a listed frame that is not in its file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handviewer.dataset.layout import NO_CAMERA_K, AnnotationSet, CameraChooser, iter_records, record_joints
from handviewer.dataset.outputs import REVIEW_KEYS
from handviewer.io.errors import FileFormatError, HandIOError

REVIEW_NAME = "review.json"
_PEEK_BYTES = 65536


@dataclass(frozen=True)
class ReviewEntry:
    """One listed frame as review.json states it. Volumes cm^3 and distances mm of the job's fits
    (NaN where the list does not say); status "corrected", "unresolved" or "" (older lists)."""

    file: str
    capture: str
    frame: str
    reasons: tuple[str, ...]
    status: str = ""
    volume_before_cm3: float = math.nan
    volume_after_cm3: float = math.nan
    depth_before_mm: float = math.nan
    depth_after_mm: float = math.nan
    moved_max_mm: float = math.nan
    moved_mean_mm: float = math.nan

    def why(self) -> str:
        """Why the frame is listed, in one line."""
        return "; ".join(self.reasons) or "listed (no reason given)"


@dataclass(frozen=True)
class ListedFiles:
    """The annotation files of one input: input (joint_3d as given), output (corrected), camera, data."""

    input: Path
    output: Path
    camera: Path | None
    data: Path | None


@dataclass(frozen=True, eq=False)
class ReviewList:
    """A review list with what the app shows of each listed frame (N frames, in list order).

    given, corrected : (N, 42, 3) float64 mm, world frame, InterHand order: the input annotation and
                       the corrected file's joints (invalid joints as the files hold them).
    valid            : (N, 42) bool, the input's valid joints.
    R, t, K          : (N, 3, 3), (N, 3) mm, (N, 3, 3) px: each frame's camera (X_cam = R (world - t));
                       identity / zero / `NO_CAMERA_K` where `has_camera` (N,) is False.
    camera_names     : the camera id per frame ("" without one).
    images           : per frame the image file, or None; image_notes: "" when found, else why not.
    canvas           : (width, height) px that holds every frame's image.
    sets, set_index  : the annotation files, and which of them each frame comes from (N,).
    """

    path: Path
    entries: tuple[ReviewEntry, ...]
    sets: tuple[ListedFiles, ...]
    set_index: np.ndarray
    given: np.ndarray
    corrected: np.ndarray
    valid: np.ndarray
    R: np.ndarray
    t: np.ndarray
    K: np.ndarray
    has_camera: np.ndarray
    camera_names: tuple[str, ...]
    images: tuple[Path | None, ...]
    image_notes: tuple[str, ...]
    canvas: tuple[int, int]

    def __len__(self) -> int:
        return len(self.entries)

    def inputs(self, rows: list[int], corrected: bool = False) -> dict[str, np.ndarray]:
        """The rows as a dataset job's input arrays (`work.INPUT_KEYS`, for `worker.frame_batch`):
        the given joints, or the corrected ones, in each frame's camera."""
        rows = np.asarray(rows, np.int64)
        return {"world": (self.corrected if corrected else self.given)[rows], "valid": self.valid[rows],
                "R": self.R[rows], "t": self.t[rows], "K": self.K[rows], "has_camera": self.has_camera[rows],
                "file_index": self.set_index[rows].astype(np.int32), "ordinal": rows}

    def describe(self) -> str:
        """One line for the user: what was read."""
        found = sum(p is not None for p in self.images)
        return (f"Review list {self.path.name}: {len(self)} frame(s) of {len(self.sets)} annotation file(s) "
                f"({', '.join(s.input.name for s in self.sets)}); before = the given annotation, after = the "
                f"corrected file, both fitted by IK; {found} with an image")

    def warnings(self) -> list[str]:
        """What the user may miss: frames without an image (the first reason)."""
        missing = [n for n in self.image_notes if n]
        return [f"{len(missing)} of {len(self)} listed frames have no image ({missing[0]})"] if missing else []


# ----------------------------------------------------------------------------- recognising a list


def is_review_file(path: str | Path) -> bool:
    """Whether `path` holds a clean-dataset review list (by content): a JSON list whose first entry has
    the review keys, or an empty list with a clean-dataset summary.json beside it. A file named
    review.json beside a clean-dataset summary.json is one whatever it holds (`load_review` then says
    what is wrong with it, rather than the app calling it an undecodable video)."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    if path.name == REVIEW_NAME and _summary_command(path.with_name("summary.json")) == "clean-dataset":
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(_PEEK_BYTES).lstrip()
    except OSError:
        return False
    if not head.startswith(b"["):
        return False
    if head[1:].lstrip().startswith(b"]"):
        return _summary_command(path.with_name("summary.json")) == "clean-dataset"
    try:
        import ijson

        with open(path, "rb") as f:
            first = next(ijson.items(f, "item", use_float=True), None)
    except Exception:  # noqa: BLE001 - ijson raises several types for what is not JSON: not a review list
        return False
    return isinstance(first, dict) and {"file", "capture", "frame", "reasons"} <= first.keys()


def _summary_command(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("command")
    except (OSError, ValueError, AttributeError):
        return None


# ----------------------------------------------------------------------------- loading


def read_entries(path: str | Path) -> tuple[list[ReviewEntry], list[dict]]:
    """The entries of a review list and their raw dicts. HandIOError / FileFormatError naming the file."""
    from handviewer.io._files import read_json

    path = Path(path)
    raw = read_json(path)
    if not isinstance(raw, list):
        raise FileFormatError(path, "not a clean-dataset review list: expected a list of frames")
    entries = []
    for k, item in enumerate(raw):
        if not isinstance(item, dict) or not set(REVIEW_KEYS[:3]) <= item.keys():
            raise FileFormatError(path, f"entry {k} is not a listed frame (needs file, capture, frame): {item!r:.120}")
        reasons = item.get("reasons", [])
        entries.append(ReviewEntry(
            str(item["file"]), str(item["capture"]), str(item["frame"]),
            tuple(str(r) for r in (reasons if isinstance(reasons, list) else [reasons])), str(item.get("status") or ""),
            *(_number(item.get(key)) for key in ("volume_before_cm3", "volume_after_cm3", "depth_before_mm",
                                                 "depth_after_mm", "moved_max_mm", "moved_mean_mm"))))
    return entries, raw


def load_review(path: str | Path) -> Generator[tuple[float, str], None, ReviewList]:
    """Read a review list and the listed frames of its annotation files (see the module docstring)."""
    from handviewer.dataset.review_images import canvas_for, find_image

    path = Path(path).resolve()
    entries, raw = read_entries(path)
    if not entries:
        raise FileFormatError(path, "the review list is empty: no frame needs a look")
    sets, set_index = _resolve_files(path, entries, raw)
    n = len(entries)
    given, corrected = np.full((n, 42, 3), np.nan), np.full((n, 42, 3), np.nan)
    valid = np.zeros((n, 42), bool)
    R, t, K = np.repeat(np.eye(3)[None], n, 0), np.zeros((n, 3)), np.repeat(NO_CAMERA_K[None], n, 0)
    has_camera, names = np.zeros(n, bool), [""] * n
    images: list[Path | None] = [None] * n
    notes = [""] * n
    sizes = np.zeros((n, 2), np.int64)
    steps = 2 * len(sets)
    for s, files in enumerate(sets):
        rows = {(entries[k].capture, entries[k].frame): k for k in np.flatnonzero(set_index == s)}
        for which, (file, target) in enumerate(((files.input, given), (files.output, corrected))):
            yield from _read_listed(file, rows, target, valid if which == 0 else None, path,
                                    (2 * s + which) / steps, 1 / steps)
        chooser = CameraChooser(AnnotationSet(files.input, files.camera, files.data), frames=set(rows))
        for (capture, frame), k in rows.items():
            cam = chooser(capture, frame)
            if cam is not None:
                R[k], t[k], K[k], has_camera[k], names[k] = cam.R, cam.t, cam.K, True, cam.name
            images[k], notes[k], sizes[k] = find_image(files, chooser.images.get((capture, frame)), cam)
    yield 1.0, f"read {n} listed frames"
    return ReviewList(path, tuple(entries), tuple(sets), set_index, given, corrected, valid, R, t, K, has_camera,
                      tuple(names), tuple(images), tuple(notes), canvas_for(sizes))


def _read_listed(file: Path, rows: dict[tuple[str, str], int], target: np.ndarray, valid: np.ndarray | None,
                 review: Path, start: float, span: float):
    """Stream `file` and put the listed records' joints into `target` (and their validity into `valid`);
    stops once every listed frame is found. FileFormatError when one is missing."""
    left = set(rows)
    records = 0
    for capture, frame, record in iter_records(file):
        records += 1
        key = (str(capture), str(frame))
        if key in left:
            world, ok = record_joints(record, file, capture, frame)
            target[rows[key]] = world
            if valid is not None:
                valid[rows[key]] = ok
            left.discard(key)
            if not left:
                break
        if records % 2000 == 0:
            yield start + span * (1 - len(left) / max(len(rows), 1)), f"reading {file.name}: {records} records"
    if left:
        capture, frame = sorted(left)[0]
        raise FileFormatError(file, f"capture {capture}, frame {frame} listed in {review} is not in this file "
                                    f"({len(left)} listed frame(s) missing): was the file changed since the job?")
    yield start + span, f"read {file.name}"
    return records


def _resolve_files(path: Path, entries: list[ReviewEntry], raw: list[dict]) -> tuple[list[ListedFiles], np.ndarray]:
    """The annotation files of each entry (from the entry, else from summary.json), checked to exist."""
    summary = None
    sets: list[ListedFiles] = []
    index = np.zeros(len(entries), np.int64)
    for k, (entry, item) in enumerate(zip(entries, raw)):
        if item.get("input") and item.get("output"):
            files = ListedFiles(Path(item["input"]), path.parent / str(item["output"]),
                                Path(item["camera"]) if item.get("camera") else None,
                                Path(item["data"]) if item.get("data") else None)
        else:  # a list written before the entries named their files
            summary = summary if summary is not None else _summary_files(path)
            files = _from_summary(path, entry, summary)
        if files not in sets:
            sets.append(files)
        index[k] = sets.index(files)
    for files in sets:
        if not files.input.is_file():
            raise HandIOError(files.input, f"the annotation file {path.name} lists frames of is gone (moved or "
                                           f"deleted): put it back, or run clean-dataset again")
        if not files.output.is_file():
            raise HandIOError(files.output, f"the corrected file written with {path.name} is gone: the output folder "
                                            "is incomplete")
    return [ListedFiles(f.input, f.output, f.camera if f.camera and f.camera.is_file() else None,
                        f.data if f.data and f.data.is_file() else None) for f in sets], index


def _summary_files(path: Path) -> list[dict]:
    from handviewer.io._files import read_json

    summary = path.with_name("summary.json")
    if not summary.is_file():
        raise HandIOError(summary, f"{path.name} does not name its annotation files (an older list) and the "
                                   "summary.json written with it is missing")
    value = read_json(summary)
    files = value.get("files") if isinstance(value, dict) else None
    if not isinstance(files, list):
        raise FileFormatError(summary, "not a clean-dataset summary: no 'files' list")
    return files


def _from_summary(path: Path, entry: ReviewEntry, files: list[dict]) -> ListedFiles:
    match = [f for f in files if isinstance(f, dict) and Path(str(f.get("joint_3d", ""))).name == entry.file]
    if len(match) != 1:
        why = "names no such input" if not match else f"names {len(match)} inputs called {entry.file}"
        raise FileFormatError(path.with_name("summary.json"), f"{path.name} lists {entry.file}, but the summary "
                                                              f"{why}: run clean-dataset again")
    f = match[0]
    return ListedFiles(Path(f["joint_3d"]), path.parent / str(f.get("output") or entry.file),
                       Path(f["camera"]) if f.get("camera") else None, Path(f["data"]) if f.get("data") else None)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


__all__ = ["REVIEW_NAME", "ListedFiles", "ReviewEntry", "ReviewList", "is_review_file", "load_review", "read_entries"]
