"""2D hand keypoints from a video with Google MediaPipe Hand Landmarker (optional dependency).

`mediapipe` is imported only when keypoints are requested, and the model file
`hand_landmarker.task` is never downloaded: the user points to it with, in this order,
  1. the `model_path` argument,
  2. the environment variable HANDVIEWER_MEDIAPIPE_MODEL,
  3. the key "mediapipe_model" in ~/.config/handviewer/config.json
     ($XDG_CONFIG_HOME/handviewer/config.json when XDG_CONFIG_HOME is set).
Missing either raises `MissingDependencyError`, whose message says how to get it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Generator
from pathlib import Path

import numpy as np

from handviewer.hand.skeleton import NUM_JOINTS
from handviewer.io._files import read_json
from handviewer.io.data import Keypoints2D
from handviewer.io.errors import FileFormatError, MissingDependencyError
from handviewer.io.video import FrameSource, open_frames

ENV_VAR = "HANDVIEWER_MEDIAPIPE_MODEL"
CONFIG_KEY = "mediapipe_model"
MODEL_PAGE = "https://ai.google.dev/edge/mediapipe/solutions/vision/hand_landmarker#models"
INSTALL = "pip install handviewer[mediapipe]"


def config_path() -> Path:
    """The user configuration file: $XDG_CONFIG_HOME/handviewer/config.json, else ~/.config/handviewer/config.json."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "handviewer" / "config.json"


def _how_to_point() -> str:
    return (f"Download 'hand_landmarker.task' from the Google MediaPipe Hand Landmarker model page "
            f"({MODEL_PAGE}), then pass its path as model_path, or set the environment variable "
            f"{ENV_VAR}=/path/to/hand_landmarker.task, or add "
            f'{{"{CONFIG_KEY}": "/path/to/hand_landmarker.task"}} to {config_path()}.')


def resolve_mediapipe_model(model_path: str | Path | None = None) -> Path:
    """The MediaPipe model file to use (argument, then environment, then config file).

    Raises MissingDependencyError when none is configured or the configured file does not exist.
    """
    if model_path is not None:
        path, origin = Path(model_path), "model_path argument"
    elif os.environ.get(ENV_VAR):
        path, origin = Path(os.environ[ENV_VAR]), f"environment variable {ENV_VAR}"
    else:
        path, origin = _model_from_config()
    if path is None:
        raise MissingDependencyError(f"No MediaPipe hand model configured. {_how_to_point()}")
    path = path.expanduser()
    if not path.is_file():
        raise MissingDependencyError(f"MediaPipe hand model not found: {path} (from the {origin}). {_how_to_point()}")
    return path


def _model_from_config() -> tuple[Path | None, str]:
    config = config_path()
    if not config.is_file():
        return None, ""
    data = read_json(config)
    if not isinstance(data, dict):
        raise FileFormatError(config, "config file must hold a JSON object")
    value = data.get(CONFIG_KEY)
    if value is not None and not isinstance(value, str):
        raise FileFormatError(config, f"'{CONFIG_KEY}' must be a path string, got {value!r}")
    return (Path(value) if value else None), f"config file {config}"


def _import_mediapipe(model_problem: str | None = None):
    """The mediapipe module; MissingDependencyError (with the model's status) when not installed."""
    if importlib.util.find_spec("mediapipe") is None:
        raise MissingDependencyError(
            f"MediaPipe is not installed; it is needed to detect 2D hand keypoints. Install it with "
            f"`{INSTALL}` (or `pip install mediapipe`). {model_problem or _how_to_point()}")
    try:
        return importlib.import_module("mediapipe")
    except ImportError as e:
        raise MissingDependencyError(f"MediaPipe is installed but cannot be imported ({e}). "
                                     f"Reinstall it with `{INSTALL}`.") from e


def load_mediapipe(video: str | Path | FrameSource, model_path: str | Path | None = None, *,
                   min_confidence: float = 0.5, swap_handedness: bool = False) -> Keypoints2D:
    """2D keypoints of both hands in every frame of `video`, detected with MediaPipe Hand Landmarker.

    Blocks until done; `iter_mediapipe` is the same as a generator that reports progress.
    Returns Keypoints2D with one row per frame (frame_indices 0..N-1).
    """
    gen = iter_mediapipe(video, model_path, min_confidence=min_confidence, swap_handedness=swap_handedness)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def iter_mediapipe(video: str | Path | FrameSource, model_path: str | Path | None = None, *,
                   min_confidence: float = 0.5, swap_handedness: bool = False
                   ) -> Generator[tuple[int, int], None, Keypoints2D]:
    """Generator form of `load_mediapipe`: yields (frames done, frame count), returns Keypoints2D.

    min_confidence  : MediaPipe's detection, presence and tracking thresholds.
    swap_handedness : MediaPipe reports the subject's left/right; set True for mirrored (selfie) video.
    Keypoints: x, y in pixels (pixel-centre convention, as OpenCV), confidence = MediaPipe's
    handedness score of that hand. When both hands get the same label, the more confident
    one keeps it and the other takes the other slot.
    """
    try:
        model = resolve_mediapipe_model(model_path)
    except MissingDependencyError as e:  # report a missing package first, with the model problem
        _import_mediapipe(model_problem=str(e))
        raise
    mp = _import_mediapipe()
    source = video if isinstance(video, FrameSource) else open_frames(video)
    try:
        vision = mp.tasks.vision
        options = vision.HandLandmarkerOptions(
            base_options=mp.tasks.BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO, num_hands=2,
            min_hand_detection_confidence=min_confidence, min_hand_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence)
        n, (w, h) = source.frame_count, source.size
        xyc = np.full((n, 2, NUM_JOINTS, 3), np.nan, dtype=np.float32)
        with vision.HandLandmarker.create_from_options(options) as landmarker:
            for i in range(n):
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(source.read(i)))
                result = landmarker.detect_for_video(image, int(round(i * 1000.0 / source.fps)))
                xyc[i] = hands_from_result(result, w, h, swap_handedness)
                yield i + 1, n
    finally:
        if source is not video:
            source.close()
    return Keypoints2D(xyc, np.arange(n))


def hands_from_result(result, width: int, height: int, swap_handedness: bool = False) -> np.ndarray:
    """(2, 21, 3) float32 keypoints (right, left) from one HandLandmarkerResult.

    result : has `hand_landmarks` (per hand, 21 landmarks with normalised x, y in [0, 1]) and
             `handedness` (per hand, categories with category_name "Left"/"Right" and score).
    """
    out = np.full((2, NUM_JOINTS, 3), np.nan, dtype=np.float32)
    hands = []
    for landmarks, categories in zip(result.hand_landmarks, result.handedness):
        best = max(categories, key=lambda c: c.score)
        is_right = (best.category_name.lower() == "right") != swap_handedness
        xy = np.array([[lm.x * width - 0.5, lm.y * height - 0.5] for lm in landmarks], dtype=np.float32)
        hands.append((float(best.score), 0 if is_right else 1, xy))
    taken: set[int] = set()
    for score, slot, xy in sorted(hands, key=lambda t: -t[0]):
        if slot in taken:
            slot = 1 - slot
        if slot in taken or xy.shape != (NUM_JOINTS, 2):
            continue
        taken.add(slot)
        out[slot, :, :2] = xy
        out[slot, :, 2] = min(max(score, 0.0), 1.0)
    return out
