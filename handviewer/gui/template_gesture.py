"""`TemplateGesture`: placing a template hand on the image by one gesture of the mouse.

Armed by Edit > Add hand > Place template (`start`): the user presses on the wrist, drags to where the
middle-finger knuckle goes (a preview of the 21 keypoints follows the drag: the drag gives the hand's
size and rotation) and releases; `placed` is emitted with the two points, and the caller records the
placement as one undoable step. Esc (or the right button) cancels; Enter places the hand at its
default spot. The keypoints of the preview come from a `shape(wrist, release) -> (21, 2) px` callable
the caller passes (the maths is in `handviewer.session.add_hand`); this module only draws and routes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem

from handviewer.hand.skeleton import BONES
from handviewer.render.style import HAND_COLORS

Shape = Callable[[np.ndarray, np.ndarray], np.ndarray]
PREVIEW_RADIUS_PX = 4


class TemplateGesture(QObject):
    """The gesture's state and preview, owned by a `FrameView` that routes its mouse and key events here.

    Signals: placed(hand, wrist, release): wrist and release (2,) px arrays, or both None for the
    default spot (Enter); cancelled(hand).
    """

    placed = Signal(int, object, object)
    cancelled = Signal(int)

    def __init__(self, view) -> None:
        super().__init__(view)
        self.view = view
        self.hand: int | None = None
        self.wrist: np.ndarray | None = None  # (2,) px once pressed
        self._shape: Shape | None = None
        self.bones = QGraphicsPathItem()
        self.bones.setZValue(4)
        view.scene().addItem(self.bones)
        self.points = []
        for _ in range(21):
            r = PREVIEW_RADIUS_PX
            item = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            item.setZValue(4)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            view.scene().addItem(item)
            self.points.append(item)
        self._show(None)

    @property
    def active(self) -> bool:
        return self.hand is not None

    # ------------------------------------------------------------------ the gesture
    def start(self, hand: int, shape: Shape) -> None:
        """Arm the gesture for `hand` (0 right, 1 left); `shape(wrist, release)` gives the preview."""
        if self.active:
            self.cancel()
        self.hand, self._shape, self.wrist = hand, shape, None
        color = QColor(HAND_COLORS[hand])
        pen = QPen(color.lighter(130), 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.bones.setPen(pen)
        for item in self.points:
            item.setBrush(QBrush(color))
            item.setPen(QPen(QColor("white"), 1))
        self.view.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        # Esc cancels wherever the focus is, before the window's Cancel shortcut (also Esc) sees it.
        QApplication.instance().installEventFilter(self)

    def press(self, pos: QPointF) -> None:
        self.wrist = np.array([pos.x(), pos.y()])
        self.move(pos)

    def move(self, pos: QPointF) -> None:
        if self.wrist is None or self._shape is None:
            return
        try:
            self._show(self._shape(self.wrist, np.array([pos.x(), pos.y()])))
        except ValueError:  # e.g. a position the core refuses: no preview rather than an error
            self._show(None)

    def release(self, pos: QPointF) -> None:
        if self.wrist is None:
            return
        hand, wrist = self.hand, self.wrist
        self._finish()
        self.placed.emit(hand, wrist, np.array([pos.x(), pos.y()]))

    def place_default(self) -> None:
        hand = self.hand
        self._finish()
        self.placed.emit(hand, None, None)

    def cancel(self) -> None:
        if not self.active:
            return
        hand = self.hand
        self._finish()
        self.cancelled.emit(hand)

    def _finish(self) -> None:
        self.hand, self.wrist, self._shape = None, None, None
        self._show(None)
        self.view.viewport().unsetCursor()
        QApplication.instance().removeEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        kind = event.type()
        if (self.active and kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
                and event.key() == Qt.Key.Key_Escape):
            if kind == QEvent.Type.KeyPress:
                self.cancel()
            event.accept()
            return True
        return False

    # ------------------------------------------------------------------ events routed by the view
    def mouse_event(self, kind: QEvent.Type, event, scene_pos: QPointF) -> bool:
        """Handle a press, move or release on the view while armed; True when used."""
        if not self.active:
            return False
        if kind == QEvent.Type.MouseButtonPress:
            if event.button() == Qt.MouseButton.RightButton:
                self.cancel()
            elif event.button() == Qt.MouseButton.LeftButton:
                self.press(scene_pos)
        elif kind == QEvent.Type.MouseMove:
            self.move(scene_pos)
        elif kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            self.release(scene_pos)
        return True

    def key(self, key: int) -> bool:
        """Esc cancels, Enter places at the default spot; True when used."""
        if not self.active:
            return False
        if key == Qt.Key.Key_Escape:
            self.cancel()
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.wrist is None:
            self.place_default()
            return True
        return False

    # ------------------------------------------------------------------ preview
    def _show(self, pts: np.ndarray | None) -> None:
        """Draw the preview keypoints (21, 2) px, or hide it (None)."""
        shown = bool(pts is not None and np.isfinite(pts).all())
        path = QPainterPath()
        if shown:
            for a, b in BONES:
                path.moveTo(*pts[a])
                path.lineTo(*pts[b])
        self.bones.setPath(path)
        self.bones.setVisible(shown)
        for j, item in enumerate(self.points):
            if shown:
                item.setPos(float(pts[j, 0]), float(pts[j, 1]))
            item.setVisible(shown)

    def preview(self) -> np.ndarray | None:
        """(21, 2) px of the preview shown, or None."""
        if not self.bones.isVisible():
            return None
        return np.array([[i.pos().x(), i.pos().y()] for i in self.points])
