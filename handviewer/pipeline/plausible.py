"""Plausibility checks on inputs that loaded fine: units, depth sign, distance, focal length, empty
keypoints. Each returns warnings for the user, with the numbers; none changes the data.

Thresholds are loose on purpose (an adult hand is ~180 mm long, wrist to middle fingertip; cameras
see hands from ~0.2 to a few metres): they catch wrong units and conventions, not unusual scenes.
"""

from __future__ import annotations

import numpy as np

from handviewer.hand.skeleton import visible_joints

HAND_SIZE_MM = (60.0, 400.0)  # plausible hand length (`_hand_size_mm`), mm
MAX_DEPTH_MM = 20_000.0  # 20 m
FOCAL_PER_SIDE = (0.2, 20.0)  # focal length / longer image side: ~136 to ~1.4 degrees of view


def _hand_size_mm(joints: np.ndarray) -> np.ndarray:
    """(..., 21, 3) mm -> (...,) wrist to middle-finger MCP distance x 2 (about the hand's length: the
    MCP sits near the middle of a hand), NaN where either joint is missing."""
    return 2.0 * np.linalg.norm(joints[..., 9, :] - joints[..., 0, :], axis=-1)


def prediction_warnings(predictions: np.ndarray | None) -> list[str]:
    """predictions (T, 2, 21, 3) mm, camera frame."""
    if predictions is None or not np.isfinite(predictions).any():
        return []
    out = []
    with np.errstate(all="ignore"):
        size = np.nanmedian(_hand_size_mm(predictions))
        depth = predictions[..., 0, 2]  # wrists (T, 2)
        behind = int((depth < 0).sum())
        far = int((depth > MAX_DEPTH_MM).sum())
    if np.isfinite(size) and not HAND_SIZE_MM[0] <= size <= HAND_SIZE_MM[1]:
        hint = " (metres? predictions must be in mm)" if size < 1.0 else " (predictions must be in mm)"
        out.append(f"the 3D predictions' hands are {size:.3g} mm long (median), not {HAND_SIZE_MM[0]:g}-"
                   f"{HAND_SIZE_MM[1]:g} mm{hint}")
    if behind:
        out.append(f"{behind} hand(s) of the 3D predictions are behind the camera (wrist z < 0): the camera frame "
                   "must have z forward (OpenCV)")
    if far:
        out.append(f"{far} hand(s) of the 3D predictions are more than {MAX_DEPTH_MM / 1000:g} m from the camera")
    return out


def keypoint_warnings(keypoints: np.ndarray | None) -> list[str]:
    """keypoints (T, 2, 21, 3) px + confidence."""
    if keypoints is None:
        return []
    visible = visible_joints(keypoints, confidence=True)
    if not visible.any():
        return ["the 2D keypoints show no hand in any frame (every keypoint missing or with confidence 0)"]
    return []


def camera_warnings(K: np.ndarray, size: tuple[int, int]) -> list[str]:
    """K (3, 3) px, size (width, height) px."""
    f = float(K[0, 0])
    ratio = f / max(size)
    if not FOCAL_PER_SIDE[0] <= ratio <= FOCAL_PER_SIDE[1]:
        return [f"the camera's focal length {f:.4g} px is {ratio:.3g} x the image's longer side "
                f"({max(size)} px); expected {FOCAL_PER_SIDE[0]:g}-{FOCAL_PER_SIDE[1]:g} x: check the camera file"]
    return []
