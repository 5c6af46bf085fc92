"""Intersection loss (paper Eq. 1) and intersection metrics between a right and a left hand.

`handviewer.intersect.names` is plain Python; everything else loads torch, lazily, on first use.
"""

from __future__ import annotations

import importlib

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


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'handviewer.intersect' has no attribute {name!r}")
