"""Detected keypoints kept with the input: `<stem>.keypoints.json` beside the video (our keypoints
format, which `pipeline.inputs.find_beside` finds), or, where that folder is not writable, in the
per-user cache ($HANDVIEWER_CACHE or ~/.cache/handviewer, `detect/<key>/`), keyed by the input's
absolute path, size and modification time (a changed video is detected again).

Each file the detection writes says so in its header: "detection": {"detector", "version"}, the
version being DETECTION_VERSION, raised whenever detection finds more or other hands than before. A
per-user cache entry of an older version (or none: written before versions) is stale: the hands are
detected again. `is_stale` tells the same of a file beside a video (a file without the mark there
may be the user's own keypoints and is never called stale).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from handviewer.io.errors import HandIOError, MissingDependencyError


# 1: the per-frame pass, the second look (other hand masked, region around the last place) and sides
# over time; 2: + the gap look (`gaps.py`) around a missing hand's place predicted from its neighbours;
# 3: a second look's hand far from its place predicted from the frames around it is dropped
# (`gaps.drop_strays`).
DETECTION_VERSION = 3


def detection_header(detector: str = "mediapipe-hands", **options) -> dict:
    """The header field that marks keypoints as detected (by `detector`, with `options`), this version."""
    return {"detection": {"detector": detector, "version": DETECTION_VERSION, **options}}


def detection_version(path: str | Path) -> int | None:
    """The detection version a keypoints file was written with: 0 for detection files written before
    versions, None when the file says it was not made by detection (or cannot be read)."""
    from handviewer.io.own import read_header

    try:
        head = read_header(path)
    except (OSError, HandIOError, ValueError):
        return None
    mark = head.get("detection")
    if mark is None:
        return None
    version = mark.get("version") if isinstance(mark, dict) else None
    return version if isinstance(version, int) else 0


def is_stale(path: str | Path) -> bool:
    """Whether `path` holds hands detected by an older detection than this one (see the module docstring)."""
    version = detection_version(path)
    return version is not None and version < DETECTION_VERSION


def beside_path(video: str | Path) -> Path:
    """`clip.keypoints.json` beside `clip.mp4` (or beside an image folder `frames/`: `frames.keypoints.json`)."""
    video = Path(video)
    return video.parent / f"{video.stem}.keypoints.json"


def _key(video: Path) -> str:
    video = video.resolve()
    files = sorted(p for p in video.rglob("*") if p.is_file()) if video.is_dir() else [video]
    stamp = [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    return hashlib.sha1(json.dumps([str(video), stamp]).encode()).hexdigest()[:20]


def cache_path_for(video: str | Path, create: bool = False) -> Path:
    """Where the per-user cache keeps the detected keypoints of `video` (its folder made with `create`)."""
    from handviewer.cache import cache_dir

    video = Path(video)
    folder = cache_dir("detect") / _key(video)
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{video.stem}.keypoints.json"


def find_cached(video: str | Path) -> Path | None:
    """The per-user cache's keypoints for `video`, if any and of this detection version (those beside
    it are found by `find_beside`). Only detection writes there: an entry without a version is stale."""
    path = cache_path_for(video)
    if not path.is_file():
        return None
    return path if (detection_version(path) or 0) >= DETECTION_VERSION else None


def save_detections(video: str | Path, detections) -> Path:
    """Write `Detections` in our keypoints format beside `video`, else in the per-user cache; the path."""
    from handviewer.io.own import save_own

    keypoints, mark = detections.to_keypoints2d(), detection_header()
    try:
        target = beside_path(video)
        save_own(target, keypoints, extra_header=mark)
        return target
    except (OSError, HandIOError):  # a read-only or vanished folder
        target = cache_path_for(video, create=True)
        save_own(target, keypoints, extra_header=mark)
        return target


def cached_or_detect(video: str | Path, progress=None) -> tuple[Path | None, str]:
    """Keypoints for a video that has none beside it: the per-user cache's, else detected now (and
    saved: `save_detections`). Returns (path or None, a note saying what was done).

    progress : report(fraction, message), default a text bar on stderr.
    None when detection is unavailable (mediapipe missing): the note says how to install it.
    """
    from handviewer.progress import TextProgress, drain

    return drain(iter_cached_or_detect(video), progress or TextProgress("detect"))


def iter_cached_or_detect(video: str | Path):
    """`cached_or_detect` as a generator for a worker: yields (fraction, message) while detecting
    (closing it cancels), returns (path or None, note)."""
    cached = find_cached(video)
    if cached is not None:
        return cached, f"no 2D keypoints or 3D predictions beside the video: using the hands detected earlier ({cached})"
    from handviewer.detect.video import iter_detect

    print(f"handviewer: no 2D keypoints or 3D predictions beside {video}: detecting hands (MediaPipe Hands)",
          file=sys.stderr)
    try:
        detections = yield from iter_detect(video)
    except MissingDependencyError as e:
        note = f"no 2D keypoints or 3D predictions beside the video, and hand detection is unavailable: {e}"
        print(f"handviewer: {note}", file=sys.stderr)
        return None, note
    path = save_detections(video, detections)
    s = detections.summary()
    return path, (f"no 2D keypoints or 3D predictions beside the video: hands detected with MediaPipe Hands "
                  f"(both hands in {s['frames_with_both_hands']} of {s['frames']} frames, one in "
                  f"{s['frames_with_a_hand'] - s['frames_with_both_hands']}), saved to {path}")
