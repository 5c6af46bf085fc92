"""`ReviewPanel`: the review queue of the session (`handviewer.session.review`) in a side tab.

Shows how far the review got, each category with its frame count (click: the next frame of that
category), and the current frame's categories. The Accept/Reject/Refine/Undo buttons are wired by
the window, which also owns their keyboard shortcuts; the panel owns no state.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget)

from handviewer.gui.session_model import SessionModel
from handviewer.session.review import CATEGORIES, DESCRIPTIONS, ReviewState, review_state


class ReviewPanel(QWidget):
    """Signal category_clicked(key): the user asked for the next frame of a category."""

    category_clicked = Signal(str)

    def __init__(self, model: SessionModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.state: ReviewState = review_state(model.session)
        layout = QVBoxLayout(self)
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        box = QGroupBox("Frames by category")
        grid = QGridLayout(box)
        self.category_buttons: dict[str, QPushButton] = {}
        for row, (key, label) in enumerate(CATEGORIES):
            button = QPushButton()
            button.setFlat(True)
            button.setStyleSheet("text-align: left; padding: 2px 4px;")
            button.setToolTip(f"{label}: {DESCRIPTIONS[key]}. Click: the next such frame.")
            button.clicked.connect(lambda _=False, k=key: self.category_clicked.emit(k))
            self.category_buttons[key] = button
            grid.addWidget(button, row, 0)
        layout.addWidget(box)
        self.frame_label = QLabel()
        self.frame_label.setWordWrap(True)
        layout.addWidget(self.frame_label)
        buttons = QGridLayout()
        self.accept_button = QPushButton("Accept (A)")
        self.accept_button.setToolTip("Mark verified and go to the next frame of the queue")
        self.reject_button = QPushButton("Reject (R)")
        self.reject_button.setToolTip("Mark rejected and go to the next frame of the queue")
        self.refine_button = QPushButton("Refine (Ctrl+R)")
        self.undo_button = QPushButton("Undo (Ctrl+Z)")
        for k, button in enumerate((self.accept_button, self.reject_button, self.refine_button, self.undo_button)):
            buttons.addWidget(button, k // 2, k % 2)
        layout.addLayout(buttons)
        hint = QLabel("Keys: A accept, R reject, ] / [ next / previous in the queue, N / P next / previous "
                      "intersecting, W worst frame, Ctrl+R refine, Ctrl+Z undo.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #9aa0a6")
        layout.addWidget(hint)
        layout.addStretch(1)
        # Many signals arrive in bursts (the first pass, Refine all): recount once per burst.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self.refresh)
        for signal in (model.results_changed, model.overview_changed, model.flags_changed, model.keypoints_changed):
            signal.connect(self._schedule)
        model.reset.connect(self._schedule)
        model.frame_changed.connect(self._show_frame)
        self.refresh()

    def _schedule(self, *_args) -> None:
        self._timer.start()

    @Slot()
    def refresh(self) -> None:
        self.state = state = review_state(self.model.session)
        total = len(state.queue)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(state.reviewed)
        self.progress.setFormat(f"{state.reviewed} / {total} reviewed")
        n = self.model.frame_count
        first_pass = "" if state.known >= n else f" (first pass: {state.known} of {n} frames known)"
        self.progress_label.setText(f"Review queue: {total} frame(s) to look at{first_pass}")
        for key, label in CATEGORIES:
            self.category_buttons[key].setText(f"{label}: {len(state.categories[key])}")
            self.category_buttons[key].setEnabled(bool(state.categories[key]))
            self.category_buttons[key].setVisible(key != "listed" or bool(state.categories[key]))  # review lists only
        self._show_frame()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._show_frame()

    def _show_frame(self, *_args) -> None:
        if not self.isVisible():  # a label's text change costs a layout pass per frame switch
            return
        index = self.model.current
        keys = [label.lower() for key, label in CATEGORIES if index in self.state.categories[key]]
        queued = "in the queue" if index in self.state.queue else "not in the queue"
        self.frame_label.setText(f"Frame {index} ({queued}): " + (", ".join(keys) if keys else "nothing to note"))
        self.frame_label.setToolTip("\n".join(DESCRIPTIONS[k] for k, _ in CATEGORIES if index in self.state.categories[k]))
