"""Detected keypoints kept with the input: `<stem>.keypoints.json` beside the video (our keypoints
format, which `pipeline.inputs.find_beside` finds), or, where that folder is not writable, in the
per-user cache ($HANDVIEWER_CACHE or ~/.cache/handviewer, `detect/<key>/`), keyed by the input's
absolute path, size and modification time (a changed video is detected again)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from handviewer.io.errors import HandIOError, MissingDependencyError


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
    """The per-user cache's keypoints for `video`, if any (those beside it are found by `find_beside`)."""
    path = cache_path_for(video)
    return path if path.is_file() else None


def save_detections(video: str | Path, detections) -> Path:
    """Write `Detections` in our keypoints format beside `video`, else in the per-user cache; the path."""
    from handviewer.io.own import save_own

    keypoints = detections.to_keypoints2d()
    try:
        target = beside_path(video)
        save_own(target, keypoints)
        return target
    except (OSError, HandIOError):  # a read-only or vanished folder
        target = cache_path_for(video, create=True)
        save_own(target, keypoints)
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
