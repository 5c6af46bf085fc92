"""MediaPipe detectors behind `HandDetector`.

`MediaPipeHands`: MediaPipe's legacy Hands graph (`mediapipe.solutions.hands`), whose palm-detection
and landmark models ship inside the `mediapipe` wheel: runs offline, nothing to download.
`MediaPipeTasks`: the newer Hand Landmarker with a user's `hand_landmarker.task` (see
`handviewer.io.mediapipe_hands.resolve_mediapipe_model`).

Handedness. MediaPipe Hands labels a hand assuming the image is mirrored (a selfie camera). Checked
on the labelled InterHand2.6M and Panoptic images of `eval_2hand_2d` (unmirrored): the hand it calls
"Left" is the subject's right hand and vice versa (`benchmarks/bench_detect.py` counts it). We store
the subject's side in the unmirrored image: `Hand.side` is MediaPipe's label swapped (`mirrored=True`,
the default for `MediaPipeHands`). The Hand Landmarker's convention changed between MediaPipe releases;
`MediaPipeTasks` keeps `handviewer.io.load_mediapipe`'s reading (the label is the subject's side),
and `mirrored=True` swaps it. Either way `iter_detect` decides the sides from positions over time,
with the labels as evidence only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np

from handviewer.detect.types import Hand
from handviewer.io.errors import MissingDependencyError

MEDIAPIPE_VERSION = "0.10.14"
# mediapipe's declared dependencies add jax (~1 GB) and opencv-contrib-python (a second cv2 with Qt
# plugins that clash with PySide6); the Hands graph needs neither: the project installs it without them.
INSTALL_COMMAND = (f'pip install --no-deps mediapipe=={MEDIAPIPE_VERSION} && '
                   f'pip install absl-py attrs flatbuffers "protobuf<5" matplotlib')


def import_mediapipe():
    """The mediapipe module, or MissingDependencyError saying how to install it."""
    if importlib.util.find_spec("mediapipe") is None:
        raise MissingDependencyError(
            f"MediaPipe is not installed; it is needed to detect hands (`make venv` installs it). "
            f"Install it with: {INSTALL_COMMAND}")
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ log lines on every graph start
    # protobuf 4 warns on every frame that MediaPipe's result conversion uses a deprecated call.
    warnings.filterwarnings("ignore", message=".*GetPrototype.*", category=UserWarning)
    try:
        return importlib.import_module("mediapipe")
    except ImportError as e:
        raise MissingDependencyError(f"MediaPipe is installed but cannot be imported ({e}). "
                                     f"Reinstall it with: {INSTALL_COMMAND}") from e


def _side(label: str, mirrored: bool) -> str:
    right = label.lower() == "right"
    return "right" if right != mirrored else "left"


def _hands(landmark_lists, world_lists, handedness_lists, width: int, height: int, mirrored: bool) -> list[Hand]:
    """Hands from MediaPipe's per-hand lists (landmarks with normalised x, y; world landmarks in m;
    handedness categories with `.label`/`.category_name` and `.score`)."""
    out = []
    world_lists = world_lists if world_lists is not None else [None] * len(landmark_lists)
    for landmarks, world, categories in zip(landmark_lists, world_lists, handedness_lists):
        best = max(categories, key=lambda c: c.score)
        label = getattr(best, "category_name", None) or getattr(best, "label", "")
        xy = np.array([[p.x * width - 0.5, p.y * height - 0.5] for p in landmarks], np.float32)
        if xy.shape != (21, 2) or not np.isfinite(xy).all():
            continue
        w3 = None
        if world is not None:
            w3 = np.array([[p.x, p.y, p.z] for p in world], np.float32) * 1000.0  # m -> mm
            w3 = w3 - w3[0]  # wrist-relative
        score = float(min(max(best.score, 0.0), 1.0))
        out.append(Hand(xy, score, _side(label, mirrored), max(score, 0.5), w3))
    return out


class MediaPipeHands:
    """MediaPipe Hands (legacy graph, models inside the wheel). One tracking graph for `detect`, one
    static graph for `detect_image`.

    complexity : 1 = the full landmark model (shipped), 0 = lite.
    """

    name = f"mediapipe-hands-{MEDIAPIPE_VERSION}"

    def __init__(self, min_confidence: float = 0.5, complexity: int = 1, mirrored: bool = True, max_hands: int = 2) -> None:
        mp = import_mediapipe()
        self.mirrored = mirrored
        make = mp.solutions.hands.Hands
        kw = {"max_num_hands": max_hands, "model_complexity": complexity,
              "min_detection_confidence": min_confidence, "min_tracking_confidence": min_confidence}
        self._video = make(static_image_mode=False, **kw)
        self._image = make(static_image_mode=True, **kw)

    def _run(self, graph, image: np.ndarray) -> list[Hand]:
        image = np.ascontiguousarray(image, dtype=np.uint8)
        h, w = image.shape[:2]
        r = graph.process(image)
        if not r.multi_hand_landmarks:
            return []
        return _hands([lm.landmark for lm in r.multi_hand_landmarks],
                      [lm.landmark for lm in r.multi_hand_world_landmarks] if r.multi_hand_world_landmarks else None,
                      [c.classification for c in r.multi_handedness], w, h, self.mirrored)

    def detect(self, image: np.ndarray, timestamp_ms: int) -> list[Hand]:
        return self._run(self._video, image)

    def detect_image(self, image: np.ndarray) -> list[Hand]:
        return self._run(self._image, image)

    def close(self) -> None:
        for graph in (self._video, self._image):
            graph.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class MediaPipeTasks:
    """MediaPipe Hand Landmarker (tasks API) with a `hand_landmarker.task` file: the argument, else
    HANDVIEWER_MEDIAPIPE_MODEL, else the config file (`resolve_mediapipe_model`)."""

    def __init__(self, model_path: str | Path | None = None, min_confidence: float = 0.5, mirrored: bool = False,
                 max_hands: int = 2) -> None:
        from handviewer.io.mediapipe_hands import resolve_mediapipe_model

        model = resolve_mediapipe_model(model_path)
        mp = import_mediapipe()
        self.name, self.mirrored, self._mp = f"mediapipe-tasks:{model.name}", mirrored, mp
        vision = mp.tasks.vision

        def make(mode):
            return vision.HandLandmarker.create_from_options(vision.HandLandmarkerOptions(
                base_options=mp.tasks.BaseOptions(model_asset_path=str(model)), running_mode=mode, num_hands=max_hands,
                min_hand_detection_confidence=min_confidence, min_hand_presence_confidence=min_confidence,
                min_tracking_confidence=min_confidence))

        self._video, self._image = make(vision.RunningMode.VIDEO), make(vision.RunningMode.IMAGE)

    def _hands(self, result, image) -> list[Hand]:
        h, w = image.shape[:2]
        return _hands(result.hand_landmarks, result.hand_world_landmarks or None, result.handedness, w, h, self.mirrored)

    def _image_of(self, image):
        return self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(image, dtype=np.uint8))

    def detect(self, image: np.ndarray, timestamp_ms: int) -> list[Hand]:
        return self._hands(self._video.detect_for_video(self._image_of(image), int(timestamp_ms)), image)

    def detect_image(self, image: np.ndarray) -> list[Hand]:
        return self._hands(self._image.detect(self._image_of(image)), image)

    def close(self) -> None:
        self._video.close()
        self._image.close()


def make_detector(model_path: str | Path | None = None, min_confidence: float = 0.5):
    """The built-in MediaPipe Hands, or the Hand Landmarker when `model_path` (a .task file) is given."""
    if model_path is not None:
        return MediaPipeTasks(model_path, min_confidence)
    return MediaPipeHands(min_confidence)
