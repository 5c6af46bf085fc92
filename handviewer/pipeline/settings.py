"""Refinement settings: the one type that the app's settings panel, `process` and the refinement share.

Nothing here imports Qt or torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from handviewer.intersect.names import POINT_SETS
from handviewer.intersect.resolved import CONTACT_DEPTH_MM

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
    contact_mm: soft contact: how deep (mm) one hand may press into the other before refinement
                pushes them apart (the "mesh" point set tests each vertex this far inside its own
                surface). Real hands in firm contact compress each other's flesh; 0 demands a gap-free
                but overlap-free pair. Default: `intersect.resolved.CONTACT_DEPTH_MM`, the same
                tolerance the metrics use to call a pair resolved.
    """

    point_set: str = "mesh"
    both_hands: bool = True
    weight: float = 1.0
    steps: int = 40
    device: str = "auto"
    safe_mode: bool = False
    contact_mm: float = CONTACT_DEPTH_MM

    def __post_init__(self) -> None:
        if self.point_set not in POINT_SETS:
            raise ValueError(f"point_set must be one of {POINT_SETS}, got {self.point_set!r}")
        if self.device not in DEVICE_NAMES:
            raise ValueError(f"device must be one of {DEVICE_NAMES}, got {self.device!r}")
        if self.steps < 0:
            raise ValueError("steps must be >= 0")
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise ValueError(f"weight must be a finite number >= 0, got {self.weight}")
        if not (math.isfinite(self.contact_mm) and 0 <= self.contact_mm <= 10):
            raise ValueError(f"contact_mm must be a depth between 0 and 10 mm, got {self.contact_mm}")
