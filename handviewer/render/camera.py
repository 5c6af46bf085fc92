"""Camera presets for a pyvista plotter showing data in the OpenCV camera frame (mm).

No Qt. The OpenCV frame has x right, y down, z forward, so "up" on screen is -y.
"""

from __future__ import annotations

import math

import numpy as np

from handviewer.io.camera import default_camera

PRESETS = ("image", "front", "top", "side", "reset")


def default_intrinsics(image_size: tuple[int, int]) -> np.ndarray:
    """(3, 3) K px of `handviewer.io.default_camera` for an image of (width, height) px: the one
    default camera, shared with the refinement and the exports."""
    return default_camera(*image_size).K


def image_camera(plotter, K: np.ndarray, image_size: tuple[int, int], distance_mm: float = 500.0) -> None:
    """Look through the video camera: at the origin, along +z, y down, field of view from K.

    K          : (3, 3) intrinsics (px).
    image_size : (width, height) px of the frames K belongs to. The match is exact when the
                 view has the image's aspect ratio; otherwise the whole image stays in view.
    """
    w, h = image_size
    fx, fy, cx, cy = float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2])
    cam = plotter.camera
    cam.position = (0.0, 0.0, 0.0)
    cam.focal_point = (0.0, 0.0, distance_mm)
    cam.up = (0.0, -1.0, 0.0)
    # Keep the whole image in view: match the field of view along the view's tighter side.
    view_w, view_h = plotter.window_size
    horizontal = view_w * h < view_h * w  # the view is narrower than the image
    cam.SetUseHorizontalViewAngle(horizontal)
    cam.view_angle = math.degrees(2.0 * (math.atan2(w / 2.0, fx) if horizontal else math.atan2(h / 2.0, fy)))
    # Off-centre principal point: shift the projection centre (normalised viewport units). Pixel
    # centres are integers (io.camera), so the image spans -0.5 .. w - 0.5 and its centre is (w - 1) / 2.
    cam.SetWindowCenter(-(2.0 * (cx + 0.5) / w - 1.0), 2.0 * (cy + 0.5) / h - 1.0)
    plotter.renderer.ResetCameraClippingRange()


def look_at_bounds(plotter, direction: tuple[float, float, float], up: tuple[float, float, float]) -> None:
    """Look along `direction` at the centre of what is shown, fitted to its bounds."""
    cam = plotter.camera
    cam.SetWindowCenter(0.0, 0.0)
    cam.SetUseHorizontalViewAngle(False)
    bounds = np.asarray(plotter.renderer.ComputeVisiblePropBounds(), dtype=float)
    if not np.isfinite(bounds).all() or bounds[1] < bounds[0]:
        bounds = np.array([-100.0, 100.0, -100.0, 100.0, 300.0, 500.0])
    centre = bounds.reshape(3, 2).mean(axis=1)
    d = np.asarray(direction, dtype=float)
    cam.focal_point = tuple(centre)
    cam.position = tuple(centre - d / np.linalg.norm(d) * 500.0)
    cam.up = up
    plotter.renderer.ResetCamera(*bounds)


def apply_preset(plotter, name: str, K: np.ndarray | None = None, image_size: tuple[int, int] | None = None) -> None:
    """Apply a named preset: "image" (needs image_size; K defaults from it), "front" (along +z),
    "top" (from above, i.e. along +y), "side" (along -x, from the right) or "reset" (keep the
    direction, fit what is shown)."""
    if name == "image":
        if image_size is None:
            name = "front"
        else:
            image_camera(plotter, default_intrinsics(image_size) if K is None else K, image_size)
            return
    if name == "front":
        look_at_bounds(plotter, (0.0, 0.0, 1.0), (0.0, -1.0, 0.0))
    elif name == "top":
        look_at_bounds(plotter, (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    elif name == "side":
        look_at_bounds(plotter, (-1.0, 0.0, 0.0), (0.0, -1.0, 0.0))
    elif name == "reset":
        plotter.camera.SetWindowCenter(0.0, 0.0)
        plotter.reset_camera()
    else:
        raise ValueError(f"unknown camera preset {name!r}; expected one of {PRESETS}")
