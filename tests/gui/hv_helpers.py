"""Helpers for the GUI tests: a fake Dialogs object and waits on the real window."""

from __future__ import annotations


class FakeDialogs:
    """Stands in for handviewer.gui.dialogs.Dialogs: records what would be shown, answers from attributes."""

    def __init__(self) -> None:
        self.parent = None
        self.errors: list[tuple[str, str]] = []
        self.abouts: list[str] = []
        self.video: str | None = None
        self.folder: str | None = None
        self.predictions: str | None = None
        self.export: object | None = None
        self.recover = True
        self.save_answer = "discard"
        self.asked: list[str] = []
        self.save_prompts: list[tuple[str, str]] = []  # (video name, session file) of each close prompt

    def open_video(self):
        return self.video

    def open_folder(self):
        return self.folder

    def open_predictions(self):
        return self.predictions

    def export_options(self, default_dir):
        self.asked.append("export")
        return self.export

    def ask_recover(self, video_name, saved_at):
        self.asked.append("recover")
        return self.recover

    def ask_save_changes(self, name, session_file=""):
        self.asked.append("save")
        self.save_prompts.append((name, session_file))
        return self.save_answer

    def show_error(self, title, message):
        self.errors.append((title, message))

    def about(self, title, text):
        self.abouts.append(text)


def wait_result(qtbot, window, index=None, refined=False, timeout=10_000):
    """Wait until frame `index` (default: current) has a cached result (with `after` if refined)."""
    def ready():
        i = window.session.current if index is None else index
        r = window.session.results.get(i)
        assert r is not None and (not refined or r.after is not None)
    qtbot.waitUntil(ready, timeout=timeout)
    return window.session.results[window.session.current if index is None else index]


def wait_idle(qtbot, window, timeout=10_000):
    """Wait until the window has started its work and the worker has nothing left to do."""
    qtbot.waitUntil(lambda: window._started and not window.controller.queue.is_busy(), timeout=timeout)
