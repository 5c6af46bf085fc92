"""The 3D scene of one view: named, toggleable layers updated in place. No Qt.

`HandScene(plotter)` works on any pyvista plotter: an off-screen `pv.Plotter` (tests,
screenshots) or a pyvistaqt `QtInteractor` (the GUI). Call it on the GUI thread only.

Layers (see `style.LAYERS`) and the actors behind them (dataset keys):
    mesh          mesh_right, mesh_left
    skeleton      skeleton_right, skeleton_left
    density       density_right, density_left
    intersections intersections
An actor is created the first time its layer has data and is updated in place afterwards
(`layers.assign`); a layer with no data (a missing hand, no intersections) is hidden.
Intersection points are drawn by a second renderer on top of the first (its own depth buffer), at a
size in pixels: inside translucent meshes, depth-tested points of a few mm were nearly invisible.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv

from handviewer.render import layers, style
from handviewer.render.camera import apply_preset
from handviewer.pipeline.results import FrameResult, HandsEstimate

_SKELETON_COLORS = ("#8a3d00", "#0d3d80")


class HandScene:
    """Hand meshes, skeletons, density clouds and intersection points in one plotter."""

    def __init__(self, plotter: pv.Plotter, background: str = style.BACKGROUND, exact_translucency: bool = False) -> None:
        """exact_translucency: VTK's order-independent translucency (about 2x the render time of the
        translucent meshes with software OpenGL). Off, translucent meshes are drawn with plain
        blending and back faces culled, which is exact enough for two translucent hands."""
        self.plotter = plotter
        self.plotter.set_background(background)
        self.plotter.renderer.SetUseOIT(bool(exact_translucency))
        self.visible: dict[str, bool] = dict(style.DEFAULT_LAYERS)
        self.datasets: dict[str, pv.PolyData] = {}
        self.actors: dict[str, object] = {}
        self._has_data: dict[str, bool] = {}
        self.in_place_updates = 0  # how many updates only replaced points (for tests/benchmarks)
        self.overlay = self._make_overlay()

    # ----------------------------------------------------------------- content
    def show_estimate(self, estimate: HandsEstimate | None) -> None:
        """Meshes and skeletons of both hands (None clears them)."""
        for h, name in enumerate(style.HAND_NAMES):
            mesh = skel = None
            if estimate is not None:
                if estimate.vertices is not None and estimate.faces is not None:
                    mesh = layers.hand_mesh(estimate.vertices[h], estimate.faces[h])
                skel = layers.skeleton(estimate.joints[h])
            self._put(f"mesh_{name}", "mesh", mesh, _mesh_kwargs(h))
            self._put(f"skeleton_{name}", "skeleton", skel, _skeleton_kwargs(h))

    def show_intersections(self, points: np.ndarray | None, probs: np.ndarray | None) -> None:
        """Intersection points (P, 3) mm, red, on top of the meshes, `style.INTERSECTION_POINT_PX` px
        whatever the zoom (probs (P,) are kept on the points, not drawn)."""
        poly = layers.weighted_points(points, probs, style.INTERSECTION_SIZE_MM)
        kwargs = dict(color=style.INTERSECTION_COLOR, style="points", point_size=style.INTERSECTION_POINT_PX,
                      render_points_as_spheres=True, show_scalar_bar=False, lighting=False)
        self._put("intersections", "intersections", poly, kwargs, overlay=True)

    def show_density(self, hand: int, points: np.ndarray | None, probs: np.ndarray | None) -> None:
        """Occupancy density cloud of one hand (0 right, 1 left): points (P, 3) mm, probs (P,)."""
        poly = layers.weighted_points(points, probs, style.DENSITY_SIZE_MM)
        kwargs = dict(scalars="prob", cmap=style.HAND_CMAPS[hand], clim=(0.0, 1.0), style="points_gaussian",
                      emissive=False, render_points_as_spheres=True, show_scalar_bar=False)
        self._put(f"density_{style.HAND_NAMES[hand]}", "density", poly, kwargs, scale_array="size")

    def clear_density(self) -> None:
        for h in range(2):
            self.show_density(h, None, None)

    def show_result(self, result: FrameResult | None, refined: bool) -> HandsEstimate | None:
        """Estimate and intersection points of a frame (before or after refinement).

        Returns the estimate shown (None if `result` is None). The density layer is not
        touched: its clouds come from a separate, slower computation (`show_density`).
        """
        if result is None:
            self.show_estimate(None)
            self.show_intersections(None, None)
            return None
        use_after = refined and result.after is not None
        estimate = result.estimate(use_after)
        self.show_estimate(estimate)
        if use_after:
            self.show_intersections(result.intersection_points_after, result.intersection_probs_after)
        else:
            self.show_intersections(result.intersection_points_before, result.intersection_probs_before)
        return estimate

    # ----------------------------------------------------------------- layers and view
    def set_layer_visible(self, layer: str, visible: bool) -> None:
        if layer not in style.LAYERS:
            raise KeyError(f"unknown layer {layer!r}; expected one of {tuple(style.LAYERS)}")
        self.visible[layer] = bool(visible)
        for key in self.actors:
            if key.startswith(layer):
                self._update_visibility(key)

    def is_shown(self, key: str) -> bool:
        """Whether the actor `key` (e.g. "mesh_right") exists and is visible."""
        return key in self.actors and bool(self.actors[key].GetVisibility())

    def camera_preset(self, name: str, K: np.ndarray | None = None, image_size: tuple[int, int] | None = None) -> None:
        apply_preset(self.plotter, name, K=K, image_size=image_size)

    def fit_depth_range(self) -> None:
        """Near and far planes around what is shown now, the camera left where it is (a frame whose
        hands lie deeper than the last frame's would otherwise be clipped away: a blank view)."""
        self.plotter.renderer.ResetCameraClippingRange()

    def render(self) -> None:
        self.plotter.render()

    # ----------------------------------------------------------------- internals
    def _make_overlay(self):
        """A renderer on layer 1 of the plotter's render window, drawn after the scene with its depth
        buffer cleared, looking through the scene's camera (kept in step before each render: a view
        may be given another camera later, as side by side does)."""
        from vtkmodules.vtkRenderingCore import vtkRenderer

        main, window = self.plotter.renderer, self.plotter.render_window
        if window is None:
            return None
        overlay = vtkRenderer()
        overlay.SetLayer(1)
        overlay.InteractiveOff()
        overlay.SetViewport(*main.GetViewport())
        overlay.SetActiveCamera(main.GetActiveCamera())
        window.SetNumberOfLayers(max(2, window.GetNumberOfLayers()))
        window.AddRenderer(overlay)
        main.AddObserver("StartEvent", lambda *_: overlay.SetActiveCamera(main.GetActiveCamera()))
        return overlay

    def _put(self, key: str, layer: str, poly: pv.PolyData | None, kwargs: dict, scale_array: str | None = None,
             overlay: bool = False) -> None:
        self._has_data[key] = poly is not None
        if poly is not None:
            if key in self.datasets:
                self.in_place_updates += layers.assign(self.datasets[key], poly)
            else:
                actor = self.plotter.add_mesh(poly, name=key, reset_camera=False, copy_mesh=False, **kwargs)
                if scale_array is not None:
                    actor.mapper.scale_array = scale_array
                if overlay and self.overlay is not None:  # moved to the renderer drawn on top
                    self.plotter.renderer.RemoveActor(actor)
                    self.overlay.AddActor(actor)
                self.datasets[key], self.actors[key] = poly, actor
        if key in self.actors:
            self._update_visibility(key)

    def _update_visibility(self, key: str) -> None:
        layer = key.split("_")[0]
        self.actors[key].SetVisibility(bool(self.visible.get(layer, True) and self._has_data.get(key)))


def _mesh_kwargs(hand: int) -> dict:
    return dict(color=style.HAND_COLORS[hand], opacity=0.55, specular=0.3, smooth_shading=False,
                backface_culling=True, show_scalar_bar=False)


def _skeleton_kwargs(hand: int) -> dict:
    return dict(color=_SKELETON_COLORS[hand], line_width=style.BONE_WIDTH_PX, render_lines_as_tubes=True,
                point_size=10, render_points_as_spheres=True, show_scalar_bar=False)


def render_result_image(
    result: FrameResult | None,
    refined: bool = False,
    size: tuple[int, int] = (640, 480),
    K: np.ndarray | None = None,
    preset: str = "image",
) -> np.ndarray:
    """Render one frame's scene off screen; returns an (H, W, 3) uint8 RGB image.

    size : (width, height) px; K defaults to the result's camera_K, else the default camera
           (`handviewer.io.default_camera`, as the refinement uses).
    """
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    try:
        scene = HandScene(plotter)
        scene.show_result(result, refined)
        if K is None and result is not None:
            K = result.camera_K
        scene.camera_preset(preset, K=K, image_size=size)
        return np.asarray(plotter.screenshot(return_img=True))[..., :3].copy()
    finally:
        plotter.close()
