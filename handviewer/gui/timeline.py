"""The timeline: play/pause, step, slider, frame spin box, and the intersection strip chart."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QStyle, QToolButton, QVBoxLayout, QWidget

from handviewer.gui.session_model import SessionModel

BEFORE_COLOR, AFTER_COLOR = QColor("#f2994a"), QColor("#27ae60")
FLAG_COLORS = {"verified": QColor("#27ae60"), "rejected": QColor("#eb5757")}
CHART_METRIC = "intersection_volume_cm3"


class LeaveUndoToTheWindow(QObject):
    """An event filter for a text field whose text is not worth an undo of its own (the frame
    number): Ctrl+Z / Ctrl+Shift+Z go to the window's Undo / Redo, the user's edits, instead of being
    swallowed by the field (a new user's undo did nothing after typing a frame number)."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ShortcutOverride and (
                event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo)):
            event.ignore()  # not taken here: the shortcut map gives it to the window's action
            return True
        return False


class StripChart(QWidget):
    """Per-frame intersection volume before (orange) and after (green) refinement.

    Before comes from the first pass over the whole video (or the frame's result); frames not
    reached yet (NaN) are gaps. A vertical line marks the current frame; ticks along the
    bottom mark verified (green) and rejected (red) frames. Click or drag to jump to a frame.
    """

    frame_clicked = Signal(int)

    def __init__(self, model: SessionModel, metric: str = CHART_METRIC, parent=None) -> None:
        super().__init__(parent)
        self.model, self.metric_name = model, metric
        self.before = self.after = np.zeros(0)
        self.setMinimumHeight(56)
        self.setToolTip("Intersection volume per frame (cm³): orange before, green after refinement. "
                        "Click to jump.")
        model.results_changed.connect(self.update_data)
        model.overview_changed.connect(self.update_data)  # the first pass, chunk by chunk
        model.reset.connect(self.update_data)
        model.frame_changed.connect(lambda _i: self.update())
        model.flags_changed.connect(lambda _i: self._invalidate())
        self._cache: QPixmap | None = None
        self.update_data()

    @Slot()
    def update_data(self, *_args) -> None:
        self.before = self.model.series(self.metric_name, after=False)
        self.after = self.model.series(self.metric_name, after=True)
        self._invalidate()

    def _invalidate(self) -> None:
        self._cache = None
        self.update()

    def x_of(self, frame: float) -> float:
        n = max(self.model.frame_count, 1)
        return (frame + 0.5) / n * self.width()

    def frame_at(self, x: float) -> int:
        n = max(self.model.frame_count, 1)
        return int(min(max(math.floor(x / max(self.width(), 1) * n), 0), n - 1))

    def paintEvent(self, event) -> None:  # noqa: N802
        # The series are drawn once per data change / resize into a cached pixmap; a frame change
        # only repaints the cursor over it.
        if self._cache is None or self._cache.size() != self.size():
            self._cache = self._draw_series()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._cache)
        if self.model.frame_count > 0:
            painter.setPen(QPen(QColor("#ffffff"), 1))
            x = self.x_of(self.model.current)
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.end()

    def _draw_series(self) -> QPixmap:
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor("#1b1e23"))
        if self.model.frame_count <= 0:
            return pixmap
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        finite = np.concatenate([self.before[np.isfinite(self.before)], self.after[np.isfinite(self.after)]])
        top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        plot = QRectF(0, 4, self.width(), self.height() - 12)
        for values, color in ((self.before, BEFORE_COLOR), (self.after, AFTER_COLOR)):
            self._series(painter, values, top, plot, color)
        for i, flag in self.model.flags.items():
            painter.setPen(QPen(FLAG_COLORS.get(flag, QColor("white")), 2))
            x = self.x_of(i)
            painter.drawLine(QPointF(x, self.height() - 6), QPointF(x, self.height()))
        painter.end()
        return pixmap

    def _series(self, painter: QPainter, values: np.ndarray, top: float, plot: QRectF, color: QColor) -> None:
        """One series as a polyline broken at NaN (uncomputed) frames; a lone value is a dot."""
        path, pen_down = QPainterPath(), False
        for i, v in enumerate(values):
            if not np.isfinite(v):
                pen_down = False
                continue
            point = QPointF(self.x_of(i), plot.bottom() - v / top * plot.height())
            if pen_down:
                path.lineTo(point)
            else:
                path.addEllipse(point, 1.5, 1.5)
                path.moveTo(point)
            pen_down = True
        painter.setPen(QPen(color, 1.5))
        painter.drawPath(path)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._jump(event.position().x())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event.position().x())

    def _jump(self, x: float) -> None:
        frame = self.frame_at(x)
        self.model.set_frame(frame)
        self.frame_clicked.emit(frame)


class Timeline(QWidget):
    """Play/pause, step, slider and spin box bound to the session's current frame."""

    def __init__(self, model: SessionModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        row = QHBoxLayout()
        # Icons from the style, not glyphs: fonts without "⏸" showed an empty box.
        self.play_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self.pause_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play_button = self._button("", "Play / pause (Space)", self.toggle_play)
        self.play_button.setIcon(self.play_icon)
        self.prev_button = self._button("◀", "Previous frame (Left)", lambda: model.step(-1))
        self.next_button = self._button("▶|", "Next frame (Right)", lambda: model.step(1))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(model.set_frame)
        self.spin = QSpinBox()
        self.spin.setPrefix("Frame ")
        self.spin.valueChanged.connect(model.set_frame)
        self._undo_filter = LeaveUndoToTheWindow(self)
        self.spin.installEventFilter(self._undo_filter)
        self.count_label = QLabel()
        for w in (self.play_button, self.prev_button, self.next_button):
            row.addWidget(w)
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        row.addWidget(self.count_label)
        layout.addLayout(row)
        self.chart = StripChart(model)
        layout.addWidget(self.chart)
        model.frame_changed.connect(self._on_frame_changed)
        model.reset.connect(self._on_reset)
        self._on_reset()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.stop()
        elif self.model.frame_count > 0:
            if self.model.current >= self.model.frame_count - 1:
                self.model.set_frame(0)
            self.timer.start(max(int(1000 / min(self.model.fps, 60.0)), 1))
            self.play_button.setIcon(self.pause_icon)

    def stop(self) -> None:
        self.timer.stop()
        self.play_button.setIcon(self.play_icon)

    def _tick(self) -> None:
        if self.model.current >= self.model.frame_count - 1:
            self.stop()
        else:
            self.model.step(1)

    @Slot(int)
    def _on_frame_changed(self, index: int) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setValue(index)
            w.blockSignals(False)

    @Slot()
    def _on_reset(self) -> None:
        last = max(self.model.frame_count - 1, 0)
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(0, last)
            w.setValue(self.model.current)
            w.blockSignals(False)
        self.count_label.setText(f"/ {last}")
        self.setEnabled(self.model.frame_count > 0)
