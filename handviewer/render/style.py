"""Colours, layer names and sizes shared by the 3D scene and the GUI's 2D overlay.

Plain Python: importing this module loads neither pyvista nor Qt.
"""

from __future__ import annotations

# Hands are ordered right then left everywhere (handviewer.pipeline.results).
HAND_NAMES = ("right", "left")
HAND_COLORS = ("#ff8c1a", "#2f80ed")  # right: warm orange, left: blue
HAND_COLORS_RGB = ((255, 140, 26), (47, 128, 237))
HAND_CMAPS = ("Oranges", "Blues")  # density clouds, by probability
INTERSECTION_COLOR = "#e0142b"
BACKGROUND = "#1e2227"
GHOST_OPACITY = 0.25

# Toggleable layers: name -> label shown in the GUI. Each layer holds one actor per hand
# (meshes, skeletons, density) or one actor (intersection points).
LAYERS = {
    "mesh": "Meshes",
    "skeleton": "Skeletons",
    "density": "Occupancy density",
    "intersections": "Intersections",
}
DEFAULT_LAYERS = {"mesh": True, "skeleton": True, "density": False, "intersections": True}

# Marker sizes, in mm (world units): radius of a splat at probability 0 and 1.
INTERSECTION_SIZE_MM = (2.0, 5.0)
INTERSECTION_POINT_PX = 6  # intersection points on screen (drawn on top of the meshes), px
DENSITY_SIZE_MM = (0.5, 2.5)
JOINT_RADIUS_MM = 3.0
BONE_WIDTH_PX = 4
