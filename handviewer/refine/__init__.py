"""Per-frame refinement of two-hand poses with the intersection loss (and IHMR-style safe mode)."""

from handviewer.refine.energy import EnergyWeights, project, reprojection_px
from handviewer.refine.refine import PairParams, refine

__all__ = ["EnergyWeights", "PairParams", "project", "refine", "reprojection_px"]
