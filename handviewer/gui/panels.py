"""Side panels: per-frame metrics (before/after) and the refinement settings."""

from __future__ import annotations

import dataclasses
import math

from PySide6.QtCore import QRect, Qt, Slot
from PySide6.QtGui import QColor, QDoubleValidator, QFont, QPainter, QPalette
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from handviewer.gui.session_model import SessionModel
from handviewer.devices import AUTO_CUDA_MIN_BATCH, cuda_available, missing_cuda_warning
from handviewer.intersect.names import POINT_SETS
from handviewer.pipeline.settings import DEVICE_NAMES

# (FrameMetrics field, label, format)
METRIC_ROWS = (
    ("intersection_count", "Intersection points", "{:.0f}"),
    ("intersection_volume_cm3", "Intersection volume (cm³)", "{:.2f}"),
    ("occupancy_count", "Occupancy count (p > 0.5)", "{:.0f}"),
    ("ave_p_mm", "AVE-P (mm)", "{:.2f}"),
    ("max_p_mm", "MAX-P (mm)", "{:.2f}"),
    ("reprojection_px", "Reprojection error (px)", "{:.2f}"),
    ("moved_mm", "Distance moved (mm)", "{:.2f}"),
)
COLUMNS = ("before", "after")
# Shorter labels for a narrow panel (900 px wide window); the tooltip gives the full names.
SHORT_LABELS = {"intersection_count": "Points", "intersection_volume_cm3": "Volume (cm³)",
                "occupancy_count": "Occupancy", "reprojection_px": "Reproj. (px)", "moved_mm": "Moved (mm)"}


def format_metric(value: float | None, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return fmt.format(value)


class MetricsPanel(QWidget):
    """Metrics of the current frame: one column before refinement, one after (the shown one marked).

    Painted by hand rather than built from labels or an item view: text changes in those
    re-run the layout in a second pass, i.e. a second window composition per frame change,
    which costs tens of ms when Qt composites through software OpenGL.
    """

    ROW_HEIGHT = 24

    def __init__(self, model: SessionModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.header = ""
        self.texts: dict[tuple[str, str], str] = {}
        self.shown_column = 0
        self.setMinimumHeight(self.ROW_HEIGHT * (len(METRIC_ROWS) + 3))
        self.setToolTip("\n".join(f"{SHORT_LABELS[n]}: {label}" for n, label, _ in METRIC_ROWS if n in SHORT_LABELS))
        model.frame_changed.connect(self.refresh)
        model.results_changed.connect(lambda i: i in (model.current, -1) and self.refresh())
        model.view_changed.connect(self.refresh)
        model.flags_changed.connect(lambda i: i == model.current and self.refresh())
        model.reset.connect(self.refresh)
        self.refresh()

    def value(self, field: str, column: str) -> str:
        """The text shown for a metric ("intersection_count", ...) in "before" or "after"."""
        return self.texts[field, column]

    @Slot()
    def refresh(self, *_args) -> None:
        index = self.model.current
        result = self.model.results.get(index)
        flag = self.model.flags.get(index)
        state = "computing…" if result is None else ("refined" if result.after is not None else "not refined")
        self.header = f"Frame {index}: {state}" + (f" — {flag}" if flag else "")
        refined_shown = self.model.show_refined and result is not None and result.after is not None
        self.shown_column = -1 if self.model.side_by_side else int(refined_shown)
        for which in COLUMNS:
            metrics = None if result is None else getattr(result, f"metrics_{which}")
            for name, _, fmt in METRIC_ROWS:
                self.texts[name, which] = format_metric(None if metrics is None else getattr(metrics, name), fmt)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        h, w = self.ROW_HEIGHT, self.width()
        metrics = painter.fontMetrics()
        value_w = max(metrics.horizontalAdvance("99999.99") + 6, min(w // 5, 90))
        cols = (w - 2 * value_w - 8, w - value_w - 4)  # x of the before/after columns
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(QRect(4, 0, w - 8, h), Qt.AlignmentFlag.AlignVCenter, self.header)
        bold = QFont(self.font())
        bold.setBold(True)
        for col, which in enumerate(COLUMNS):
            rect = QRect(cols[col], h, value_w, h)
            if col == self.shown_column:
                painter.fillRect(QRect(cols[col], h, value_w, h * (len(METRIC_ROWS) + 1)), QColor(70, 80, 95, 90))
            painter.setFont(bold)
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, which.capitalize())
        painter.setFont(self.font())
        for row, (name, label, _) in enumerate(METRIC_ROWS, start=2):
            y = row * h
            room = cols[0] - 8
            if metrics.horizontalAdvance(label) > room:  # narrow: the short name, cut with "…" if need be
                label = metrics.elidedText(SHORT_LABELS.get(name, label), Qt.TextElideMode.ElideRight, room)
            painter.drawText(QRect(4, y, room, h), Qt.AlignmentFlag.AlignVCenter, label)
            for col, which in enumerate(COLUMNS):
                painter.drawText(QRect(cols[col], y, value_w, h), Qt.AlignmentFlag.AlignRight
                                 | Qt.AlignmentFlag.AlignVCenter, self.texts[name, which])
        painter.end()


class SettingsPanel(QWidget):
    """Edits the session's `RefineSettings`; holds the Refine buttons (wired by the window)."""

    def __init__(self, model: SessionModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        box = QGroupBox("Refinement")
        form = QFormLayout(box)
        self.point_set = QComboBox()
        self.point_set.addItems(list(POINT_SETS))
        self.point_set.setToolTip("Points of one hand tested against the other hand's occupancy")
        self.both_hands = QCheckBox("Test both hands (α = 1)")
        self.weight = QLineEdit()
        self.weight.setValidator(QDoubleValidator(0.0, 1e12, 12))
        self.weight.setToolTip("Weight of the intersection loss (e.g. 1, 1e-5)")
        self.steps = QSpinBox()
        self.steps.setRange(0, 100000)
        self.contact = QDoubleSpinBox()
        self.contact.setRange(0.0, 10.0)
        self.contact.setSingleStep(0.5)
        self.contact.setDecimals(1)
        self.contact.setSuffix(" mm")
        self.contact.setToolTip("Soft contact: how deep one hand may press into the other before refinement pushes "
                                "them apart (real hands in firm contact compress each other's flesh)")
        self.device = QComboBox()
        self.device.addItems(list(DEVICE_NAMES))
        gpu = cuda_available()
        self.device.setToolTip("Where refinement runs. auto: " + (
            f"the CPU in the app, which refines too few frames at once for CUDA to pay (it does from "
            f"{AUTO_CUDA_MIN_BATCH}: `handviewer process --batch`)" if gpu else "the CPU (torch sees no CUDA device)"))
        if not gpu:  # still shown (a saved setting may name it), but not offered
            self.device.model().item(DEVICE_NAMES.index("cuda")).setEnabled(False)
        self.safe_mode = QCheckBox("Safe mode")  # short: the panel is narrow at 900 px
        self.safe_mode.setToolTip("IHMR-style: keep a step only if both the intersection and the joint error drop")
        form.addRow("Point set", self.point_set)
        form.addRow(self.both_hands)
        form.addRow("Weight", self.weight)
        form.addRow("Steps", self.steps)
        form.addRow("Contact", self.contact)
        form.addRow("Device", self.device)
        self.device_note = QLabel()  # a saved "cuda" on a machine without one: said, not hidden
        self.device_note.setWordWrap(True)
        self.device_note.setStyleSheet("color: #f2c94c")
        form.addRow(self.device_note)
        form.addRow(self.safe_mode)
        self.refine_button = QPushButton("Refine this frame")
        self.refine_all_button = QPushButton("Refine all")
        buttons = QHBoxLayout()
        buttons.addWidget(self.refine_button)
        buttons.addWidget(self.refine_all_button)
        form.addRow(buttons)
        self.error = QLabel()
        self.error.setStyleSheet("color: #eb5757")
        form.addRow(self.error)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addStretch(1)
        self.point_set.currentTextChanged.connect(lambda v: self._set(point_set=v))
        self.both_hands.toggled.connect(lambda v: self._set(both_hands=v))
        self.weight.editingFinished.connect(self._weight_edited)
        self.steps.valueChanged.connect(lambda v: self._set(steps=v))
        self.contact.valueChanged.connect(lambda v: self._set(contact_mm=float(v)))
        self.device.currentTextChanged.connect(lambda v: self._set(device=v))
        self.safe_mode.toggled.connect(lambda v: self._set(safe_mode=v))
        model.settings_changed.connect(self.refresh)
        model.reset.connect(self.refresh)
        self.refresh()

    def _set(self, **change) -> None:
        try:
            self.model.set_settings(**change)
            self.error.setText("")
        except (ValueError, TypeError) as exc:
            self.error.setText(str(exc))
            self.refresh()

    def _weight_edited(self) -> None:
        try:
            self._set(weight=float(self.weight.text()))
        except ValueError:
            self.error.setText(f"not a number: {self.weight.text()!r}")

    @Slot()
    def refresh(self) -> None:
        s = self.model.settings
        widgets = (self.point_set, self.both_hands, self.weight, self.steps, self.contact, self.device, self.safe_mode)
        for w in widgets:
            w.blockSignals(True)
        self.point_set.setCurrentText(s.point_set)
        self.both_hands.setChecked(s.both_hands)
        self.weight.setText(f"{s.weight:g}")
        self.steps.setValue(s.steps)
        self.contact.setValue(s.contact_mm)
        self.device.setCurrentText(s.device)
        note = missing_cuda_warning(s.device) or ""
        self.device_note.setText(note)
        self.device_note.setVisible(bool(note))
        self.safe_mode.setChecked(s.safe_mode)
        for w in widgets:
            w.blockSignals(False)

    def settings_dict(self) -> dict:
        return dataclasses.asdict(self.model.settings)


class WarningBanner(QFrame):
    """A dismissable strip above the views for what looks wrong with the inputs (e.g. predictions that
    cover part of the video). The status bar's copy is overwritten by the next message; this stays
    until the user has read it and closes it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("warningBanner")
        self.setStyleSheet("#warningBanner { background: #5a4a12; border-radius: 3px; } QLabel { color: #fff3c4; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.warnings: list[str] = []  # the lines shown, warnings and notes, in order
        self._signs: dict[str, str] = {}
        self.hide()

    @Slot(list)
    def show_warnings(self, warnings: list[str]) -> None:
        """Add warnings to those shown (session files at open, then the inputs after warm-up);
        after a dismiss the banner starts afresh."""
        self._add(warnings, "⚠")

    @Slot(list)
    def show_notes(self, notes: list[str]) -> None:
        """Add lines that say what was read (not what is wrong), marked as information."""
        self._add(notes, "ℹ")

    def _add(self, lines: list[str], sign: str) -> None:
        if not lines:
            return
        if self.isHidden():
            self.warnings, self._signs = [], {}
        for line in lines:
            if line not in self.warnings:
                self.warnings.append(line)
                self._signs[line] = sign
        self.label.setText("\n".join(f"{self._signs[w]} {w}" for w in self.warnings))
        self.show()
