"""What a hand detector returns: `Hand` (one hand in one image) and `Detections` (a whole clip)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from handviewer.hand.skeleton import NUM_JOINTS

SIDES = ("right", "left")  # axis 1 of the two-hand arrays


@dataclass(frozen=True, eq=False)
class Hand:
    """One detected hand in one image.

    xy         : (21, 2) float32 px, our joint order, pixel-centre convention (as OpenCV).
    score      : the detector's confidence in the hand, [0, 1] (used as each keypoint's confidence).
    side       : "right" or "left": the subject's hand in the unmirrored image, as the detector says.
    side_score : the detector's probability of `side`, [0.5, 1].
    world      : (21, 3) float32 mm relative to the wrist (x right, y down as the image, z away from
                 the camera), or None when the detector gives no 3D.
    """

    xy: np.ndarray
    score: float
    side: str
    side_score: float
    world: np.ndarray | None = None

    @property
    def right_evidence(self) -> float:
        """Log-odds that this is a right hand, from the detector's label (positive: right)."""
        p = min(max(self.side_score, 1e-3), 1 - 1e-3)
        lo = float(np.log(p / (1 - p)))
        return lo if self.side == "right" else -lo

    @property
    def box(self) -> np.ndarray:
        """(4,) x0, y0, x1, y1 px of the keypoints."""
        return np.concatenate([self.xy.min(0), self.xy.max(0)])

    @property
    def size(self) -> float:
        """The hand's size in px: the diagonal of its keypoints' box."""
        x0, y0, x1, y1 = self.box
        return float(np.hypot(x1 - x0, y1 - y0))


class HandDetector(Protocol):
    """Anything that finds hands in RGB images.

    detect(image, timestamp_ms): the next frame of a video (the detector may track from earlier frames).
    detect_image(image): one independent image (no tracking state is used or changed).
    """

    name: str

    def detect(self, image: np.ndarray, timestamp_ms: int) -> list[Hand]: ...

    def detect_image(self, image: np.ndarray) -> list[Hand]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, eq=False)
class Detections:
    """Hands detected in every frame of a clip.

    keypoints   : (T, 2, 21, 3) float32 x px, y px, confidence; right then left; NaN = not found.
    world       : (T, 2, 21, 3) float32 mm, wrist-relative metric landmarks (NaN where not found or none).
    side_scores : (T, 2) float32: the detector's own probability that the hand has the side it was
                  finally given (low where positions over time overruled its label); NaN = not found.
    found_by    : (T, 2) int8: 0 not found, 1 the detector's pass over the frame, 2 a second look
                  with the other hand masked, 3 a second look in a region around the hand's last place,
                  4 the look around its place predicted from the frames before and after (`gaps`).
    stats       : what each step found (counts), for reports and benchmarks.
    """

    keypoints: np.ndarray
    world: np.ndarray
    side_scores: np.ndarray
    found_by: np.ndarray
    stats: dict = field(default_factory=dict)

    @classmethod
    def empty(cls, frame_count: int) -> Detections:
        nan = np.full((frame_count, 2, NUM_JOINTS, 3), np.nan, np.float32)
        return cls(nan, nan.copy(), np.full((frame_count, 2), np.nan, np.float32), np.zeros((frame_count, 2), np.int8))

    @property
    def present(self) -> np.ndarray:
        """(T, 2) bool: hands found."""
        return np.isfinite(self.keypoints[..., 0]).all(-1)

    def summary(self) -> dict:
        """Frames, frames with both hands, hands found per side, and the stats."""
        p = self.present
        return {"frames": int(len(p)), "frames_with_both_hands": int(p.all(1).sum()),
                "frames_with_a_hand": int(p.any(1).sum()), "right_found": int(p[:, 0].sum()),
                "left_found": int(p[:, 1].sum()), **self.stats}

    def to_keypoints2d(self):
        """Our `Keypoints2D` (every frame, 0..T-1)."""
        from handviewer.io.data import Keypoints2D

        return Keypoints2D(self.keypoints, np.arange(len(self.keypoints)))
