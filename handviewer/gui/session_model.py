"""`SessionModel`: the plain `Session` seen through Qt signals, for widgets to subscribe to.

Widgets take a `SessionModel`, connect to its signals and call its methods; attribute
access falls through to the wrapped `Session` (``model.current``, ``model.set_frame(3)``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from handviewer.session import Session

_FORWARDED = ("frame_changed", "results_changed", "view_changed", "keypoints_changed", "flags_changed",
              "settings_changed", "history_changed", "dirty_changed", "reset", "overview_changed")


class SessionModel(QObject):
    frame_changed = Signal(int)
    results_changed = Signal(int)  # -1: many frames at once
    view_changed = Signal()
    keypoints_changed = Signal(int, object)
    flags_changed = Signal(int)
    settings_changed = Signal()
    history_changed = Signal()
    dirty_changed = Signal(bool)
    reset = Signal()
    overview_changed = Signal(int)  # -1: many frames at once

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.__dict__["session"] = session
        self._links = [(getattr(session, name), getattr(self, name).emit) for name in _FORWARDED]
        for plain, qt_emit in self._links:
            plain.connect(qt_emit)

    def detach(self) -> None:
        """Stop forwarding (call before this QObject is deleted; the Session may outlive it)."""
        for plain, qt_emit in self._links:
            plain.disconnect(qt_emit)
        self._links = []

    def __getattr__(self, name: str) -> Any:
        # Only called for names QObject/this class lack: fall through to the Session.
        session = self.__dict__.get("session")
        if session is None:
            raise AttributeError(name)
        return getattr(session, name)
