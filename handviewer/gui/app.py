"""Launching the desktop app: `run(video_path, computer_factory, screenshot=None, frame=None)`.

``computer_factory(frames, video_path, predictions=None) -> FrameComputer`` builds the compute
core for an opened video (the lead plugs in ``handviewer.pipeline.VideoPipeline``). It is
called inside the warm-up worker (`DeferredComputer`), so importing torch and building models
never delays the window: the first frame's image shows at once, the 3D when computed.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

import handviewer
from handviewer.assets import asset_path

from handviewer.gui import review_list
from handviewer.gui.dialogs import Dialogs
from handviewer.gui.main_window import MainWindow
from handviewer.gui.screenshot import render_window_screenshot
from handviewer.session import RecentFiles, Session, open_session

ComputerFactory = Callable[..., object]


def open_frames(path: str):
    """`handviewer.io.open_frames` (video file, image folder or image)."""
    try:
        from handviewer.io import open_frames as _open
    except ImportError:
        from handviewer.io.video import open_frames as _open
    return _open(path)


class DeferredComputer:
    """A FrameComputer built on first use, in the worker thread (normally inside `warm_up`)."""

    def __init__(self, factory: Callable[[], object], frame_count: int) -> None:
        self._factory, self.frame_count = factory, frame_count
        self._computer = None
        self._lock = threading.Lock()

    @property
    def computer(self):
        with self._lock:
            if self._computer is None:
                self._computer = self._factory()
            return self._computer

    def warm_up(self):
        yield 0.0, "Starting the compute core"
        result = yield from self.computer.warm_up()
        return result

    def __getattr__(self, name: str):
        return getattr(self.computer, name)


class App:
    """Opens videos into windows; one window per video (opening another replaces it)."""

    def __init__(self, computer_factory: ComputerFactory, dialogs_factory=Dialogs, recent: RecentFiles | None = None,
                 window_kwargs: dict | None = None, interactive: bool = True) -> None:
        """interactive: False for scripted runs (--screenshot): nothing may ask the user (an autosave
        is then left in place and reported in the session's load_warnings, not offered)."""
        self.computer_factory = computer_factory
        self.interactive = interactive
        self.dialogs_factory = dialogs_factory
        self.recent = recent or RecentFiles()
        self.window_kwargs = window_kwargs or {}
        if not interactive:  # a scripted run saves nothing, not even an autosave (it may run past the interval)
            self.window_kwargs.setdefault("autosave_ms", 0)
        self.window: MainWindow | None = None
        self.replacing = False  # a window is being replaced: its closing must not end the app
        self.on_last_closed: Callable[[], None] | None = None  # called when the user closed the app's window

    def open(self, video_path: str | None, predictions: str | None = None, frame: int | None = None) -> MainWindow:
        """Open a video (with its saved project or autosave, if any) in a new window and show it."""
        if video_path is None:
            frames, session, computer = None, Session(), _NoComputer()
        else:
            frames, make = self._source(video_path, predictions)
            session = self._session_for(video_path, frames)
            computer = DeferredComputer(make, frames.frame_count)
            self.recent.add(video_path)
        if frame is not None:
            session.set_frame(frame)
        old, self.window = self.window, MainWindow(
            computer, frames, session, dialogs=self.dialogs_factory(None), recent=self.recent,
            on_open=self.open_replacing, on_open_predictions=self.open_predictions, **self.window_kwargs)
        self.window.dialogs.parent = self.window
        review_list.attach(self.window)  # a review list's window: its queue and panel (others: nothing)
        self.window.closed.connect(self._window_closed)
        self.window.show()
        if old is not None:
            old.close()
        return self.window

    def _source(self, path: str, predictions: str | None):
        """(frames, computer maker) of a video, an image folder, or a clean-dataset review list (by content)."""
        if review_list.is_review_path(path):
            return review_list.review_source(path, self.window, self.interactive)
        frames = open_frames(path)
        return frames, lambda: self.computer_factory(frames, path, predictions=predictions)

    def _window_closed(self) -> None:
        if not self.replacing and self.on_last_closed is not None:
            self.on_last_closed()

    def open_replacing(self, video_path: str) -> None:
        self.replacing = True
        try:
            if self.window is not None and not self.window.close():
                return  # the user cancelled closing the current video
            self.window = None
            try:
                self.open(video_path)
            except review_list.ReviewOpenCancelled:
                self.open(None).say("Opening the review list was cancelled", important=True)
            except Exception as exc:  # noqa: BLE001 - report, keep the app alive
                what = "review list" if review_list.is_review_path(video_path) else "video"
                self.open(None).show_error(f"Cannot open {what}", f"{video_path}: {exc}")
        finally:
            self.replacing = False

    def open_predictions(self, path: str) -> None:
        if self.window is None or not self.window.session.video_path:
            return
        video = self.window.session.video_path
        self.replacing = True
        try:
            if self.window.close():
                self.window = None
                self.open(video, predictions=path)
        finally:
            self.replacing = False

    def _session_for(self, video_path: str, frames) -> Session:
        """The saved session (or, if the user says so, the autosave); damaged files are set aside
        and reported in ``session.load_warnings``, which the window shows."""
        ask = self._ask_recover(video_path) if self.interactive else None
        session = open_session(video_path, frames.frame_count, frames.fps, ask_recover=ask)
        session.video_path = str(video_path)
        session.frame_count, session.fps = frames.frame_count, frames.fps or session.fps
        session.current = min(session.current, max(frames.frame_count - 1, 0))
        return session

    def _ask_recover(self, video_path: str) -> Callable[[Path], bool]:
        def ask(autosave: Path) -> bool:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(autosave.stat().st_mtime))
            return self.dialogs_factory(None).ask_recover(Path(video_path).name, when)
        return ask


class _NoComputer:
    """Stands in before any video is opened: nothing to compute."""

    frame_count = 0

    def warm_up(self):
        return
        yield

    def __getattr__(self, name: str):
        raise RuntimeError("no video is open")


def run(video_path: str | None = None, computer_factory: ComputerFactory | None = None,
        screenshot: str | None = None, frame: int | None = None, predictions: str | None = None,
        timeout_s: float = 300.0, argv: list[str] | None = None, refined: bool = False) -> int:
    """Start the app (blocks until it quits). Returns the exit code.

    screenshot : save an image of the window once the frame's 3D result is shown, then quit
                 (for `handviewer demo --screenshot PATH`; use under Xvfb on a headless machine).
    frame      : the frame to show first. Without `screenshot`, None or 0 keep the frame the saved
                 session was on (the command line passes 0 when --frame is not given).
    refined    : with `screenshot`: refine the frame first and show before and after side by side,
                 with the occupancy density of the right hand (the README's picture).
    A screenshot run never asks anything: an autosave is not recovered (it is kept) and what went
    wrong reading the session files is printed to stderr as "handviewer: warning: ..." lines.
    """
    if computer_factory is None:
        raise ValueError("computer_factory is required (e.g. handviewer.pipeline.VideoPipeline)")
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("handviewer")
    app.setApplicationVersion(handviewer.__version__)
    icon = asset_path("icon.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    # Our own event loop, ended when the user closes the window (not while one video replaces
    # another), rather than app.exec()/app.quit(): run() then also works inside an existing app.
    loop = QEventLoop()
    hv = App(computer_factory, interactive=screenshot is None)
    hv.on_last_closed = lambda: loop.exit(0)
    window = hv.open(video_path, predictions=predictions, frame=start_frame(frame, screenshot))
    outcome: dict = {}
    if screenshot is not None:
        for warning in window.session.load_warnings:
            print(f"handviewer: warning: {warning}", file=sys.stderr)
        outcome = _screenshot_when_ready(window, screenshot, timeout_s, refined, frame)
    code = loop.exec()
    if outcome.get("error"):
        # A screenshot run is scripted: say what went wrong on one line and fail, never exit 0.
        print(f"handviewer: error: {outcome['error']}", file=sys.stderr)
        return 1
    return code


def start_frame(frame: int | None, screenshot: str | None) -> int | None:
    """The frame `run` opens on: a screenshot run shows the frame asked for; otherwise None or 0 (what the
    command line passes when --frame is not given) keep the frame the saved session was on (None)."""
    return frame if screenshot is not None else (frame or None)


def _screenshot_when_ready(window: MainWindow, path: str, timeout_s: float, refined: bool = False,
                           frame: int | None = None) -> dict:
    """Save the window to `path` once the frame's result is shown, then close it. Returns a dict that
    holds "error" (a message) when the screenshot could not be made."""
    state = {"done": False, "deadline": time.monotonic() + timeout_s, "refining": False}
    count = window.model.frame_count
    out_of_range = frame is not None and window.frames is not None and not 0 <= frame < count
    if out_of_range:
        # Reported once the window has started up as usual (closing it earlier upsets VTK's views).
        state["error"] = f"frame {frame} is out of range: the video has {count} frames (0-{count - 1})"
        refined = False  # nothing to refine for a picture that will not be taken

    def check() -> None:
        if state["done"]:
            return
        model = window.model
        failed = model.current in window.controller.failed
        ready = window.frames is None or model.current in model.results or failed
        idle = not window.controller.queue.is_busy()
        if refined and ready and idle and not failed and window.frames is not None:
            result = model.results[model.current]
            if result.metrics_after is None:
                if not state["refining"]:
                    state["refining"] = True
                    model.set_side_by_side(True)
                    model.set_layer("density", True)
                    window.refine_frame()
                ready = False
        if (ready and idle) or time.monotonic() > state["deadline"]:
            state["done"] = True
            timer.stop()
            window.session.dirty = False  # a screenshot run saves nothing and asks nothing
            if refined:
                window.scene_view.camera_preset("front")  # fill the narrower side-by-side views
            try:
                if not out_of_range:
                    render_window_screenshot(window, path)
            except OSError as exc:
                state["error"] = str(exc)
            finally:
                window.close()

    timer = QTimer(window)
    timer.timeout.connect(check)
    timer.start(100)
    return state
