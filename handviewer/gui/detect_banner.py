"""`DetectBanner`: says that a video has nothing to estimate hands from (no 2D keypoints, no 3D
predictions: detection on open was cancelled, unavailable or found nothing) and offers to detect
them, in the shown frame or in all frames. The window runs the detection (in the worker)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

TEXT = ("This video has no hand keypoints or 3D predictions, so there are no hands to show. Detect them "
        "(MediaPipe Hands, offline), or open keypoints with File > Open keypoints/predictions.")


class DetectBanner(QFrame):
    """Signals: detect_frame() and detect_all(), the user's choice."""

    detect_frame = Signal()
    detect_all = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("detectBanner")
        self.setStyleSheet("#detectBanner { background: #1f4a6e; border-radius: 3px; } QLabel { color: #e3f1ff; }")
        self.label = QLabel(TEXT)
        self.label.setWordWrap(True)
        self.frame_button = QPushButton("Detect hands in this frame")
        self.all_button = QPushButton("Detect hands in all frames")
        self.dismiss_button = QPushButton("Dismiss")
        self.frame_button.clicked.connect(self.detect_frame)
        self.all_button.clicked.connect(self.detect_all)
        self.dismiss_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        for button in (self.frame_button, self.all_button, self.dismiss_button):
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()
