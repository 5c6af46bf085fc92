"""Per-frame hand data read from or written to files: 2D keypoints and 3D joints of both hands.

Both are frozen dataclasses holding read-only numpy copies, so they can cross threads safely.
Joint order is ours (MediaPipe 21, see `handviewer.hand.skeleton`); hands are right then left;
a missing hand or joint is NaN in every channel. Rows follow `frame_indices`, which need not
be sorted or contiguous (e.g. keypoints only for some video frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handviewer.hand.skeleton import NUM_JOINTS, hand_present


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _check_frames(frame_indices, count: int, name: str) -> np.ndarray:
    try:
        frames = np.asarray(frame_indices, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: frame_indices must be integers, got {frame_indices!r}") from e
    if frames.shape != (count,):
        raise ValueError(f"{name}: frame_indices must have shape ({count},), got {np.shape(frame_indices)}")
    if not np.all(np.isfinite(frames) & (frames == np.round(frames))):
        raise ValueError(f"{name}: frame_indices must be whole numbers, got {frames[:5]}...")
    return _frozen(frames.astype(np.int64))


def _dense(values: np.ndarray, frames: np.ndarray, frame_count: int, name: str) -> np.ndarray:
    if np.unique(frames).size != frames.size:
        raise ValueError(f"{name}: frame_indices repeat a frame, cannot index by frame")
    out = np.full((frame_count,) + values.shape[1:], np.nan, dtype=values.dtype)
    keep = (frames >= 0) & (frames < frame_count)
    out[frames[keep]] = values[keep]
    return out


@dataclass(frozen=True, eq=False)
class Keypoints2D:
    """2D keypoints of both hands over frames.

    xyc           : (T, 2, 21, 3) float32: x px, y px, confidence in [0, 1]; NaN (all three) = missing.
    frame_indices : (T,) int64, the video frame of each row.
    """

    xyc: np.ndarray
    frame_indices: np.ndarray

    def __post_init__(self):
        with np.errstate(over="ignore"):  # beyond float32: inf, then missing (below), without numpy's warning
            xyc = np.array(self.xyc, dtype=np.float32)
        if xyc.ndim != 4 or xyc.shape[1:] != (2, NUM_JOINTS, 3):
            raise ValueError(f"Keypoints2D: xyc must have shape (T, 2, {NUM_JOINTS}, 3), got {xyc.shape}")
        xyc[~np.isfinite(xyc).all(axis=-1)] = np.nan
        conf = xyc[..., 2][np.isfinite(xyc[..., 2])]
        if conf.size and (conf.min() < 0 or conf.max() > 1):
            raise ValueError(f"Keypoints2D: confidence must lie in [0, 1], got [{conf.min()}, {conf.max()}]")
        object.__setattr__(self, "xyc", _frozen(xyc))
        object.__setattr__(self, "frame_indices", _check_frames(self.frame_indices, len(xyc), "Keypoints2D"))

    @classmethod
    def missing(cls, frame_indices) -> Keypoints2D:
        """All-NaN keypoints for the given frames."""
        frames = np.asarray(frame_indices).reshape(-1)
        return cls(np.full((len(frames), 2, NUM_JOINTS, 3), np.nan, np.float32), frames)

    def __len__(self) -> int:
        return len(self.frame_indices)

    @property
    def xy(self) -> np.ndarray:
        """(T, 2, 21, 2) float32 px."""
        return self.xyc[..., :2]

    @property
    def confidence(self) -> np.ndarray:
        """(T, 2, 21) float32 in [0, 1], NaN = missing."""
        return self.xyc[..., 2]

    def present(self) -> np.ndarray:
        """(T, 2) bool: which hands are present in each row: `skeleton.hand_present`, at least
        `skeleton.MIN_VISIBLE` keypoints finite with confidence > 0."""
        return hand_present(self.xyc, confidence=True)

    def dense(self, frame_count: int) -> np.ndarray:
        """(frame_count, 2, 21, 3) float32 indexed by frame; NaN for frames without a row."""
        return _dense(self.xyc, self.frame_indices, frame_count, "Keypoints2D")


@dataclass(frozen=True, eq=False)
class Joints3D:
    """3D joints of both hands over frames, in millimetres.

    joints        : (T, 2, 21, 3) float32, mm (camera frame unless the source says otherwise); NaN = missing.
    frame_indices : (T,) int64, the video frame of each row.
    """

    joints: np.ndarray
    frame_indices: np.ndarray

    def __post_init__(self):
        with np.errstate(over="ignore"):  # beyond float32: inf, then missing (below), without numpy's warning
            joints = np.array(self.joints, dtype=np.float32)
        if joints.ndim != 4 or joints.shape[1:] != (2, NUM_JOINTS, 3):
            raise ValueError(f"Joints3D: joints must have shape (T, 2, {NUM_JOINTS}, 3), got {joints.shape}")
        joints[~np.isfinite(joints).all(axis=-1)] = np.nan
        object.__setattr__(self, "joints", _frozen(joints))
        object.__setattr__(self, "frame_indices", _check_frames(self.frame_indices, len(joints), "Joints3D"))

    def __len__(self) -> int:
        return len(self.frame_indices)

    def valid(self) -> np.ndarray:
        """(T, 2, 21) bool: finite joints."""
        return np.isfinite(self.joints[..., 0])

    def present(self) -> np.ndarray:
        """(T, 2) bool: which hands are present in each row: `skeleton.hand_present`, at least
        `skeleton.MIN_VISIBLE` finite joints."""
        return hand_present(self.joints)

    def dense(self, frame_count: int) -> np.ndarray:
        """(frame_count, 2, 21, 3) float32 mm indexed by frame; NaN for frames without a row."""
        return _dense(self.joints, self.frame_indices, frame_count, "Joints3D")
