"""Per-frame refinement of two-hand poses with the intersection loss (and IHMR-style safe mode)."""

from handviewer.refine.energy import EnergyWeights, project, reprojection_px
from handviewer.refine.refine import refine

__all__ = ["EnergyWeights", "project", "refine", "reprojection_px"]
