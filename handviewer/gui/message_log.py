"""`MessageLog`: every status message of the session with its time, so none is lost when the status
bar moves on (a side tab), and `StatusLine`, the status bar's label that keeps an important message
(an export's folder, a cancel, an error) a few seconds before routine ones replace it."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSizePolicy

IMPORTANT_MS = 8000  # how long an important message stays before routine messages show again
MAX_LINES = 2000


class MessageLog(QPlainTextEdit):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setPlaceholderText("Status messages appear here.")
        self.messages: list[str] = []
        self._last = ""

    def add(self, text: str) -> None:
        if not text or text == self._last:  # progress repeats itself; one line is enough
            return
        self._last = text
        self.messages.append(text)
        del self.messages[:-MAX_LINES]
        self.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")


class StatusLine(QLabel):
    """The status bar text: one line, cut to the space there is (the full text in the tooltip and
    the log). `say(text, important=True)` holds the text for IMPORTANT_MS."""

    def __init__(self, log: MessageLog, parent=None) -> None:
        super().__init__(parent)
        self.log = log
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self._held_until = 0.0
        self._pending = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._release)

    def say(self, text: str, important: bool = False) -> None:
        self.log.add(text)
        now = time.monotonic()
        if not important and now < self._held_until:
            self._pending = text  # shown when the important message's time is up
            return
        if important:
            self._held_until = now + IMPORTANT_MS / 1000
            self._timer.start(IMPORTANT_MS)
            self._pending = ""
        self.setText(text)
        self.setToolTip(text)

    def _release(self) -> None:
        self._held_until = 0.0
        if self._pending:
            self.setText(self._pending)
            self.setToolTip(self._pending)
            self._pending = ""
