"""The contract between the GUI (or any front end) and the compute core of one opened video.

The GUI holds no maths: it asks a `FrameComputer` for results and shows them. Everything returned
is plain frozen numpy data (`handviewer.pipeline.results`), safe to hand from a worker thread to the
GUI thread. `handviewer.pipeline.video.VideoPipeline` implements it. Nothing here imports Qt or torch.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

import numpy as np

from handviewer.pipeline.overview import FrameOverview
from handviewer.pipeline.results import FrameResult, HandsEstimate
from handviewer.pipeline.settings import RefineSettings

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

    def first_pass(self, indices: list[int]) -> Generator[Progress, None, dict[int, FrameOverview]]:
        """The initial estimate's intersection measure (and detection confidence) of many frames, batched
        and cheap enough for a whole video; returns index -> `FrameOverview`."""

    def needs_keypoints(self) -> bool:
        """Whether no frame has 2D keypoints or 3D predictions (the app then offers to detect hands)."""

    def detect_all(self) -> Generator[Progress, None, str]:
        """Detect both hands in every frame and use them (every frame's results become stale); returns a note."""

    def detect_frame(self, index: int, image: np.ndarray) -> np.ndarray:
        """Both hands' 2D keypoints (2, 21, 3) in frame `index`'s RGB image (H, W, 3) uint8; NaN where none
        was found. Changes nothing: the front end applies them as the user's (undoable) edit."""

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

    def export_context(self) -> dict:
        """What an export records beside the results: {"camera": handviewer.io.Camera used,
        "sources": input name -> file, "from_predictions": frame -> bool}."""
