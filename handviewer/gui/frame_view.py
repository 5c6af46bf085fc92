"""`FrameView`: the video frame with a 2D overlay of keypoints and skeletons, and optionally the
projected mesh outline and part segmentation of the shown estimate (layers "outline2d", "parts2d").

Keypoints are draggable; dropping one records an undoable edit on the session
(`Session.move_keypoint`), which the controller forwards to the computer. While a template hand is
being placed (`template_gesture`, armed by Edit > Add hand > Place template), the mouse and Esc go to
the gesture instead. The 3D joints of
the shown estimate(s), projected through the frame's K, are drawn as thin dashed skeletons.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsItem, QGraphicsLineItem, QGraphicsPathItem,
                               QGraphicsPixmapItem, QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView)

from handviewer.gui.session_model import SessionModel
from handviewer.gui.template_gesture import TemplateGesture
from handviewer.hand.skeleton import BONES
from handviewer.render.overlay2d import mask_rgba, mesh_outlines, part_mask, projected_joints, visible_bones
from handviewer.render.style import HAND_COLORS, HAND_NAMES

# 2D layers of this view (the 3D view's layers are in render.style) and whether they start shown.
OVERLAY_LAYERS = {"outline2d": True, "parts2d": False}

KEYPOINT_RADIUS_PX = 5


def to_qimage(image: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB (read-only is fine) -> a QImage that owns its pixels."""
    image = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    h, w = image.shape[:2]
    return QImage(image.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class KeypointItem(QGraphicsEllipseItem):
    """A draggable keypoint; constant size on screen. Calls `view._dropped` when moved by the user."""

    def __init__(self, view: FrameView, hand: int, joint: int) -> None:
        r = KEYPOINT_RADIUS_PX
        super().__init__(-r, -r, 2 * r, 2 * r)
        self.view, self.hand, self.joint = view, hand, joint
        self._press_pos: QPointF | None = None
        color = QColor(HAND_COLORS[hand])
        self.setBrush(QBrush(color))
        self.setPen(QPen(QColor("white"), 1))
        self.setZValue(3)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip(f"{HAND_NAMES[hand]} joint {joint}")
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._press_pos = QPointF(self.pos())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        super().mouseMoveEvent(event)
        self.view._update_bones(self.hand)  # bones follow the drag

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        if self._press_pos is not None and self.pos() != self._press_pos:
            self.view._dropped(self.hand, self.joint, self.pos())
        self._press_pos = None


class FrameView(QGraphicsView):
    """Shows `frames.read(model.current)` at once, and the overlay when the frame's result is cached.

    Signal keypoint_dropped(hand, joint, x, y) after a user drag (already recorded in the session).
    """

    keypoint_dropped = Signal(int, int, float, float)

    def __init__(self, model: SessionModel, frames, parent=None) -> None:
        super().__init__(parent)
        self.model, self.frames = model, frames
        self._updating = False  # True while the overlay is moved by code, not by the user
        self.image_size: tuple[int, int] | None = None  # (width, height) px of the shown frame
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QColor("#111317"))
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        self.setMinimumSize(240, 180)
        self.pixmap_item = QGraphicsPixmapItem()
        self.scene().addItem(self.pixmap_item)
        self.message = QGraphicsSimpleTextItem()
        self.message.setBrush(QColor("#e0e0e0"))
        self.message.setZValue(5)
        self.scene().addItem(self.message)
        self.keypoints = [[KeypointItem(self, h, j) for j in range(21)] for h in range(2)]
        self.bones = [[self._line(h) for _ in BONES] for h in range(2)]
        self.projections = [[self._path(h, dashed) for h in range(2)] for dashed in (True, False)]
        self.mask_item = QGraphicsPixmapItem()  # part segmentation, over the image, under the lines
        self.mask_item.setZValue(0.5)
        self.scene().addItem(self.mask_item)
        self.outlines = [self._outline(h) for h in range(2)]
        self._mask_key = None  # what the mask and outlines were computed for
        for item in (i for hand in self.keypoints for i in hand):
            self.scene().addItem(item)
        self.shown_index: int | None = None
        self.template_gesture = TemplateGesture(self)
        model.frame_changed.connect(lambda _i: self.template_gesture.cancel())  # placed on the frame shown
        model.reset.connect(self.template_gesture.cancel)
        model.frame_changed.connect(self.refresh)
        model.results_changed.connect(self._on_results_changed)
        model.keypoints_changed.connect(lambda i, _kp: self._on_results_changed(i))
        model.view_changed.connect(self.refresh_overlay)
        model.reset.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ updates
    @Slot()
    def refresh(self, *_args) -> None:
        """Show the current frame's image (at once) and its overlay (if known)."""
        index = self.model.current
        if self.frames is not None and self.model.frame_count > 0:
            try:
                image = self.frames.read(index)
                self.image_size = (int(image.shape[1]), int(image.shape[0]))
                self.pixmap_item.setPixmap(QPixmap.fromImage(to_qimage(image)))
                self.message.setText("")
            except Exception as exc:  # noqa: BLE001 - shown, not raised into Qt
                self.message.setText(f"Cannot read frame {index}: {exc}")
        else:
            self.message.setText("Open a video: File > Open video, or drop one here")
        rect = self.pixmap_item.boundingRect()
        if not rect.isEmpty():
            self.scene().setSceneRect(rect)
        if self.shown_index is None:
            self._fit()
        self.shown_index = index
        self.refresh_overlay()

    @Slot()
    def refresh_overlay(self) -> None:
        index = self.model.current
        keypoints = self.model.keypoints(index) if self.model.frame_count > 0 else None
        self._updating = True
        try:
            for h in range(2):
                pts = None if keypoints is None else np.asarray(keypoints[h], dtype=np.float64)
                finite = np.zeros(21, bool) if pts is None else np.isfinite(pts[:, :2]).all(axis=1)
                if pts is not None:
                    opacity = 0.45 + 0.55 * np.clip(np.nan_to_num(pts[:, 2], nan=1.0), 0.0, 1.0)
                for j, item in enumerate(self.keypoints[h]):
                    if finite[j]:
                        item.setPos(pts[j, 0], pts[j, 1])
                        item.setOpacity(opacity[j])
                    item.setVisible(bool(finite[j]))
                self._update_bones(h, None if pts is None else np.where(finite[:, None], pts[:, :2], np.nan))
        finally:
            self._updating = False
        self._update_projections(index)

    def _update_bones(self, hand: int, pts: np.ndarray | None = None) -> None:
        """Bone lines of one hand from points (21, 2) px (NaN: missing), default: the items' positions."""
        if pts is None:
            pts = np.array([[i.pos().x(), i.pos().y()] if i.isVisible() else [np.nan, np.nan]
                            for i in self.keypoints[hand]])
        ok = np.isfinite(pts).all(axis=1)
        for line, (a, b) in zip(self.bones[hand], BONES):
            if ok[a] and ok[b]:
                line.setLine(pts[a, 0], pts[a, 1], pts[b, 0], pts[b, 1])
                line.setVisible(True)
            else:
                line.setVisible(False)

    def _update_projections(self, index: int) -> None:
        result = self.model.results.get(index)
        wanted = {False: self.model.side_by_side or not self.model.show_refined,
                  True: self.model.side_by_side or self.model.show_refined}
        for refined, items in zip((False, True), self.projections):
            uv = None
            if result is not None and wanted[refined] and (not refined or result.after is not None):
                uv = projected_joints(result.estimate(refined), result.camera_K)
            for h, item in enumerate(items):
                path = QPainterPath()
                if uv is not None:
                    for a, b in visible_bones(uv[h]):
                        path.moveTo(*uv[h, a])
                        path.lineTo(*uv[h, b])
                item.setPath(path)
        self._update_mesh_overlay(index, result)

    def layer_visible(self, name: str) -> bool:
        return bool(self.model.layers.get(name, OVERLAY_LAYERS[name]))

    def _update_mesh_overlay(self, index: int, result) -> None:
        """Projected mesh outline and part segmentation of the estimate shown (refined when shown)."""
        outline, parts = self.layer_visible("outline2d"), self.layer_visible("parts2d")
        refined = bool(self.model.show_refined and result is not None and result.after is not None)
        # Recomputed only when the frame, the estimate shown, or the layers change (about 7 ms, plus 5
        # for the part colours): dragging keypoints and other overlay refreshes reuse it.
        key = (index, refined, id(result), self.image_size, parts) if (outline or parts) and result is not None else None
        if key != self._mask_key:
            self._mask_key = key
            labels = None
            if key is not None and self.image_size is not None:
                labels = part_mask(result.estimate(refined), result.camera_K, self.image_size)
            contours = mesh_outlines(labels) if labels is not None else [[], []]
            for h, item in enumerate(self.outlines):
                path = QPainterPath()
                for c in contours[h]:
                    path.moveTo(*c[0])
                    for x, y in c[1:]:
                        path.lineTo(x, y)
                    path.closeSubpath()
                item.setPath(path)
            rgba = mask_rgba(labels) if labels is not None and parts else None
            self.mask_item.setPixmap(QPixmap() if rgba is None else QPixmap.fromImage(
                QImage(rgba.tobytes(), rgba.shape[1], rgba.shape[0], 4 * rgba.shape[1], QImage.Format.Format_RGBA8888).copy()))
        for item in self.outlines:
            item.setVisible(outline)
        self.mask_item.setVisible(parts)

    def _on_results_changed(self, index: int) -> None:
        if index in (self.model.current, -1):
            self.refresh_overlay()

    def _dropped(self, hand: int, joint: int, pos: QPointF) -> None:
        if self._updating:
            return
        index = self.model.current
        try:
            self.model.move_keypoint(index, hand, joint, pos.x(), pos.y())
        except ValueError:
            self.refresh_overlay()
            return
        self.keypoint_dropped.emit(hand, joint, pos.x(), pos.y())

    # ------------------------------------------------------------------ the template gesture
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if not self._to_gesture(event):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if not self._to_gesture(event):
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if not self._to_gesture(event):
            super().mouseReleaseEvent(event)

    def _to_gesture(self, event) -> bool:
        """Route a mouse event to the template gesture while it is armed (keypoints do not move then)."""
        pos = self.mapToScene(event.position().toPoint())
        if self.template_gesture.mouse_event(event.type(), event, pos):
            event.accept()
            return True
        return False

    def event(self, event) -> bool:
        # While the gesture is armed Enter places the hand (no shortcut may take it; Esc: the gesture's filter).
        if (event.type() == QEvent.Type.ShortcutOverride and self.template_gesture.active
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self.template_gesture.key(event.key()):
            event.accept()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ helpers
    def keypoint_scene_pos(self, hand: int, joint: int) -> QPointF:
        return self.keypoints[hand][joint].pos()

    def _line(self, hand: int) -> QGraphicsLineItem:
        line = QGraphicsLineItem()
        pen = QPen(QColor(HAND_COLORS[hand]), 2)
        pen.setCosmetic(True)  # constant width on screen
        line.setPen(pen)
        line.setZValue(2)
        line.setVisible(False)
        self.scene().addItem(line)
        return line

    def _path(self, hand: int, dashed: bool) -> QGraphicsPathItem:
        item = QGraphicsPathItem()
        color = QColor(HAND_COLORS[hand]).lighter(150 if dashed else 120)
        pen = QPen(color, 1.5, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setZValue(1)
        self.scene().addItem(item)
        return item

    def _outline(self, hand: int) -> QGraphicsPathItem:
        item = QGraphicsPathItem()
        pen = QPen(QColor(HAND_COLORS[hand]), 1.5)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setZValue(1)
        self.scene().addItem(item)
        return item

    def _fit(self) -> None:
        rect = self.pixmap_item.boundingRect()
        if not rect.isEmpty():
            self.fitInView(QRectF(rect), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()
