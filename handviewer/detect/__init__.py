"""2D hand detection behind one interface (DESIGN.md: `detect/` feeds `pipeline`).

A detector (`HandDetector`) turns one RGB image into a list of `Hand`s: 21 keypoints in pixels, a
per-hand confidence, the side the detector believes (the subject's right or left hand in the
unmirrored image) with its probability, and metric 3D landmarks relative to the wrist (mm).
`iter_detect` runs one over a whole video or image folder: it tracks the hands frame to frame,
assigns right/left from positions over time (`track.assign_sides`), looks again for the second
hand when only one is found (the found hand masked; a region around the missing hand's last place)
and returns `Detections`, (T, 2, 21, 3) keypoints, right then left, NaN where missing.

Built in: MediaPipe Hands (the legacy graph with its models inside the `mediapipe` wheel, offline;
`MediaPipeHands`); MediaPipe Hand Landmarker with a user's `.task` file (`MediaPipeTasks`).
`mediapipe` is imported only when a detector is made (`MissingDependencyError` says how to install it).

Importing this package loads neither mediapipe, torch nor OpenCV.
"""

from handviewer._lazy import lazy_getattr

__getattr__ = lazy_getattr(__name__, {
    "Hand": "handviewer.detect.types",
    "Detections": "handviewer.detect.types",
    "HandDetector": "handviewer.detect.types",
    "MediaPipeHands": "handviewer.detect.mediapipe_backend",
    "MediaPipeTasks": "handviewer.detect.mediapipe_backend",
    "make_detector": "handviewer.detect.mediapipe_backend",
    "assign_sides": "handviewer.detect.track",
    "iter_detect": "handviewer.detect.video",
    "detect_video": "handviewer.detect.video",
    "DetectOptions": "handviewer.detect.video",
    "cached_or_detect": "handviewer.detect.cache",
    "cache_path_for": "handviewer.detect.cache",
    "find_cached": "handviewer.detect.cache",
})
