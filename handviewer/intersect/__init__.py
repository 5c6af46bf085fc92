"""Intersection loss (paper Eq. 1) and intersection metrics between a right and a left hand."""

from handviewer.intersect.loss import KERNELS, boxes_overlap, intersection_loss
from handviewer.intersect.metrics import (
    GroundTruthIntersection,
    count_intersections,
    ground_truth,
    occupancy_count,
    penetration_depths,
)
from handviewer.intersect.points import POINT_SETS, hand_points

__all__ = [
    "KERNELS", "POINT_SETS", "GroundTruthIntersection", "boxes_overlap", "count_intersections", "ground_truth",
    "hand_points", "intersection_loss", "occupancy_count", "penetration_depths",
]
