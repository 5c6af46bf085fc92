"""Undoable user actions and the undo/redo stack. Plain Python, no Qt.

A command holds everything it needs to apply and revert itself on a `CommandTarget` (the
`Session` is one); the stack calls `apply` on push and redo, `revert` on undo. This module
does not import `state` (which imports it): commands see the session only through the
public methods the protocol names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from handviewer.pipeline.results import FrameResult


class CommandTarget(Protocol):
    """What commands change: the results cache and two setters that announce their change."""

    results: dict[int, FrameResult]

    def apply_keypoints(self, index: int, keypoints: np.ndarray, edited: bool, result: FrameResult | None) -> None:
        """Show `keypoints` (2, 21, 3) for frame `index` (a user edit if `edited`) with `result` cached."""

    def apply_flag(self, index: int, flag: str | None) -> None:
        """Set (or clear, None) the review flag of frame `index`."""


class Command:
    text = ""

    def apply(self, session: CommandTarget) -> None:
        raise NotImplementedError

    def revert(self, session: CommandTarget) -> None:
        raise NotImplementedError


@dataclass
class KeypointEdit(Command):
    """Replace the 2D keypoints of a frame (2, 21, 3).

    `before` is what was shown before the edit; `had_edit` says whether it was itself an
    edit (else it was the computer's original keypoints). The frame's cached result is
    set aside on apply and restored on revert, so undo needs no recomputation.
    """

    index: int
    before: np.ndarray
    after: np.ndarray
    had_edit: bool
    text: str = "Move keypoint"
    _result_before: FrameResult | None = field(default=None, repr=False)
    _result_after: FrameResult | None = field(default=None, repr=False)

    def apply(self, session: CommandTarget) -> None:
        self._result_before = session.results.get(self.index)
        session.apply_keypoints(self.index, self.after, edited=True, result=self._result_after)

    def revert(self, session: CommandTarget) -> None:
        self._result_after = session.results.get(self.index)
        session.apply_keypoints(self.index, self.before, edited=self.had_edit, result=self._result_before)


@dataclass
class EditGroup(Command):
    """Several commands as one step (an interpolation's keypoint edits over a gap; an edit with the
    verification it clears): applied in order, reverted in reverse order."""

    edits: list[Command]
    text: str = "Edit keypoints"

    def apply(self, session: CommandTarget) -> None:
        for edit in self.edits:
            edit.apply(session)

    def revert(self, session: CommandTarget) -> None:
        for edit in reversed(self.edits):
            edit.revert(session)


@dataclass
class FlagChange(Command):
    """Set a frame's review flag: "verified", "rejected" or None (cleared)."""

    index: int
    before: str | None
    after: str | None

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"Mark frame {self.index + 1} {self.after or 'unreviewed'}"

    def apply(self, session: CommandTarget) -> None:
        session.apply_flag(self.index, self.after)

    def revert(self, session: CommandTarget) -> None:
        session.apply_flag(self.index, self.before)


class UndoStack:
    """Linear history: pushing after some undos drops the undone commands."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self._done: list[Command] = []
        self._undone: list[Command] = []

    def push(self, command: Command, session: CommandTarget) -> None:
        command.apply(session)
        self._done.append(command)
        del self._done[: -self.limit]
        self._undone.clear()

    def undo(self, session: CommandTarget) -> Command | None:
        if not self._done:
            return None
        command = self._done.pop()
        command.revert(session)
        self._undone.append(command)
        return command

    def redo(self, session: CommandTarget) -> Command | None:
        if not self._undone:
            return None
        command = self._undone.pop()
        command.apply(session)
        self._done.append(command)
        return command

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""
