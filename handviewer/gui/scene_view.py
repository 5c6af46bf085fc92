"""`SceneView`: the 3D views (pyvistaqt) with layer toggles and camera presets.

One view shows the estimate selected by the before/after toggle. Side-by-side mode adds a
second view: left "before", right "after", sharing one camera (rotate or zoom one, both follow).
The camera follows the last preset (refit on resize, on frame change, on entering side by side)
until the user moves it or checks "Keep".
Actors are updated in place on the GUI thread (`handviewer.render.HandScene`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from handviewer.gui.session_model import SessionModel
from handviewer.render import HandScene
from handviewer.render.camera import PRESETS
from handviewer.render.style import DEFAULT_LAYERS, LAYERS


class Interactor(QtInteractor):
    """A QtInteractor that leaves keys and drops to the window (no pyvista 'q' to close, no
    mesh loading on drop), renders only when asked (no 5 Hz timer) and without multisampling
    (pyvista's default 8x MSAA costs several times the render time with software OpenGL).

    Always on screen: left to pyvista's global `OFF_SCREEN` (set by scripts and test suites that
    render images), a QtInteractor renders into whichever GL context happens to be current, and its
    views and screenshots come out black or garbled."""

    def __init__(self, parent=None, multi_samples: int = 0) -> None:
        super().__init__(parent, auto_update=False, multi_samples=multi_samples, off_screen=False)
        self.setAcceptDrops(False)

    def close(self):
        result = super().close()
        # pyvistaqt keeps the GL context's surface after finalizing the view. A QSurface is not a
        # QObject, so PySide cannot tell when Qt deletes it, and the stale wrapper stays in PySide's
        # address map: a Qt object later allocated at that address then comes back to Python as this
        # QSurface (seen in the test suite: a new window's Help menu, "QSurface has no addAction").
        for name in ("_surface", "_ctx", "_gl"):
            if hasattr(self, name):
                setattr(self, name, None)
        return result

    def keyPressEvent(self, event) -> None:  # noqa: N802
        event.ignore()

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        event.ignore()


class SceneView(QWidget):
    def __init__(self, model: SessionModel, controller=None, image_size: tuple[int, int] | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.model, self.controller, self.image_size = model, controller, image_size
        self.interactors: list[Interactor] = []
        self.scenes: list[HandScene] = []
        self.titles: list[QLabel] = []
        self.checkboxes: dict[str, QCheckBox] = {}
        self.preset_buttons: dict[str, QToolButton] = {}
        self._camera_set = False
        self._preset: str | None = None  # last preset applied, until the user moves the camera
        self._fitted_K: bytes | None = None  # the intrinsics the last preset was fitted with
        self._side_by_side = False
        self._shown: list = []
        self._closed = False  # render windows finalized: late timers and signals must not draw
        self._fit_timer = QTimer(self)  # a resize comes in many steps: refit once they stop
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(80)
        self._fit_timer.timeout.connect(self.refit)
        self._build()
        model.frame_changed.connect(self.refresh)
        model.results_changed.connect(self._on_results_changed)
        model.view_changed.connect(self._on_view_changed)
        model.reset.connect(self._on_view_changed)
        if controller is not None:
            controller.density_ready.connect(self._on_density_ready)
        self._on_view_changed()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        views = QHBoxLayout()
        layout.addLayout(views, 1)
        self.holders: list[QWidget] = []
        for k in range(2):
            # Create each interactor inside its final parent: VTK renders into the native window
            # the widget had when created, and re-parenting it later can leave that window blank.
            holder = QWidget(self)
            views.addWidget(holder, 1)
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            title = QLabel(holder)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            interactor = Interactor(holder)
            interactor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            column.addWidget(title)
            column.addWidget(interactor, 1)
            holder.setVisible(k == 0)
            self.holders.append(holder)
            self.titles.append(title)
            self.interactors.append(interactor)
            self.scenes.append(HandScene(interactor))
        # One camera for both views; a change in one re-renders the other.
        self.interactors[1].renderer.camera = self.interactors[0].renderer.camera
        for a, b in ((0, 1), (1, 0)):
            iren = self.interactors[a].iren
            if iren is not None:  # the wheel zooms without an InteractionEvent
                for event in ("InteractionEvent", "MouseWheelForwardEvent", "MouseWheelBackwardEvent"):
                    iren.add_observer(event, lambda *_, b=b: self._on_interaction(b))
        for row in self._controls():
            layout.addLayout(row)

    def _controls(self) -> tuple[QHBoxLayout, QHBoxLayout]:
        """Two compact rows (layer toggles, camera presets) so the view can be narrow."""
        row, cameras = QHBoxLayout(), QHBoxLayout()
        for name, label in LAYERS.items():
            box = QCheckBox(label)
            box.setChecked(DEFAULT_LAYERS[name])
            box.toggled.connect(lambda on, n=name: self.model.set_layer(n, on))
            self.checkboxes[name] = box
            row.addWidget(box)
        row.addStretch(1)
        cameras.addWidget(QLabel("Camera:"))
        for name in PRESETS:
            button = QToolButton()
            button.setText(name.capitalize())
            button.setToolTip(f"Camera: {name}" + (" (the video camera)" if name == "image" else ""))
            button.clicked.connect(lambda _=False, n=name: self.camera_preset(n))
            self.preset_buttons[name] = button
            cameras.addWidget(button)
        self.keep_camera = QToolButton()  # compact: the row must fit a 900 px wide window
        self.keep_camera.setText("Keep")
        self.keep_camera.setCheckable(True)
        self.keep_camera.setToolTip("Keep the camera where it is: no refit on resize, frame change or side by side")
        cameras.addWidget(self.keep_camera)
        cameras.addStretch(1)
        return row, cameras

    # ------------------------------------------------------------------ public
    def shown_estimates(self):
        """The estimates last shown in each visible view (None: nothing computed yet)."""
        return list(self._shown)

    def _on_interaction(self, other_view: int) -> None:
        self._preset = None  # the user moved the camera: keep it where they put it
        self._render_one(other_view)

    def refit(self) -> None:
        """Apply the last preset again (after a resize, a frame change), unless the user moved the
        camera since or asked to keep it."""
        if self._preset is not None and not self.keep_camera.isChecked():
            self.camera_preset(self._preset)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_timer.start()

    def camera_preset(self, name: str) -> None:
        self._preset = name
        if self._closed:
            return
        result = self.model.results.get(self.model.current)
        K = None if result is None else result.camera_K
        self._fitted_K = None if K is None else K.tobytes()
        self.scenes[0].camera_preset(name, K=K, image_size=self.image_size)
        self.render()

    def render(self) -> None:
        if self._closed:
            return
        for k in range(self._view_count()):
            self._render_one(k)

    @Slot()
    def refresh(self, *_args) -> None:
        """Show the current frame's result in each view (hidden when not computed yet)."""
        if self._closed:
            return
        index = self.model.current
        result = self.model.results.get(index)
        self._shown = []
        for k in range(self._view_count()):
            refined = self._refined_for(k)
            self._shown.append(self.scenes[k].show_result(result, refined))
            self._show_density(k, index, refined and result is not None and result.after is not None)
        self._update_titles(result)
        if result is not None and not self._camera_set:
            self._camera_set = True
            self.camera_preset("front" if self.model.side_by_side else "image")
            return
        if result is not None and self._preset is not None and not self.keep_camera.isChecked():
            # Follow the hands; "image" only needs a refit when this frame has another camera.
            K = None if result.camera_K is None else result.camera_K.tobytes()
            if self._preset != "image" or K != self._fitted_K:
                self.camera_preset(self._preset)
                return
        for k in range(self._view_count()):  # the hands may have moved in depth: keep them inside
            self.scenes[k].fit_depth_range()  # the near and far planes (a kept camera included)
        self.render()

    # ------------------------------------------------------------------ internals
    def _view_count(self) -> int:
        return 2 if self.model.side_by_side else 1

    def _refined_for(self, view: int) -> bool:
        return view == 1 if self.model.side_by_side else self.model.show_refined

    def _show_density(self, view: int, index: int, refined: bool) -> None:
        clouds = None if self.controller is None else self.controller.density.get((index, refined))
        scene = self.scenes[view]
        if clouds is None:
            scene.clear_density()
        else:
            for hand, (points, probs) in enumerate(clouds):
                scene.show_density(hand, points, probs)

    def _update_titles(self, result) -> None:
        index = self.model.current
        pending = "" if result is not None else f" — computing frame {index}…"
        if self.model.side_by_side:
            after = "" if result is None or result.after is not None else " (not refined)"
            self.titles[0].setText(f"Before{pending}")
            self.titles[1].setText(f"After{after}")
        else:
            which = "After (refined)" if self.model.show_refined else "Before (initial)"
            if self.model.show_refined and result is not None and result.after is None:
                which = "Before (frame not refined)"
            self.titles[0].setText(which + pending)

    def _render_one(self, view: int) -> None:
        # Schedule a repaint rather than rendering now: the widget's paintGL renders anyway, so
        # an immediate render would render every change twice. Views not on screen are skipped.
        if self.interactors[view].isVisible():
            self.interactors[view].update()

    def render_now(self) -> None:
        """Render the visible views immediately (screenshots, benchmarks)."""
        for k in range(self._view_count()):
            if self.interactors[k].isVisible():
                self.interactors[k].render()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.render()

    @Slot(int)
    def _on_results_changed(self, index: int) -> None:
        if index in (self.model.current, -1):
            self.refresh()

    @Slot()
    def _on_view_changed(self) -> None:
        for name, box in self.checkboxes.items():
            visible = self.model.layers.get(name, DEFAULT_LAYERS[name])
            box.blockSignals(True)
            box.setChecked(visible)
            box.blockSignals(False)
            for scene in self.scenes:
                scene.set_layer_visible(name, visible)
        self.holders[1].setVisible(self.model.side_by_side)
        self.refresh()
        if self.model.side_by_side != self._side_by_side:
            self._side_by_side = self.model.side_by_side
            if self._preset is not None and not self.keep_camera.isChecked():  # the views changed shape
                self.layout().activate()
                # Two narrow views through the video camera show the hands tiny: fit them instead.
                if self._side_by_side and self._preset == "image":
                    self._preset = "front"
                elif not self._side_by_side and self._preset == "front":
                    self._preset = "image"
                self.camera_preset(self._preset)

    @Slot(int, bool)
    def _on_density_ready(self, index: int, refined: bool) -> None:
        if index == self.model.current:
            self.refresh()

    def close_views(self) -> None:
        """Finalize the render windows (call before the widget goes away). A resize's refit still
        pending, or a result arriving later, then draws nothing: a finalized view has no size."""
        self._closed = True
        self._fit_timer.stop()
        for interactor in self.interactors:
            interactor.close()
