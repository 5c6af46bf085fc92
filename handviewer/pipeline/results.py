"""Plain frozen data that crosses from the compute core (and worker threads) to the GUI.

Numpy arrays only, no torch tensors and no Qt. All 3D data are in the camera frame
(OpenCV: x right, y down, z forward), millimetres; 2D data are pixels.
Hands are ordered right then left; a missing hand or joint is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from handviewer.hand.skeleton import hand_present


@dataclass(frozen=True)
class HandsEstimate:
    """One 3D estimate of both hands in one frame.

    joints   : (2, 21, 3) float32, mm; NaN rows for a missing hand.
    vertices : (2, V, 3) float32, mm, the `refined` mesh of each hand (NaN for a missing hand), or None.
    faces    : (2, F, 3) int64, per hand (the left hand's winding is flipped so normals point out), or None.
    params   : per-hand model parameters as flat arrays (name -> (2, ...)), for export; may be empty.
    """

    joints: np.ndarray
    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def present(self) -> np.ndarray:
        """(2,) bool: which hands the estimate holds (any joint: a missing hand is all NaN)."""
        return hand_present(self.joints, min_joints=1)


@dataclass(frozen=True)
class FrameMetrics:
    """Intersection and pose metrics of one estimate. NaN where not computable (e.g. one hand missing)."""

    intersection_count: float = np.nan  # points of a 50^3 grid over the pair inside both meshes
    intersection_volume_cm3: float = np.nan  # exact volume inside both meshes (mesh boolean)
    occupancy_count: float = np.nan  # points of one hand with p > 0.5 under the other hand's occupancy
    ave_p_mm: float = np.nan  # mean penetration depth of penetrating vertices
    max_p_mm: float = np.nan
    reprojection_px: float = np.nan  # mean 2D error to the keypoints, confidence-weighted
    moved_mm: float = np.nan  # mean joint displacement from the initial estimate (0 before refinement)


@dataclass(frozen=True)
class FrameResult:
    """Everything computed for one frame.

    keypoints_2d       : (2, 21, 3) float32: x, y in pixels and confidence in [0, 1]; NaN = missing.
    before             : the initial 3D estimate (uplift or imported predictions, after IK).
    after              : the refined estimate, or None if the frame was not refined.
    intersection_points: (P, 3) float32 mm, grid points inside both hands (for highlighting), per estimate.
    intersection_probs : (P,) float32 in [0, 1], occupancy probability at those points (sizes the markers).
    camera_K           : (3, 3) float64 intrinsics used for the frame.
    """

    index: int
    keypoints_2d: np.ndarray
    before: HandsEstimate
    metrics_before: FrameMetrics
    after: HandsEstimate | None = None
    metrics_after: FrameMetrics | None = None
    intersection_points_before: np.ndarray | None = None
    intersection_probs_before: np.ndarray | None = None
    intersection_points_after: np.ndarray | None = None
    intersection_probs_after: np.ndarray | None = None
    camera_K: np.ndarray | None = None

    def is_refined(self) -> bool:
        """Whether refinement moved this frame: it has a refined estimate and both hands (refinement
        leaves frames with a missing hand as they were, `after` then equals `before`)."""
        return self.after is not None and bool(self.before.present().all())

    def estimate(self, refined: bool) -> HandsEstimate:
        """The refined estimate when asked for and available, else the initial one."""
        return self.after if (refined and self.after is not None) else self.before
