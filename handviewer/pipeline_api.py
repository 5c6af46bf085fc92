"""The contract between the GUI (or any front end) and the compute core.

The GUI holds no maths: it asks a `FrameComputer` for results and shows them.
Everything returned is plain frozen numpy data (`handviewer.results`), safe to hand
from a worker thread to the GUI thread. Nothing here imports Qt or torch.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from handviewer.results import FrameResult, HandsEstimate

LOSS_POINT_SETS = ("sparse", "dense", "mesh")
# Where the batched work runs: "auto" is CUDA when torch sees a device, else the CPU.
DEVICE_NAMES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class RefineSettings:
    """User-facing refinement settings (the GUI's settings panel edits these).

    point_set : which points of one hand are tested against the other hand's occupancy. The default
                is "mesh" (the plain-mesh vertices), not the paper's "dense": dense points lie on the
                skeleton, so on deep overlaps (one palm through the other) they leave the other hand
                while the flesh still overlaps; on the sample clip dense resolved 20 % of the
                intersecting frames, mesh 94 % (benchmarks/README.md).
    both_hands: test left-in-right and right-in-left (alpha = 1 in Eq. 1) or only left-in-right.
    weight    : weight of the intersection loss against the data terms.
    steps     : optimisation steps per frame.
    device    : "auto" (CUDA where present, for batches large enough to gain from it: see
                `Pipeline.device_for`), "cpu" or "cuda" (in the app, "cuda" falls back to the CPU with a
                warning where torch sees no CUDA device; `handviewer process` stops with an error).
    safe_mode : IHMR-style: keep a step only if both intersection and joint error drop.
    """

    point_set: str = "mesh"
    both_hands: bool = True
    weight: float = 1.0
    steps: int = 40
    device: str = "auto"
    safe_mode: bool = False

    def __post_init__(self) -> None:
        if self.point_set not in LOSS_POINT_SETS:
            raise ValueError(f"point_set must be one of {LOSS_POINT_SETS}, got {self.point_set!r}")
        if self.device not in DEVICE_NAMES:
            raise ValueError(f"device must be one of {DEVICE_NAMES}, got {self.device!r}")
        if self.steps < 0:
            raise ValueError("steps must be >= 0")
        if self.weight < 0:
            raise ValueError("weight must be >= 0")


# Progress reports from long work: (fraction done in [0, 1], short message).
Progress = tuple[float, str]


class FrameComputer(Protocol):
    """What a front end needs from the compute core for one opened video.

    All methods may be slow (model loading, optimisation) and are called from worker
    threads; they must not touch any GUI object. Generators yield `Progress` and
    return their result (``StopIteration.value``); the caller cancels by closing the
    generator, which must leave no partial state behind.
    """

    frame_count: int

    def keypoints(self, index: int) -> np.ndarray:
        """(2, 21, 3) float32: x, y px, confidence; NaN for missing. The current (possibly edited) 2D keypoints."""

    def set_keypoints(self, index: int, keypoints: np.ndarray) -> None:
        """Replace the 2D keypoints of a frame (a user's correction). Invalidates that frame's results."""

    def warm_up(self) -> Generator[Progress, None, list[str] | None]:
        """Load models (uplift, occupancy). Called once, in a worker, after the window is shown.
        Returns warnings about the inputs for the user (e.g. predictions that cover part of the video)."""

    def compute_initial(self, index: int) -> FrameResult:
        """Uplift + IK + metrics for one frame, without refinement (``after`` is None)."""

    def refine(self, index: int, settings: RefineSettings) -> Generator[Progress, None, FrameResult]:
        """Refine one frame with the intersection loss; returns the result with ``after`` set."""

    def refine_many(
        self, indices: list[int], settings: RefineSettings
    ) -> Generator[Progress, None, dict[int, FrameResult]]:
        """Refine several frames (batched on the device); returns index -> result."""

    def density_cloud(
        self, estimate: HandsEstimate, hand: int, resolution: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        """Occupancy of one hand (0 right, 1 left) on a grid around it: points (P, 3) mm, probs (P,) in [0, 1],
        only points with p > 0.05 returned."""
