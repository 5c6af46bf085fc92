"""Intersection loss (paper Eq. 1) and intersection metrics between a right and a left hand.

`handviewer.intersect.names` is plain Python; everything else loads torch, lazily, on first use.
"""

from __future__ import annotations

from handviewer._lazy import lazy_getattr

_LAZY = {
    "KERNELS": "handviewer.intersect.loss",
    "boxes_overlap": "handviewer.intersect.loss",
    "intersection_loss": "handviewer.intersect.loss",
    "GroundTruthIntersection": "handviewer.intersect.metrics",
    "count_intersections": "handviewer.intersect.metrics",
    "ground_truth": "handviewer.intersect.metrics",
    "occupancy_count": "handviewer.intersect.metrics",
    "penetration_depths": "handviewer.intersect.metrics",
    "hand_points": "handviewer.intersect.points",
    "POINT_SETS": "handviewer.intersect.names",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
