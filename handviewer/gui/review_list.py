"""Opening a `clean-dataset` review list (`review.json`) in the app, and the panel that says why the
shown frame is listed.

The app recognises a review list by its content (`handviewer.dataset.review.is_review_file`) wherever
it opens a path (File > Open review list…, `handviewer REVIEW.json`, Recent, drag and drop). The list
and its annotation files are read in a worker with a progress dialog and Cancel (`load_review`); the
window then shows the listed frames one by one, in the review queue (every listed frame is queued:
`Session.listed`), each with the hands before (the given annotation) and after (the corrected file),
both fitted by IK (`ReviewComputer`), and the image when it was found (else a picture saying
"no image" and why). Accept / Reject flag the frames in the session saved beside the list.
No maths here: the core computes, this module shows.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, Slot
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QProgressDialog, QVBoxLayout, QWidget

from handviewer.gui.session_model import SessionModel
from handviewer.gui.workers import GeneratorWorker

REVIEW_FILTER = "Review lists (review.json *.json);;All files (*)"


class ReviewOpenCancelled(Exception):
    """The user cancelled reading a review list."""


def is_review_path(path: str | Path) -> bool:
    from handviewer.dataset.review import is_review_file

    return is_review_file(path)


def load_with_progress(path: str | Path, parent: QWidget | None = None, interactive: bool = True):
    """The `ReviewList` of `path`, read in a worker while a progress dialog (with Cancel) shows. Raises
    ValueError (the core's message, naming the file) when it cannot be read, ReviewOpenCancelled when
    the user cancelled."""
    from handviewer.dataset.review import load_review

    worker = GeneratorWorker(load_review, str(path), label="Reading the review list")
    dialog = None
    if interactive:
        dialog = QProgressDialog(f"Reading the review list {Path(path).name}…", "Cancel", 0, 1000, parent)
        dialog.setWindowTitle("Opening a review list")
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        dialog.setMinimumDuration(300)  # a small list opens without a flash of dialog
        dialog.canceled.connect(worker.cancel)
        bridge = _DialogProgress(dialog)
        worker.progress.connect(bridge.show)  # queued: a slot of a GUI-thread object, not a lambda
    loop = QEventLoop()
    worker.done.connect(loop.quit)
    worker.start()
    if worker.outcome is None:
        loop.exec()
    if dialog is not None:
        dialog.close()
        dialog.deleteLater()
    if worker.outcome == "finished":
        return worker.result
    if worker.outcome == "cancelled":
        raise ReviewOpenCancelled(f"{path}: opening cancelled")
    raise ValueError((worker.error or "unknown error").split("\n")[0])


class _DialogProgress(QObject):
    def __init__(self, dialog: QProgressDialog) -> None:
        super().__init__(dialog)
        self.dialog = dialog

    @Slot(float, str)
    def show(self, fraction: float, message: str) -> None:
        self.dialog.setValue(int(fraction * 1000))
        self.dialog.setLabelText(message)


def review_source(path: str | Path, parent: QWidget | None = None, interactive: bool = True):
    """(frames, computer maker) of a review list for `App.open`: the frames now (the list read with
    progress), the compute core built later in the warm-up worker."""
    from handviewer.dataset.review_images import ReviewFrames

    review = load_with_progress(path, parent, interactive)
    frames = ReviewFrames(review)

    def make():
        from handviewer.dataset.review_compute import ReviewComputer
        from handviewer.threads import apply_thread_choice

        apply_thread_choice()  # in the worker, before the models load: see handviewer.threads
        return ReviewComputer(review)

    return frames, make


def attach(window) -> None:
    """Turn a window opened on a review list into one for reviewing it (nothing for other sources):
    every listed frame is queued, the panel saying why it is listed sits on top of the Review tab,
    which is shown, and the view shows before and after side by side."""
    from handviewer.dataset.review_images import ReviewFrames

    if not isinstance(window.frames, ReviewFrames):
        return
    review = window.frames.review
    window.session.listed = {i: entry.why() for i, entry in enumerate(review.entries)}
    window.listed_panel = ListedPanel(window.model, window.frames, window.review_panel)
    window.review_panel.layout().insertWidget(0, window.listed_panel)
    window.review_panel.refresh()
    window.show_side_tab(window.review_tab)
    if not window.session.side_by_side:
        window.model.set_side_by_side(True)
        window.session.dirty = False  # a view choice of ours, not the user's edit


class ListedPanel(QGroupBox):
    """The shown listed frame: where it comes from, why it is listed, what the job measured, and
    whether its image was found. Subscribes to the frame; owns no state."""

    def __init__(self, model: SessionModel, frames, parent=None) -> None:
        super().__init__("On the review list", parent)
        self.model, self.frames = model, frames
        layout = QVBoxLayout(self)
        self.where = QLabel()
        self.why = QLabel()
        self.why.setStyleSheet("font-weight: bold")
        form = QFormLayout()
        self.figures = {key: QLabel() for key in ("volume", "depth", "moved", "status")}
        for key, label in (("volume", "Volume (cm³)"), ("depth", "Depth (mm)"), ("moved", "Moved (mm)"),
                           ("status", "Written")):
            form.addRow(label, self.figures[key])
        self.image = QLabel()
        self.files = QLabel()
        self.files.setStyleSheet("color: #9aa0a6")
        for label in (self.where, self.why, self.image, self.files):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.where)
        layout.addWidget(self.why)
        layout.addLayout(form)
        layout.addWidget(self.image)
        layout.addWidget(self.files)
        self.setToolTip("What clean-dataset measured (fitted meshes): before = the given annotation, after = the "
                        "corrected file. The Metrics tab measures both again in the app.")
        model.frame_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args) -> None:
        review, index = self.frames.review, self.model.current
        if not 0 <= index < len(review):
            return
        entry = review.entries[index]
        files = review.sets[int(review.set_index[index])]
        camera = review.camera_names[index]
        self.where.setText(f"Listed frame {index + 1} of {len(review)}: {entry.file}, capture {entry.capture}, "
                           f"frame {entry.frame}" + (f", camera {camera}" if camera else ", no camera"))
        self.why.setText(f"Why: {entry.why()}")
        self.figures["volume"].setText(f"{_num(entry.volume_before_cm3, 3)} → {_num(entry.volume_after_cm3, 3)}")
        self.figures["depth"].setText(f"{_num(entry.depth_before_mm, 1)} → {_num(entry.depth_after_mm, 1)}")
        self.figures["moved"].setText(f"largest {_num(entry.moved_max_mm, 1)}, mean {_num(entry.moved_mean_mm, 1)}")
        self.figures["status"].setText({"corrected": "corrected (refined joints written)",
                                        "unresolved": "as given (refinement did not lower the overlap)"}.get(
                                            entry.status, entry.status or "—"))
        note = self.frames.note(index)
        self.image.setText(note or f"Image: {review.images[index]}")
        self.files.setText(f"Given: {files.input}\nCorrected: {files.output}")

    def text(self) -> str:
        """All the panel says, for tests and the log."""
        return "\n".join(w.text() for w in (self.where, self.why, *self.figures.values(), self.image, self.files))


def _num(value: float, digits: int) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


__all__ = ["REVIEW_FILTER", "ListedPanel", "ReviewOpenCancelled", "attach", "is_review_path", "load_with_progress",
           "review_source"]
