"""File input and output: videos, cameras, 2D keypoints, 3D predictions, exports.

Pure numpy (plus OpenCV, trimesh and the optional mediapipe, each imported only when used),
no Qt, no torch. Conventions: millimetres, camera frame OpenCV (x right, y down, z forward),
pixels for 2D; our joint order (MediaPipe 21) with hands right then left; NaN = missing.
Other joint orders (InterHand2.6M) are converted on import and export only.
"""

from handviewer.io.camera import Camera, backproject, default_camera, load_camera, project, save_camera
from handviewer.io.data import Joints3D, Keypoints2D
from handviewer.io.errors import FileFormatError, FrameSourceError, HandIOError, MissingDependencyError
from handviewer.io.export import (
    export_interhand_json,
    export_mesh,
    export_metadata,
    export_metrics_csv,
    export_npz,
    load_metrics_csv,
)
from handviewer.io.keypoints import (InterHandSamples, load_interhand, load_keypoints_any, load_openpose,
                                     sniff_keypoint_format)
from handviewer.io.mediapipe_hands import iter_mediapipe, load_mediapipe, resolve_mediapipe_model
from handviewer.io.own import HandSequence, load_own, save_own
from handviewer.io.predictions import detect_joint_order, load_predictions
from handviewer.io.video import FrameSource, open_frames

__all__ = [
    "Camera", "backproject", "default_camera", "load_camera", "project", "save_camera",
    "Joints3D", "Keypoints2D",
    "FileFormatError", "FrameSourceError", "HandIOError", "MissingDependencyError",
    "export_interhand_json", "export_mesh", "export_metadata", "export_metrics_csv", "export_npz",
    "load_metrics_csv",
    "InterHandSamples", "load_interhand", "load_keypoints_any", "load_openpose", "sniff_keypoint_format",
    "iter_mediapipe", "load_mediapipe", "resolve_mediapipe_model",
    "HandSequence", "load_own", "save_own",
    "detect_joint_order", "load_predictions",
    "FrameSource", "open_frames",
]
