"""pyvista scene builders (no Qt): hand meshes, skeletons, density clouds, intersection points.

Importing this package loads pyvista (not Qt). `handviewer.render.style` alone loads neither.
"""

from handviewer.render.camera import PRESETS, apply_preset, default_intrinsics, image_camera
from handviewer.render.layers import assign, hand_mesh, skeleton, weighted_points
from handviewer.render.overlay2d import project, projected_joints, visible_bones
from handviewer.render.scene import HandScene, render_result_image
from handviewer.render.style import DEFAULT_LAYERS, HAND_COLORS, LAYERS

__all__ = [
    "DEFAULT_LAYERS", "HAND_COLORS", "LAYERS", "PRESETS", "HandScene", "apply_preset", "assign",
    "default_intrinsics", "hand_mesh", "image_camera", "project", "projected_joints", "render_result_image",
    "skeleton", "visible_bones", "weighted_points",
]
