"""`MainWindow(computer, frames, session)`: frame + 2D overlay on the left, 3D on the right,
timeline and strip chart below, metrics and settings on the side, menus and shortcuts.

The window only wires widgets to the session model and the compute controller; it holds
no state of its own beyond Qt objects. Anything that asks the user goes through `dialogs`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QMainWindow, QProgressBar, QPushButton, QScrollArea, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

import handviewer
from handviewer.gui.add_hand_menu import build_add_hand_menu
from handviewer.gui.controller import ComputeController
from handviewer.gui.dataset_actions import DatasetActions
from handviewer.gui.detect_banner import DetectBanner
from handviewer.gui.dialogs import Dialogs
from handviewer.gui.export import ExportOptions, export_job
from handviewer.gui.frame_view import FrameView
from handviewer.gui.message_log import MessageLog, StatusLine
from handviewer.gui.panels import MetricsPanel, SettingsPanel, WarningBanner
from handviewer.gui.review_panel import ReviewPanel
from handviewer.gui.scene_view import SceneView
from handviewer.gui.session_model import SessionModel
from handviewer.gui.timeline import Timeline
from handviewer.gui.workers import Job
from handviewer.session import Autosaver, RecentFiles, Session, discard_recovery, project_paths, save_session

AUTOSAVE_MS = 30_000
SIDE_MIN_WIDTH = 225  # px: its contents fit (tabs scroll); at 900 px the views keep about 660 px


def format_eta(seconds: float | None) -> str:
    """'about 1 min 20 s left' (None: ''); coarse, as estimates from progress are."""
    if seconds is None:
        return ""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"about {max(seconds, 1)} s left"
    if seconds < 3600:
        return f"about {seconds // 60} min {seconds % 60:02d} s left"
    return f"about {seconds // 3600} h {seconds % 3600 // 60:02d} min left"


class MainWindow(DatasetActions, QMainWindow):
    """on_open(path): open a video (File > Open, Recent, drag and drop), provided by the app.
    on_open_predictions(path): load keypoints/3D predictions for this video, provided by the app.
    Signal closed(): the window accepted a close and released its workers and 3D views."""

    closed = Signal()

    def __init__(self, computer, frames, session: Session | SessionModel, *, dialogs: Dialogs | None = None,
                 recent: RecentFiles | None = None, on_open: Callable[[str], None] | None = None,
                 on_open_predictions: Callable[[str], None] | None = None, autosave_ms: int = AUTOSAVE_MS,
                 auto_start: bool = True) -> None:
        super().__init__()
        self.computer, self.frames = computer, frames
        self.model = session if isinstance(session, SessionModel) else SessionModel(session, self)
        self.session: Session = self.model.session
        self.dialogs = dialogs or Dialogs(self)
        self.recent = recent or RecentFiles()
        self.on_open, self.on_open_predictions = on_open, on_open_predictions
        self.controller = ComputeController(computer, self.model, parent=self)
        self.autosaver = Autosaver(self.session)
        self.auto_start = auto_start
        self._started = self._start_scheduled = self._shut_down = False
        self.last_error: str = ""
        self._build_widgets()
        self._build_menus()
        self._wire()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave_now)
        if autosave_ms > 0:
            self.autosave_timer.start(autosave_ms)
        self.setAcceptDrops(True)
        self.resize(1400, 860)
        self._update_title()

    # ------------------------------------------------------------------ construction
    def _build_widgets(self) -> None:
        size = tuple(self.frames.size) if self.frames is not None else None
        self.frame_view = FrameView(self.model, self.frames)
        self.scene_view = SceneView(self.model, self.controller, image_size=size)
        self.metrics_panel = MetricsPanel(self.model)
        self.settings_panel = SettingsPanel(self.model)
        self.review_panel = ReviewPanel(self.model)
        self.message_log = MessageLog()
        self.timeline = Timeline(self.model)
        views = QSplitter(Qt.Orientation.Horizontal)
        views.addWidget(self.frame_view)
        views.addWidget(self.scene_view)
        views.setStretchFactor(0, 1)
        views.setStretchFactor(1, 1)
        views.setSizes([520, 520])
        side = self.side_panel = QTabWidget()
        side.addTab(self.metrics_panel, "Metrics")
        self.review_tab = QScrollArea()  # at 600 px high the queue's buttons would be squeezed
        self.review_tab.setWidgetResizable(True)
        self.review_tab.setFrameShape(QScrollArea.Shape.NoFrame)
        self.review_tab.setWidget(self.review_panel)
        side.addTab(self.review_tab, "Review")
        side.addTab(self.settings_panel, "Settings")
        side.addTab(self.message_log, "Log")
        side.setMinimumWidth(SIDE_MIN_WIDTH)
        top = self.top_splitter = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(views)
        top.addWidget(side)
        top.setStretchFactor(0, 1)
        top.setCollapsible(0, False)
        top.setSizes([1060, 340])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        self.warning_banner = WarningBanner()
        layout.addWidget(self.warning_banner)
        self.detect_banner = DetectBanner()
        layout.addWidget(self.detect_banner)
        layout.addWidget(top, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.status_label = StatusLine(self.message_log)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMinimumWidth(200)
        self.progress_bar.setMaximumWidth(480)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.controller.cancel_long_work)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress_bar)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self._show_progress(False)

    def _action(self, menu, text: str, slot, shortcut=None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcuts([QKeySequence(s) for s in (shortcut if isinstance(shortcut, list) else [shortcut])])
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        menu.addAction(action)
        self.actions_by_name[text.rstrip("…")] = action
        return action

    def _build_menus(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        m, a = self.menuBar(), self._action
        file = m.addMenu("&File")
        a(file, "Open video…", self.open_video_dialog, "Ctrl+O")
        a(file, "Open folder…", self.open_folder_dialog)
        a(file, "Open keypoints/predictions…", self.open_predictions_dialog)
        a(file, "Open review list…", self.open_review_list_dialog)
        self.recent_menu = file.addMenu("Recent files")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        a(file, "Save session", self.save, "Ctrl+S")
        a(file, "Export…", self.export_dialog, "Ctrl+E")
        file.addSeparator()
        a(file, "Quit", self.close, "Ctrl+Q")
        edit = m.addMenu("&Edit")
        self.undo_action = a(edit, "Undo", self.model.undo, "Ctrl+Z")
        self.redo_action = a(edit, "Redo", self.model.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        edit.addSeparator()
        a(edit, "Mark verified", self.mark_verified, "V")
        a(edit, "Mark rejected", lambda: self.model.set_flag(self.model.current, "rejected"), "X")
        build_add_hand_menu(self, edit)
        review = m.addMenu("&Review")
        a(review, "Accept: verify and go to the next in the queue", self.accept_and_next, "A")
        a(review, "Reject: mark rejected and go to the next in the queue", self.reject_and_next, "R")
        a(review, "Next in the review queue", lambda: self.go_in_queue(1), "]")
        a(review, "Previous in the review queue", lambda: self.go_in_queue(-1), "[")
        review.addSeparator()
        a(review, "Show the review queue", lambda: self.show_side_tab(self.review_tab))
        view = m.addMenu("&View")
        self.refined_action = a(view, "Show refined (before/after)", self.model.set_show_refined, "B", True)
        self.side_action = a(view, "Side by side", self.model.set_side_by_side, "S", True)
        view.addSeparator()
        self.overlay_actions = {}
        for name, text, key in (("outline2d", "Mesh outline on the image", "O"), ("parts2d", "Part segmentation on the image", "G")):
            action = a(view, text, lambda on, n=name: self.model.set_layer(n, on), key, True)
            action.setChecked(self.frame_view.layer_visible(name))
            self.overlay_actions[name] = action
        view.addSeparator()
        self.side_panel_action = a(view, "Side panel", self.set_side_panel_visible, "F9", True)
        self.side_panel_action.setChecked(True)
        play = m.addMenu("&Playback")
        a(play, "Play/Pause", self.timeline.toggle_play, "Space")
        a(play, "Previous frame", lambda: self.model.step(-1), "Left")
        a(play, "Next frame", lambda: self.model.step(1), "Right")
        a(play, "First frame", lambda: self.model.set_frame(0), "Home")
        a(play, "Last frame", lambda: self.model.set_frame(self.model.frame_count - 1), "End")
        a(play, "Next frame with intersections", lambda: self.next_with_intersections(1), "N")
        a(play, "Previous frame with intersections", lambda: self.next_with_intersections(-1), "P")
        a(play, "Worst frame (largest intersection)", self.worst_frame, "W")
        compute = m.addMenu("&Compute")
        a(compute, "Refine this frame", self.refine_frame, "Ctrl+R")
        a(compute, "Refine all", self.refine_all, "Ctrl+Shift+R")
        a(compute, "First pass over all frames", self.first_pass)
        a(compute, "Detect hands in this frame", self.detect_hands_in_frame)
        a(compute, "Detect hands in all frames", self.detect_hands_in_all_frames)
        a(compute, "Cancel", self.controller.cancel_long_work, "Escape")
        help_menu = m.addMenu("&Help")
        a(help_menu, "Keyboard shortcuts", self.show_shortcuts, "F1")
        a(help_menu, "Guide", self.show_guide)
        a(help_menu, "About handviewer", self.about)
        self.help_windows: dict[str, object] = {}

    def _wire(self) -> None:
        self.settings_panel.refine_button.clicked.connect(self.refine_frame)
        self.settings_panel.refine_all_button.clicked.connect(self.refine_all)
        self.review_panel.accept_button.clicked.connect(self.accept_and_next)
        self.review_panel.reject_button.clicked.connect(self.reject_and_next)
        self.review_panel.refine_button.clicked.connect(self.refine_frame)
        self.review_panel.undo_button.clicked.connect(self.model.undo)
        self.review_panel.category_clicked.connect(self.next_in_category)
        self.controller.no_keypoints.connect(self.detect_banner.show)
        self.controller.frame_detected.connect(self._apply_detected)
        self.detect_banner.detect_frame.connect(self.detect_hands_in_frame)
        self.detect_banner.detect_all.connect(self.detect_hands_in_all_frames)
        self.controller.error.connect(self.show_error)
        self.controller.status.connect(self.say)
        self.controller.input_warnings.connect(self.warning_banner.show_warnings)
        self.controller.input_notes.connect(self.warning_banner.show_notes)
        q = self.controller.queue
        q.started.connect(self._on_job_started)
        q.suspended.connect(self._on_job_suspended)
        q.progress.connect(self._on_job_progress)
        q.job_done.connect(self._on_job_done)
        self.model.dirty_changed.connect(lambda _d: self._update_title())
        self.model.history_changed.connect(self._update_history)
        self.model.view_changed.connect(self._sync_view_actions)
        self.model.reset.connect(self._sync_view_actions)
        # A keypoint edit makes the last job's message ("Refining frame 3: done") stale: say so at once.
        self.model.keypoints_changed.connect(
            lambda index, _kp: self.say(f"Frame {index}: 2D keypoints changed", important=True))
        self._update_history()
        self._sync_view_actions()
        if self.session.load_warnings:  # what went wrong reading the session files (set aside, not recovered)
            self.warning_banner.show_warnings(list(self.session.load_warnings))
            self.say(f"⚠ {self.session.load_warnings[0]}", important=True)

    # ------------------------------------------------------------------ start / stop
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._start_scheduled and self.auto_start:
            self._start_scheduled = True
            QTimer.singleShot(0, self.start)  # after the window is on screen

    def start(self) -> None:
        """Load models, replay saved keypoint edits, compute the shown frame (all in the worker)."""
        if self._started or self._shut_down:
            return
        self._started = True
        self.controller.warm_up()
        self.controller.push_edits()
        self.controller.check_keypoints()
        self.controller.request_frame()
        self.controller.first_pass()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self._shut_down and self.session.dirty and self.session.video_path:
            answer = self.dialogs.ask_save_changes(Path(self.session.video_path).name,
                                                   project_paths(self.session.video_path).project.name)
            if answer == "cancel" or (answer == "save" and not self.save()):
                event.ignore()
                return
            if answer == "discard":
                discard_recovery(self.session.video_path)
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()

    def shutdown(self) -> None:
        """Stop timers and workers and release the 3D views (idempotent)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.autosave_timer.stop()
        self.timeline.stop()
        self.controller.queue.shutdown(3000)
        self.scene_view.close_views()
        self.model.detach()

    # ------------------------------------------------------------------ commands
    def refine_frame(self) -> None:
        if self.model.frame_count > 0 and not self._say_if_handless("refine"):
            self.controller.refine_frame()

    def mark_verified(self) -> None:
        if self.model.frame_count > 0 and not self._say_if_handless("verify"):
            self.model.set_flag(self.model.current, "verified")

    def _say_if_handless(self, what: str) -> bool:
        """Whether the shown frame is known to have no hand (then say so): refining or verifying it
        would mark an empty estimate as done."""
        result = self.session.results.get(self.model.current)
        if result is None or result.before.present().any():
            return False
        self.say(f"Frame {self.model.current} has no hands to {what}: add or correct its 2D keypoints first",
                 important=True)
        return True

    def refine_all(self) -> None:
        if self.model.frame_count > 0:
            self.controller.refine_all()

    def say(self, text: str, important: bool = False) -> None:
        """A status message (kept in the Log tab; an important one stays a few seconds)."""
        self.status_label.say(text, important)

    def save(self) -> bool:
        try:
            path = save_session(self.session)
        except (OSError, ValueError) as exc:
            self.show_error("Saving failed", str(exc))
            return False
        self.autosaver.reset()
        self.say(f"Saved {path.name}", important=True)
        return True

    def autosave_now(self) -> None:
        try:
            path = self.autosaver.maybe_save()
        except (OSError, ValueError) as exc:
            self.say(f"Autosave failed: {exc}", important=True)
            return
        if path is not None:
            self.say(f"Autosaved to {path.name}")

    def open_video_dialog(self) -> None:
        path = self.dialogs.open_video()
        if path:
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        path = self.dialogs.open_folder()
        if path:
            self.open_path(path)

    def open_review_list_dialog(self) -> None:
        """A clean-dataset review.json: its listed frames, before and after (`gui.review_list`)."""
        path = self.dialogs.open_review_list()
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> None:
        if self.on_open is None:
            self.show_error("Cannot open", "This window was started without a way to open videos.")
        else:
            self.on_open(str(path))

    def open_predictions_dialog(self) -> None:
        path = self.dialogs.open_predictions()
        if path and self.on_open_predictions is not None:
            self.on_open_predictions(path)
        elif path:
            self.show_error("Cannot open", "Loading keypoints/predictions is not available in this window.")

    def export_dialog(self) -> None:
        default = str(Path(self.session.video_path).with_suffix("")) + "_export" if self.session.video_path else "."
        options = self.dialogs.export_options(default)
        if options is not None:
            self.export(options)

    def export(self, options: ExportOptions) -> Job:
        frames = self.session.frames_for(options.frames)
        job = Job("export", export_job, (self.computer, dict(self.session.results), frames, options,
                                         dict(self.session.flags), asdict(self.session.settings)),
                  label=f"Exporting {len(frames)} frames", show_progress=True,
                  on_partial=self.model.set_results,
                  preemptible=True,
                  on_result=lambda out: self.say(f"Exported {len(frames)} frame(s) to {out}", important=True),
                  on_error=lambda message: self.show_error("Export failed", message))
        return self.controller.queue.submit(job)

    def about(self) -> None:
        self.dialogs.about("About handviewer", f"handviewer {handviewer.__version__}\n\n"
                           "View, measure and resolve intersections between two 3D hands.")

    @Slot(str, str)
    def show_error(self, title: str, message: str) -> None:
        self.last_error = f"{title}: {message}"
        self.say(f"⚠ {title}: {message.splitlines()[0] if message else ''}", important=True)
        self.dialogs.show_error(title, message)

    # ------------------------------------------------------------------ UI state
    def _update_title(self) -> None:
        name = Path(self.session.video_path).name if self.session.video_path else "no video"
        self.setWindowTitle(f"handviewer {handviewer.__version__} — {name}{' *' if self.session.dirty else ''}")

    def _update_history(self) -> None:
        h = self.session.history
        self.undo_action.setEnabled(h.can_undo())
        self.redo_action.setEnabled(h.can_redo())
        self.undo_action.setText(f"Undo {h.undo_text()}".strip())
        self.redo_action.setText(f"Redo {h.redo_text()}".strip())

    def _sync_view_actions(self) -> None:
        pairs = [(self.refined_action, self.session.show_refined), (self.side_action, self.session.side_by_side)]
        pairs += [(action, self.frame_view.layer_visible(name)) for name, action in self.overlay_actions.items()]
        for action, value in pairs:
            action.blockSignals(True)
            action.setChecked(value)
            action.blockSignals(False)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.recent.items()
        for path in items:
            action = self.recent_menu.addAction(path)
            action.setEnabled(os.path.exists(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not items:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _show_progress(self, visible: bool) -> None:
        self.progress_bar.setVisible(visible)
        self.cancel_button.setVisible(visible)

    @Slot(object)
    def _on_job_started(self, job: Job) -> None:
        if job.show_progress:
            self.progress_bar.setValue(int(job.fraction * 1000))  # a resumed job goes on where it was
            self._progress_text(job)
            self._show_progress(True)

    @Slot(object)
    def _on_job_suspended(self, job: Job) -> None:
        if job.show_progress:
            self.progress_bar.setFormat(f"{job.label}: paused for this frame")

    @Slot(object, float, str)
    def _on_job_progress(self, job: Job, fraction: float, message: str) -> None:
        if job.show_progress:
            self.progress_bar.setValue(int(fraction * 1000))
            self._progress_text(job)
            self.say(message)

    def _progress_text(self, job: Job) -> None:
        eta = format_eta(job.eta_s())
        text = f"{job.label} %p%" + (f", {eta}" if eta else "")
        self.progress_bar.setFormat(text)
        # Wide enough for its text (it was clipped), within what a 900 px window leaves
        shown = text.replace("%p%", "100%")
        self.progress_bar.setMinimumWidth(min(max(200, self.progress_bar.fontMetrics().horizontalAdvance(shown) + 30), 480))
        self.progress_bar.setToolTip(f"{job.label} {job.fraction:.0%}" + (f", {eta}" if eta else ""))

    @Slot(object)
    def _on_job_done(self, job: Job) -> None:
        running = self.controller.queue.running
        if job.show_progress and not (running is not None and running.show_progress):
            self._show_progress(False)
            if job.state == "cancelled":
                self.say(f"{job.label}: cancelled", important=True)
            elif job.state == "finished" and job.kind in ("refine", "refine_all", "warm_up", "first_pass"):
                self.say(f"{job.label}: done" + self._first_pass_summary(job), important=job.kind != "warm_up")

    def _first_pass_summary(self, job: Job) -> str:
        if job.kind != "first_pass":
            return ""
        n = sum(self.session.is_intersecting(i) for i in range(self.model.frame_count))
        return f"; {n} of {self.model.frame_count} frames intersect (N / P to visit them, W the worst)"

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])
